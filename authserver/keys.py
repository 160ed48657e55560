"""Token signing keys: store, rotate, load and publish them (RFC 7517 JWK Set).

Keys live in the database so that every instance signs with the same key and
publishes the same JWKS; making a key, encrypting it at rest (Fernet, when
``AUTHSERVER_KEY_ENCRYPTION_KEY`` is set) and its JWK are
:mod:`authserver.key_material`. A process loads the keys once as
key objects (never a PEM string per signature) and keeps them for
``KEY_CACHE_SECONDS``, reloading early when asked for an unknown ``kid``.

Life of a key (see :class:`~authserver.models.SigningKey`):

* published in the JWKS from the moment it is stored;
* signs from ``activates_at`` until a newer key activates (only the newest
  activated key ever signs);
* stays published until ``retire_at`` = the newer key's activation + the
  longest token lifetime, so every token it signed can still be verified.

This module takes plain arguments (an engine, a session, settings) and reads no
Flask globals, so it is unit-testable on its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import MultiFernet
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from .key_material import (
    ALGORITHMS,
    LoadedKey,
    SigningKeyError,
    active_key,
    jwks,
    key_cipher,
    load_key,
    new_signing_key,
)
from .models import SigningKey
from .models._base import utcnow

log = logging.getLogger(__name__)

# -- the database --------------------------------------------------------------

_TABLE = SigningKey.__table__
_COLUMNS = (
    _TABLE.c.kid,
    _TABLE.c.alg,
    _TABLE.c.private_key,
    _TABLE.c.encrypted,
    _TABLE.c.public_jwk,
    _TABLE.c.activates_at,
    _TABLE.c.retire_at,
)


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
    now: datetime | None = None,
) -> SigningKey:
    """Publish a new key now, to sign from ``now + activation_delay``.

    Every older key that is not yet retiring gets ``retire_at`` = the new key's
    activation + *max_token_lifetime*: it keeps signing until the new key takes
    over and stays published until every token it signed has expired. The
    caller commits (together with its audit record).
    """
    now = now or utcnow()
    _lock_keys(session.connection())
    key = new_signing_key(
        alg, cipher, now=now, activates_at=now + timedelta(seconds=activation_delay)
    )
    retire_at = key.activates_at + timedelta(seconds=max_token_lifetime)
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


# -- the process cache ---------------------------------------------------------


class KeyStore:
    """This process's view of the signing keys.

    :param engine: where the keys are stored.
    :param alg: the algorithm for keys this process makes (first key, rotation).
    :param encryption_key: ``AUTHSERVER_KEY_ENCRYPTION_KEY`` or ``None``.
    :param cache_seconds: how long a loaded view is used before reloading.
    :param refresh_interval: the shortest time between reloads forced by an unknown ``kid``.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        alg: str = "ES256",
        encryption_key: str | None = None,
        cache_seconds: float = 30,
        refresh_interval: float = 1.0,
    ) -> None:
        if alg not in ALGORITHMS:
            raise ValueError(f"unsupported signing algorithm {alg!r}")
        self.engine = engine
        self.alg = alg
        self.cipher = key_cipher(encryption_key)
        self.cache_seconds = cache_seconds
        self.refresh_interval = refresh_interval
        self._lock = threading.Lock()
        self._keys: tuple[LoadedKey, ...] = ()
        self._by_kid: dict[str, LoadedKey] = {}
        self._loaded_at: float | None = None

    def refresh(self) -> None:
        """Reload the keys from the database (making the first one if there is none)."""
        with self._lock:
            self._load()

    def _load(self) -> None:
        rows = self._read()
        if not rows:
            ensure_key(self.engine, self.alg, self.cipher)
            rows = self._read()
        cached = self._by_kid
        keys = []
        for row in rows:
            old = cached.get(row.kid)
            if old is not None:  # keep the parsed key objects; only the times may change
                keys.append(
                    LoadedKey(
                        old.kid,
                        old.alg,
                        old.private_key,
                        old.public_key,
                        old.public_jwk,
                        row.activates_at,
                        row.retire_at,
                    )
                )
            else:
                keys.append(load_key(row, self.cipher))
        self._keys = tuple(keys)
        self._by_kid = {key.kid: key for key in keys}
        self._loaded_at = time.monotonic()

    def _read(self) -> list[Any]:
        with self.engine.connect() as connection:
            rows = list(connection.execute(select(*_COLUMNS)))
            connection.rollback()
        return rows

    def _current(self, max_age: float | None = None) -> tuple[LoadedKey, ...]:
        max_age = self.cache_seconds if max_age is None else max_age
        loaded_at = self._loaded_at
        if loaded_at is None or time.monotonic() - loaded_at >= max_age:
            with self._lock:
                if self._loaded_at is None or time.monotonic() - self._loaded_at >= max_age:
                    self._load()
        return self._keys

    def signing_key(self, now: datetime | None = None) -> LoadedKey:
        """The key to sign with now.

        :raises SigningKeyError: no key is active (e.g. every key is still pending).
        """
        current = self._current()
        now = now or utcnow()
        key = active_key(current, now)
        if key is None:
            with self._lock:
                self._load()
            key = active_key(self._keys, now)
        if key is None:
            raise SigningKeyError("no active signing key")
        return key

    def verification_key(self, kid: str, now: datetime | None = None) -> LoadedKey | None:
        """The published key *kid*, reloading (at most once per ``refresh_interval``) if unknown."""
        now = now or utcnow()
        self._current()
        key = self._by_kid.get(kid)
        if key is None:
            with self._lock:
                if (
                    self._loaded_at is None
                    or time.monotonic() - self._loaded_at >= self.refresh_interval
                ):
                    self._load()
            key = self._by_kid.get(kid)
        if key is None or not key.is_published(now):
            return None
        return key

    def jwks(self, now: datetime | None = None) -> dict[str, Any]:
        """The JWK Set to publish, read afresh (one small query; parsed keys are
        reused): a key published by ``keys rotate`` shows at once in every process.
        """
        return jwks(self._current(0), now or utcnow())
