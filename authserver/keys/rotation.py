"""Signing keys in the database: the first key, rotation, the state of each
key, and purging retired keys.

Keys live in the database so that every instance signs with the same key and
publishes the same JWKS. Life of a key (see :class:`~authserver.models.SigningKey`):

* published in the JWKS from the moment it is stored;
* signs from ``activates_at`` until a newer key activates (only the newest
  activated key ever signs);
* stays published until ``retire_at``: the newer key's activation, plus the
  longest token lifetime, plus the time a process may keep using its cached
  view of the keys; so every token it signed can still be verified;
* once retired, it is deleted by :func:`purge_retired` (``authserver keys purge``).

:func:`newest_key_age` tells a scheduled rotation whether one is due, and
:func:`reencrypt` moves every private key under a new key-encryption key.

Plain arguments (an engine, a session, settings); no Flask globals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.orm import Session

from ..models import SigningKey
from ..models._base import utcnow
from .errors import KeyEncryptionError
from .material import LoadedKey, new_signing_key

log = logging.getLogger(__name__)

_TABLE = SigningKey.__table__


def _lock_keys(connection: Connection) -> None:
    """Serialize writers of the key table within the current transaction.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: take the database
    write lock now (``BEGIN IMMEDIATE`` semantics) with a no-op write, so that
    the following read already sees every committed key.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(7204315001)"))
    else:
        connection.execute(_TABLE.update().where(text("1 = 0")).values(alg=_TABLE.c.alg))


def ensure_key(engine: Engine, alg: str, cipher: MultiFernet | None) -> None:
    """Make the first signing key if the database has none.

    Safe when several processes race on an empty table: the check and the
    insert run under a lock, so exactly one key is made.
    """
    with engine.connect() as connection:
        if connection.execute(select(_TABLE.c.kid).limit(1)).first() is not None:
            connection.rollback()
            return
        connection.rollback()
    with Session(engine) as session, session.begin():
        _lock_keys(session.connection())
        if session.execute(select(_TABLE.c.kid).limit(1)).first() is not None:
            return
        key = new_signing_key(alg, cipher, now=utcnow())
        session.add(key)
        log.info("made the first signing key %s (%s)", key.kid, alg)


def rotate(
    session: Session,
    *,
    alg: str,
    cipher: MultiFernet | None,
    activation_delay: int,
    max_token_lifetime: int,
    key_cache_seconds: int = 0,
    now: datetime | None = None,
) -> SigningKey:
    """Publish a new key now, to sign from ``now + activation_delay``.

    Every older key that is not yet retiring gets ``retire_at`` = the new key's
    activation + *max_token_lifetime* + *key_cache_seconds*: it keeps signing
    until the new key takes over (in a process whose view of the keys is up to
    *key_cache_seconds* old, that long after the activation) and stays
    published until every token it signed has expired. The caller commits
    (together with its audit record).
    """
    now = now or utcnow()
    _lock_keys(session.connection())
    key = new_signing_key(
        alg, cipher, now=now, activates_at=now + timedelta(seconds=activation_delay)
    )
    retire_at = key.activates_at + timedelta(seconds=max_token_lifetime + key_cache_seconds)
    for old in session.execute(select(SigningKey).where(SigningKey.retire_at.is_(None))).scalars():
        old.retire_at = retire_at
    session.add(key)
    session.flush()
    return key


def list_keys(session: Session) -> list[SigningKey]:
    """Every stored key, oldest activation first."""
    return list(
        session.execute(
            select(SigningKey).order_by(SigningKey.activates_at, SigningKey.kid)
        ).scalars()
    )


def key_state(
    key: SigningKey | LoadedKey, keys: Iterable[SigningKey | LoadedKey], now: datetime
) -> str:
    """``pending``, ``active``, ``retiring`` (published, no longer signing) or ``retired``."""
    if key.retire_at is not None and key.retire_at <= now:
        return "retired"
    if key.activates_at > now:
        return "pending"
    newer = [
        other
        for other in keys
        if other.kid != key.kid
        and other.activates_at <= now
        and (other.retire_at is None or other.retire_at > now)
        and (other.activates_at, other.kid) > (key.activates_at, key.kid)
    ]
    return "retiring" if newer else "active"


def purge_retired(session: Session, now: datetime | None = None) -> int:
    """Delete keys whose ``retire_at`` has passed; returns how many."""
    now = now or utcnow()
    result = session.execute(_TABLE.delete().where(_TABLE.c.retire_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def newest_key_age(session: Session, now: datetime | None = None) -> timedelta | None:
    """How long ago the newest key was made (``None``: there is no key).

    A pending key counts: a rotation already under way is not repeated.
    """
    newest = session.execute(select(func.max(SigningKey.created_at))).scalar_one()
    if newest is None:
        return None
    return (now or utcnow()) - newest


def reencrypt(session: Session, cipher: MultiFernet) -> list[str]:
    """Encrypt every stored private key under *cipher*'s first key
    (``MultiFernet.rotate``: decrypted with any of its keys), and encrypt
    the keys stored unencrypted; the ``kid`` of each key rewritten.

    All or nothing: a key that none of *cipher*'s keys decrypts raises before
    anything is written. The caller commits (with its audit record).

    :raises KeyEncryptionError: a stored key cannot be decrypted with *cipher*.
    """
    _lock_keys(session.connection())
    stored = list(session.execute(select(SigningKey).order_by(SigningKey.kid)).scalars())
    rewritten: list[tuple[SigningKey, bytes]] = []
    for key in stored:
        if key.encrypted:
            try:
                rewritten.append((key, cipher.rotate(key.private_key)))
            except InvalidToken:
                raise KeyEncryptionError(
                    f"signing key {key.kid} cannot be decrypted with AUTHSERVER_KEY_ENCRYPTION_KEY"
                ) from None
        else:
            rewritten.append((key, cipher.encrypt(key.private_key)))
    for key, data in rewritten:
        key.private_key = data
        key.encrypted = True
    session.flush()
    return [key.kid for key, _ in rewritten]
