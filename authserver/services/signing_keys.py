"""Operator actions on the token signing keys, each with its audit record.

The key rules themselves live in :mod:`authserver.keys.rotation`; this module
commits a change together with its audit event (``signing_key.rotated``,
``signing_key.purged``, ``signing_key.reencrypted``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .. import keys
from ..extensions import db
from ..models import SigningKey
from ..models._base import utcnow
from . import audit


def rotate(config: Mapping[str, Any], ctx: audit.AuditContext) -> SigningKey:
    """Publish a new signing key, to sign after ``KEY_ACTIVATION_DELAY`` seconds.

    The previous key keeps signing until then and stays published until every
    token it signed has expired, counting the time a process may go on using
    its cached view of the keys (``KEY_CACHE_SECONDS``).
    """
    key = keys.rotate(
        db.session(),
        alg=config["SIGNING_ALG"],
        cipher=keys.key_cipher(config.get("KEY_ENCRYPTION_KEY")),
        activation_delay=int(config["KEY_ACTIVATION_DELAY"]),
        max_token_lifetime=int(config["MAX_TOKEN_LIFETIME"]),
        key_cache_seconds=int(config["KEY_CACHE_SECONDS"]),
    )
    audit.record(
        ctx,
        "signing_key.rotated",
        target=key.kid,
        details={"alg": key.alg, "activates_at": key.activates_at.isoformat()},
    )
    db.session.commit()
    return key


def rotate_if_older(
    config: Mapping[str, Any], ctx: audit.AuditContext, older_than: timedelta
) -> SigningKey | None:
    """:func:`rotate` when the newest key (a pending one included) was made
    more than *older_than* ago, or there is none; ``None`` when not due. For
    a scheduled job: running it more often than *older_than* is harmless."""
    age = keys.newest_key_age(db.session())
    if age is not None and age <= older_than:
        db.session.rollback()
        return None
    return rotate(config, ctx)


def reencrypt(config: Mapping[str, Any], ctx: audit.AuditContext) -> list[str]:
    """Encrypt every stored private key under the first ``KEY_ENCRYPTION_KEY``
    (the others only decrypt); audited as ``signing_key.reencrypted``.

    :raises KeyEncryptionError: no key-encryption key is configured, or a
        stored key cannot be decrypted with the configured ones (nothing changes).
    """
    cipher = keys.key_cipher(config.get("KEY_ENCRYPTION_KEY"))
    if cipher is None:
        raise keys.KeyEncryptionError(
            "set AUTHSERVER_KEY_ENCRYPTION_KEY to the new key, then the old one(s), comma-separated"
        )
    try:
        kids = keys.reencrypt(db.session(), cipher)
    except keys.KeyEncryptionError:
        db.session.rollback()
        raise
    audit.record(ctx, "signing_key.reencrypted", details={"keys": kids})
    db.session.commit()
    return kids


def purge_retired(ctx: audit.AuditContext, now: datetime | None = None) -> list[str]:
    """Delete the keys whose ``retire_at`` has passed (no token they signed is
    still valid, and no JWKS lists them); the ``kid`` of each, oldest first."""
    now = now or utcnow()
    retired = [
        key.kid
        for key in keys.list_keys(db.session())
        if key.retire_at is not None and key.retire_at <= now
    ]
    if retired:
        keys.purge_retired(db.session(), now)
        for kid in retired:
            audit.record(ctx, "signing_key.purged", target=kid)
    db.session.commit()
    return retired
