"""The access-token format: the one place that makes and reads tokens.

Access tokens are JWTs after RFC 9068 ("JSON Web Token (JWT) Profile for OAuth
2.0 Access Tokens"): header ``typ: at+jwt``, ``alg``, ``kid`` (§2.1); claims
``iss``, ``exp``, ``aud``, ``sub``, ``client_id``, ``iat``, ``jti`` (§2.2),
``scope`` (§2.2.3) and this server's ``organizations`` (the sorted TecCom IDs
the token is good for). For the client credentials grant ``sub`` is the
client id (§2.2: "the subject ... SHOULD correspond to the client_id").

Tokens are not stored; see :mod:`authserver.services.tokens` for revocation.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from jwt.algorithms import Algorithm, get_default_algorithms
from jwt.utils import base64url_encode

from .keys.material import LoadedKey

#: RFC 9068 §2.1
TOKEN_TYP = "at+jwt"
#: RFC 6750
TOKEN_TYPE = "Bearer"
#: scope values for the two APIs; an ``org:<TecCom ID>`` value names an organization
API_SCOPES = ("export", "subscription")
ORG_SCOPE_PREFIX = "org:"
#: the longest token this server issues or accepts back (characters): it fits,
#: with client credentials, in the 16 KiB request body of introspection and
#: revocation, and under the gateway validator's 16 KiB bound. About 440
#: six-digit organizations fit; a client with more asks for some with ``org:``.
MAX_TOKEN_LENGTH = 12 * 1024
#: claims every token of this server has
REQUIRED_CLAIMS = ("iss", "sub", "client_id", "aud", "iat", "exp", "jti", "scope", "organizations")


@dataclass(frozen=True)
class IssuedToken:
    """A signed access token and what the token response says about it."""

    access_token: str
    expires_in: int
    scope: str
    claims: dict[str, Any]

    def response(self) -> dict[str, Any]:
        """The successful token response body (RFC 6749 §5.1)."""
        return {
            "access_token": self.access_token,
            "token_type": TOKEN_TYPE,
            "expires_in": self.expires_in,
            "scope": self.scope,
        }


def format_scope(api_scopes: Sequence[str], organizations: Sequence[str]) -> str:
    """The scope string of a grant: the API scopes, then one ``org:<id>`` per organization."""
    apis = [name for name in API_SCOPES if name in api_scopes]
    return " ".join(apis + [ORG_SCOPE_PREFIX + teccom_id for teccom_id in sorted(organizations)])


def parse_scope(scope: str) -> tuple[list[str], list[str]]:
    """Split a granted scope string into API scopes and organizations."""
    apis: list[str] = []
    organizations: list[str] = []
    for value in scope.split():
        if value.startswith(ORG_SCOPE_PREFIX):
            organizations.append(value.removeprefix(ORG_SCOPE_PREFIX))
        else:
            apis.append(value)
    return apis, organizations


def issue(
    key: LoadedKey,
    *,
    issuer: str,
    audience: str,
    client_id: str,
    api_scopes: Sequence[str],
    organizations: Sequence[str],
    lifetime: int,
    now: float | None = None,
) -> IssuedToken:
    """Sign an access token for *client_id*.

    :param key: the active signing key (key objects, loaded once).
    :param lifetime: seconds from ``iat`` to ``exp``.
    """
    iat = int(now if now is not None else time.time())
    organizations = sorted(organizations)
    scope = format_scope(api_scopes, organizations)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": client_id,
        "client_id": client_id,
        "aud": audience,
        "iat": iat,
        "exp": iat + lifetime,
        "jti": secrets.token_urlsafe(16),
        "scope": scope,
        "organizations": organizations,
    }
    header, algorithm = _signer(key.kid, key.alg)
    payload = base64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = header + b"." + payload
    signature = base64url_encode(algorithm.sign(signing_input, key.private_key))
    return IssuedToken((signing_input + b"." + signature).decode(), lifetime, scope, claims)


@lru_cache(maxsize=64)
def _signer(kid: str, alg: str) -> tuple[bytes, Algorithm]:
    """The encoded JWS header (RFC 7515 §7.1) of *kid*'s tokens and PyJWT's
    algorithm for *alg*.

    The compact serialization is PyJWT's own, byte for byte (``jwt.encode``:
    the header's members sorted, no spaces; the claims in their order, no
    spaces; PyJWT's signature encoding), without the per-call work of merging
    the header and checking options again for every token.
    """
    fields = {"alg": alg, "kid": kid, "typ": TOKEN_TYP}
    header = base64url_encode(json.dumps(fields, separators=(",", ":"), sort_keys=True).encode())
    return header, get_default_algorithms()[alg]


def decode(
    token: str,
    *,
    keys: Callable[[str], LoadedKey | None],
    issuer: str,
    audience: str,
    now: float | None = None,
) -> dict[str, Any] | None:
    """The claims of a valid access token of this server, or ``None``.

    Valid means (RFC 9068 §4): ``typ`` is ``at+jwt``; ``kid`` names a published
    key and ``alg`` is that key's algorithm; the signature verifies; ``iss`` and
    ``aud`` are ours; ``exp`` is in the future; every claim this server sets is
    present with the right type. Live state (revocation, the client, its
    organizations) is checked by :mod:`authserver.services.tokens`.

    :param keys: finds the published key for a ``kid`` (``None``: unknown).
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        header = jwt.get_unverified_header(token)
        typ = header.get("typ")
        kid = header.get("kid")
        if not isinstance(typ, str) or typ.lower() not in (TOKEN_TYP, "application/" + TOKEN_TYP):
            return None
        if not isinstance(kid, str):
            return None
        key = keys(kid)
        if key is None or header.get("alg") != key.alg:
            return None
        claims: dict[str, Any] = jwt.decode(
            token,
            key.public_key,
            algorithms=[key.alg],
            audience=audience,
            issuer=issuer,
            options={"require": list(REQUIRED_CLAIMS), "verify_iat": False},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if not _well_formed(claims):
        return None
    current = now if now is not None else time.time()
    if claims["exp"] <= current:
        return None
    return claims


def _well_formed(claims: dict[str, Any]) -> bool:
    organizations = claims.get("organizations")
    return (
        isinstance(claims.get("sub"), str)
        and claims.get("client_id") == claims.get("sub")
        and isinstance(claims.get("jti"), str)
        and isinstance(claims.get("scope"), str)
        and _is_int(claims.get("iat"))
        and _is_int(claims.get("exp"))
        and isinstance(organizations, list)
        and all(isinstance(teccom_id, str) for teccom_id in organizations)
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and math.isfinite(value)
