"""Checks on the raw token string, done before any parsing or network use."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
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
    checked = validate_length(token, max_length)
    if not _B64TOKEN.fullmatch(checked):
        raise InvalidToken("The access token is malformed.")
    return checked


@dataclass(frozen=True)
class CompactJWS:
    """A compact JWS split into its parts; nothing in it is trusted yet."""

    header: dict[str, Any]
    #: ASCII ``BASE64URL(header) || '.' || BASE64URL(payload)`` (RFC 7515 §5.2)
    signing_input: bytes
    payload_segment: str
    signature: bytes

    def payload(self) -> dict[str, Any]:
        """The JWT claims set (only after the signature has been verified)."""
        return json_object(self.payload_segment)


def split_compact(token: Any, max_length: int) -> CompactJWS:
    """Split a compact JWS (RFC 7515 §7.1) with bounds; parse only the header.

    :raises InvalidToken: too long, not three non-empty base64url parts, or a
        header that is not a small JSON object.
    """
    token = validate_length(token, max_length)
    if not _COMPACT_JWS.fullmatch(token):
        raise InvalidToken("The access token is malformed.")
    header_segment, payload_segment, signature_segment = token.split(".")
    if len(header_segment) > MAX_HEADER_LENGTH:
        raise InvalidToken("The access token is malformed.")
    return CompactJWS(
        header=json_object(header_segment),
        signing_input=f"{header_segment}.{payload_segment}".encode("ascii"),
        payload_segment=payload_segment,
        signature=_b64decode(signature_segment),
    )


def _b64decode(segment: str) -> bytes:
    # the alphabet was checked by _COMPACT_JWS; only the length can still be wrong
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (ValueError, binascii.Error):
        raise InvalidToken("The access token is malformed.") from None


def json_object(segment: str) -> dict[str, Any]:
    """A base64url segment holding a JSON object (RFC 7515 §5.2 steps 2-4)."""
    try:
        value = json.loads(_b64decode(segment))
    except (ValueError, RecursionError):
        raise InvalidToken("The access token is malformed.") from None
    if not isinstance(value, dict):
        raise InvalidToken("The access token is malformed.")
    return value
