"""Checks on the raw token string, done before any parsing or network use."""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from .errors import InvalidToken

#: characters; our tokens are about 1 KiB, a client with hundreds of
#: organizations a few KiB
DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024
#: the most a gateway may be configured to accept
MAX_TOKEN_LENGTH_LIMIT = 64 * 1024
#: characters of the encoded JOSE header; ours is about 100
MAX_HEADER_LENGTH = 1024

#: RFC 7515 §7.1 compact serialization: three base64url parts, none empty
#: (an empty signature is how ``alg: none`` tokens usually look)
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
#: RFC 6750 §2.1 b64token
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def validate_length(token: Any, max_length: int) -> str:
    """Refuse anything that is not a string of at most *max_length* characters."""
    if not isinstance(token, str) or not token:
        raise InvalidToken("The access token is malformed.")
    if len(token) > max_length:
        raise InvalidToken("The access token is too long.")
    return token


def validate_b64token(token: Any, max_length: int) -> str:
    """An opaque bearer token (RFC 6750 §2.1 ``b64token``) of bounded length."""
    token = validate_length(token, max_length)
    if not _B64TOKEN.fullmatch(token):
        raise InvalidToken("The access token is malformed.")
    return token


def unverified_header(token: Any, max_length: int) -> dict[str, Any]:
    """The JOSE header of a compact JWS, parsed with bounds, not yet trusted.

    :raises InvalidToken: too long, not three non-empty base64url parts, or a
        header that is not a small JSON object.
    """
    token = validate_length(token, max_length)
    if not _COMPACT_JWS.fullmatch(token):
        raise InvalidToken("The access token is malformed.")
    encoded = token[: token.index(".")]
    if len(encoded) > MAX_HEADER_LENGTH:
        raise InvalidToken("The access token is malformed.")
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, RecursionError, binascii.Error):
        raise InvalidToken("The access token is malformed.") from None
    if not isinstance(header, dict):
        raise InvalidToken("The access token is malformed.")
    return header
