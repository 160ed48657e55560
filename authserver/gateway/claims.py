"""The validated access token, as gateways see it (RFC 9068 §2.2 claims)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidToken

__all__ = ["AccessToken", "validate_access_token"]


def _string(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidToken(f"The access token has no valid {name} claim.")
    return value


def _timestamp(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    # bool is an int in Python; a JSON true is not a time
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidToken(f"The access token has no valid {name} claim.")
    return int(value)


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InvalidToken(f"The access token has no valid {name} claim.")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class AccessToken:
    """What a gateway needs to know about a validated access token.

    Built only by the validators, after the signature (or the introspection
    answer), ``iss``, ``aud`` and the times have been checked.
    """

    #: the client the token was issued to (RFC 9068 §2.2 ``client_id``)
    client_id: str
    #: ``sub``; for the client credentials grant, the client id again (RFC 9068 §2.2)
    subject: str
    #: the granted scope values: ``export``, ``subscription``, ``org:<TecCom ID>``
    scopes: frozenset[str]
    #: TecCom IDs the token may act for, sorted
    organizations: tuple[str, ...]
    #: the token's unique id (RFC 7519 §4.1.7)
    jti: str
    issuer: str
    audience: tuple[str, ...]
    #: seconds since the epoch
    issued_at: int
    expires_at: int
    not_before: int | None = None

    def has_scope(self, scope: str) -> bool:
        """Whether *scope* (e.g. ``"export"``) was granted."""
        return scope in self.scopes

    def allows_organization(self, teccom_id: str) -> bool:
        """Whether the token may act for the organization *teccom_id*."""
        return teccom_id in self.organizations

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> AccessToken:
        """Build from verified claims (a JWT payload or an RFC 7662 answer).

        :raises InvalidToken: a claim is missing or has the wrong type.
        """
        audience = claims.get("aud")
        if isinstance(audience, str):
            audiences: tuple[str, ...] = (audience,)
        else:
            audiences = _strings(audience, "aud")
        scope = claims.get("scope")
        if not isinstance(scope, str):
            raise InvalidToken("The access token has no valid scope claim.")
        organizations = _strings(claims.get("organizations"), "organizations")
        return cls(
            client_id=_string(claims, "client_id"),
            subject=_string(claims, "sub"),
            scopes=frozenset(scope.split()),
            organizations=tuple(sorted(organizations)),
            jti=_string(claims, "jti"),
            issuer=_string(claims, "iss"),
            audience=audiences,
            issued_at=_timestamp(claims, "iat"),
            expires_at=_timestamp(claims, "exp"),
            not_before=_timestamp(claims, "nbf") if claims.get("nbf") is not None else None,
        )


def validate_access_token(
    access_token: AccessToken,
    *,
    issuer: str,
    audience: str,
    leeway: int,
    max_lifetime: int,
    now: float,
) -> AccessToken:
    """The checks both validators apply to a token's claims (RFC 9068 §4
    steps 3-8, RFC 7662 §4): ``iss`` exactly, ``aud`` contains *audience*,
    ``exp``, ``nbf`` and ``iat`` with *leeway* seconds of clock skew, and a
    lifetime no longer than *max_lifetime*.

    :raises InvalidToken: with a fixed description of the first failed check.
    """
    if access_token.issuer != issuer:
        raise InvalidToken("The access token is from another issuer.")
    if audience not in access_token.audience:
        raise InvalidToken("The access token is not meant for this API.")
    if access_token.expires_at <= now - leeway:
        raise InvalidToken("The access token expired.")
    if access_token.issued_at > now + leeway or (
        access_token.not_before is not None and access_token.not_before > now + leeway
    ):
        raise InvalidToken("The access token is not valid yet.")
    if access_token.expires_at - access_token.issued_at > max_lifetime:
        raise InvalidToken("The access token lives too long.")
    return access_token
