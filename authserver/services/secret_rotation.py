"""Rotating a client's secret (docs/rules.md, rules 2 and 3).

The old secret stops working at once, or at the end of a grace period of at
most 7 days; at most two secrets are ever live. A rotation may revoke every
token issued so far. Concurrent rotations are serialized by the client's row
lock, and a partial unique index allows one current secret per client.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from .. import credentials
from ..errors import ValidationError
from ..extensions import db
from ..models import Client, ClientSecret, User
from ..models._base import utcnow
from . import audit, notices
from .clients import lock_administered_client, lock_client, write_transaction

#: the longest grace period a rotated-out secret may keep working (docs/rules.md, rule 2)
MAX_GRACE_PERIOD_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class RotatedSecret:
    """The new secret (shown once) and when the previous one stops working."""

    client: Client
    client_secret: str
    previous_expires_at: datetime | None


def validate_grace_period(grace_period_seconds: object) -> int:
    """Return the grace period, or raise for one out of range (docs/rules.md, rule 3).

    :raises ValidationError: not an integer from 0 to 7 days.
    """
    if (
        isinstance(grace_period_seconds, bool)
        or not isinstance(grace_period_seconds, int)
        or not (0 <= grace_period_seconds <= MAX_GRACE_PERIOD_SECONDS)
    ):
        raise ValidationError(
            f"grace_period_seconds must be an integer from 0 to {MAX_GRACE_PERIOD_SECONDS}.",
            field="grace_period_seconds",
        )
    return grace_period_seconds


@write_transaction
def rotate_client_secret(
    client: Client,
    ctx: audit.AuditContext,
    *,
    grace_period_seconds: int = 0,
    revoke_tokens: bool = False,
) -> RotatedSecret:
    """Give *client* a new secret (docs/rules.md, rule 3), without a rights check:
    callers (the admin API, the demo start) check rights first.

    The previous current secret keeps working for *grace_period_seconds*
    (0: it stops at once); any older secret is dropped, so at most two are
    ever live. With *revoke_tokens*, every token issued so far stops working,
    and the call returns once the current second is over (up to a second), so
    that tokens made with the new secret are never among them.

    :raises ValidationError: the grace period is out of range.
    """
    validate_grace_period(grace_period_seconds)
    secret = credentials.generate_secret()
    secret_hash = credentials.hash_secret(secret)
    locked = lock_client(client.id)
    return _replace_secret(
        locked, secret, secret_hash, ctx, grace_period_seconds, bool(revoke_tokens)
    )


def _replace_secret(
    client: Client,
    secret: str,
    secret_hash: str,
    ctx: audit.AuditContext,
    grace_period_seconds: int,
    revoke_tokens: bool,
) -> RotatedSecret:
    """Swap the secrets of a *locked* client and commit."""
    now = utcnow()
    previous_expires_at: datetime | None = None
    current = (
        db.session.execute(
            db.select(ClientSecret)
            .where(ClientSecret.client_pk == client.id)
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )
    for old in current:
        if old.expires_at is None and grace_period_seconds > 0:
            old.expires_at = previous_expires_at = now + timedelta(seconds=grace_period_seconds)
        else:
            db.session.delete(old)
    # the old current secret must be gone or expiring before the new one
    # exists: a partial unique index allows one current secret per client
    db.session.flush()
    db.session.add(ClientSecret(client_pk=client.id, secret_hash=secret_hash, created_at=now))
    if revoke_tokens:
        client.tokens_invalid_before = now
    audit.record(
        ctx,
        "client.secret_rotated",
        client_id=client.client_id,
        details={
            "grace_period_seconds": grace_period_seconds,
            "previous_expires_at": previous_expires_at.isoformat() if previous_expires_at else None,
            "revoke_tokens": revoke_tokens,
        },
    )
    notices.secret_rotated(
        client, ctx.actor, grace_end=previous_expires_at, tokens_revoked=revoke_tokens
    )
    db.session.commit()
    if revoke_tokens:
        _wait_out_the_second(now)
    return RotatedSecret(client, secret, previous_expires_at)


def _wait_out_the_second(revoked_at: datetime) -> None:
    """Return only once the second of *revoked_at* is over.

    Tokens carry whole-second ``iat``, so a token issued later in the same
    second as a revoke-all would count as revoked
    (:mod:`authserver.services.tokens`). The new secret is handed out after
    that second, so no token made with it can fall into it.
    """
    remaining = math.floor(revoked_at.timestamp()) + 1 - time.time()
    if remaining > 0:
        time.sleep(remaining)


@write_transaction
def rotate_secret(
    user: User,
    client_id: str,
    ctx: audit.AuditContext,
    *,
    grace_period_seconds: int = 0,
    revoke_tokens: bool = False,
) -> RotatedSecret:
    """Rotate the secret of a client that *user* administers (docs/rules.md, rule 3).

    Concurrent rotations are serialized by the client's row lock (and a
    partial unique index allows one current secret), so they never leave
    more than one current secret.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    :raises ValidationError: the grace period is out of range.
    """
    if not isinstance(revoke_tokens, bool):
        raise ValidationError("revoke_tokens must be true or false.", field="revoke_tokens")
    validate_grace_period(grace_period_seconds)
    client = lock_administered_client(user, client_id, ctx, "client.rotate_secret")
    secret = credentials.generate_secret()
    secret_hash = credentials.hash_secret(secret)
    return _replace_secret(client, secret, secret_hash, ctx, grace_period_seconds, revoke_tokens)
