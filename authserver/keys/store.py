"""This process's view of the signing keys (:class:`KeyStore`).

A process loads the keys once as key objects (never a PEM string per
signature) and keeps them for ``KEY_CACHE_SECONDS``, reloading early when asked
for an unknown ``kid``; the first key is made on first use. Plain arguments
(an engine, settings); no Flask globals, so it is unit-testable on its own.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from ..models import SigningKey
from ..models._base import utcnow
from .encryption import key_cipher
from .errors import SigningKeyError
from .material import ALGORITHMS, LoadedKey, active_key, jwks, load_key
from .rotation import ensure_key

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
