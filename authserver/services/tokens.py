"""Introspection (RFC 7662) and revocation (RFC 7009) of access tokens.

Tokens are not stored, so whether one is *active* is worked out from the token
itself and the live state of its client, every time:

* the token verifies (:func:`authserver.tokens.decode`: signature with a
  published key, ``typ``, ``iss``, ``aud``, not expired);
* its ``jti`` is not revoked;
* its client still exists and is a partner client, and the token was issued
  after the client's ``tokens_invalid_before`` (``iat`` has whole seconds, so
  a token from the same second as that instant counts as revoked: the safe
  side; a revoke-all rotation hands out the new secret only after that
  second, so tokens made with it are never caught);
* at least one of its organizations is still assigned to the client and
  enabled; an active answer lists only those.

Anything else is exactly ``{"active": false}`` (RFC 7662 §2.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.exc import IntegrityError

from .. import tokens
from ..errors import Forbidden
from ..extensions import db
from ..keys import LoadedKey
from ..models import KIND_PARTNER, Assignment, Client, RevokedToken
from ..models._base import utcnow
from . import audit

INACTIVE: dict[str, Any] = {"active": False}


class RevocationNotAllowed(Forbidden):
    """The caller may not revoke this token (RFC 7009 §2.1)."""

    title = "Revocation not allowed"
    type_suffix = "revocation-not-allowed"


@dataclass(frozen=True)
class TokenSettings:
    """What it takes to read this server's tokens."""

    issuer: str
    audience: str
    keys: Callable[[str], LoadedKey | None]

    def decode(self, token: str, now: datetime) -> dict[str, Any] | None:
        """The claims of *token* if it is a valid token of this server at *now*
        (:func:`authserver.tokens.decode`), else ``None``."""
        return tokens.decode(
            token,
            keys=self.keys,
            issuer=self.issuer,
            audience=self.audience,
            now=now.timestamp(),
        )


@dataclass(frozen=True)
class ActiveToken:
    """A token that is active now, with its still-enabled organizations."""

    claims: dict[str, Any]
    organizations: list[str]
    #: the name of its client, now
    client_name: str = ""

    def introspection(self) -> dict[str, Any]:
        """The RFC 7662 §2.2 answer; ``scope`` names only the organizations still granted."""
        claims = self.claims
        apis, _ = tokens.parse_scope(claims["scope"])
        return {
            "active": True,
            "client_id": claims["client_id"],
            "client_name": self.client_name,
            "sub": claims["sub"],
            "scope": tokens.format_scope(apis, self.organizations),
            "iss": claims["iss"],
            "aud": claims["aud"],
            "iat": claims["iat"],
            "exp": claims["exp"],
            "jti": claims["jti"],
            "token_type": tokens.TOKEN_TYPE,
            "organizations": self.organizations,
        }


def active_token(
    token: str, settings: TokenSettings, now: datetime | None = None
) -> ActiveToken | None:
    """The token if it is active now (see the module docstring), else ``None``."""
    now = now or utcnow()
    claims = settings.decode(token, now)
    if claims is None:
        return None
    return _live(claims, now)


def _live(claims: dict[str, Any], now: datetime) -> ActiveToken | None:
    rows = db.session.execute(
        select(Client.kind, Client.tokens_invalid_before, Assignment.teccom_id, Client.name)
        .select_from(Client)
        .outerjoin(
            Assignment,
            and_(Assignment.client_pk == Client.id, Assignment.enabled.is_(True)),
        )
        .where(Client.client_id == claims["client_id"])
    ).all()
    if not rows or rows[0].kind != KIND_PARTNER:
        return None
    invalid_before = rows[0].tokens_invalid_before
    if invalid_before is not None and claims["iat"] <= invalid_before.timestamp():
        return None
    enabled = {row.teccom_id for row in rows if row.teccom_id is not None}
    organizations = sorted(enabled.intersection(claims["organizations"]))
    if not organizations:
        return None
    if db.session.get(RevokedToken, claims["jti"]) is not None:
        return None
    return ActiveToken(claims, organizations, rows[0].name)


def introspect(
    token: str,
    settings: TokenSettings,
    *,
    caller_id: str,
    caller_kind: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """RFC 7662 §2.2 answer for the caller *caller_id* of kind *caller_kind*
    (already authenticated).

    A gateway may introspect any token; a partner client only its own (another
    client's token is ``{"active": false}``, as §2.2 allows: "the protected
    resource is not allowed to introspect this particular token").
    """
    try:
        active = active_token(token, settings, now)
        if active is None or not (
            caller_kind != KIND_PARTNER or active.claims["client_id"] == caller_id
        ):
            return dict(INACTIVE)
        return active.introspection()
    finally:
        db.session.rollback()


def revoke(
    token: str,
    settings: TokenSettings,
    ctx: audit.AuditContext,
    *,
    caller_id: str,
    caller_kind: str,
    now: datetime | None = None,
) -> bool:
    """Revoke *token* for the caller *caller_id* of kind *caller_kind* (RFC 7009
    §2.1); ``True`` if a revocation was recorded.

    * A token that does not verify or has expired is ignored (§2.2: "invalid
      tokens do not cause an error response").
    * A client may revoke its own tokens: the ``jti`` is kept as revoked until
      the token would have expired; revoking twice is harmless.
    * A token issued to another client is refused (§2.1: "verifies whether the
      token was issued to the client making the revocation request. If this
      validation fails, the request is refused"). Gateways are resource
      servers: no token is ever issued to them, so they may not revoke at all.

    Expired revocation records are purged on the way.

    :raises RevocationNotAllowed: a gateway, or another client's token.
    """
    now = now or utcnow()
    if caller_kind != KIND_PARTNER:
        raise RevocationNotAllowed("Gateways cannot revoke tokens.")
    claims = settings.decode(token, now)
    if claims is None:
        return False
    if claims["client_id"] != caller_id:
        raise RevocationNotAllowed("The token was issued to another client.")
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    if db.session.get(RevokedToken, claims["jti"]) is not None:
        db.session.commit()
        return False
    db.session.add(
        RevokedToken(
            jti=claims["jti"],
            client_id=caller_id,
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            revoked_at=now,
        )
    )
    audit.record(ctx, "token.revoked", client_id=caller_id, target=claims["jti"])
    try:
        db.session.commit()
    except IntegrityError:  # revoked at the same moment by another request
        db.session.rollback()
        return False
    return True
