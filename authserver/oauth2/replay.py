"""The replay store of client assertions: each ``jti`` is used once
(RFC 7523 §3 item 7, RFC 7521 §5.2), whatever instance sees it.

The database (table ``used_assertions``) by default; Redis (``SET NX`` with an
expiry) when ``AUTHSERVER_REDIS_URL`` is set, falling back to the database
while Redis is unreachable. Entries expire with the assertion, so the store
holds at most the assertions of the last few minutes (the lifetime of an
assertion is bounded, :mod:`.private_key_jwt`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from ..models import UsedAssertion

log = logging.getLogger(__name__)

#: seconds between two purges of expired rows by one process
PURGE_INTERVAL = 60.0


def replay_key(client_id: str, jti: str) -> str:
    """The store's key for *jti* of *client_id* (fixed length, never the raw value)."""
    raw = (
        client_id.encode("utf-8", "surrogatepass") + b"\x00" + jti.encode("utf-8", "surrogatepass")
    )
    return hashlib.sha256(raw).hexdigest()


class DatabaseReplayStore:
    """Used ``jti`` values in the database: the primary key decides a race,
    so of two instances that see the same assertion at once, one wins.

    :param engine: the autocommit engine to use (one ``INSERT``, no
        transaction), called on first use (it needs the app's database).
    """

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self.engine = engine
        self._next_purge = 0.0
        self._lock = threading.Lock()

    def first_use(self, client_id: str, jti: str, expires_at: float) -> bool:
        """Record the use; ``False`` when it was used before."""
        key = replay_key(client_id, jti)
        expires = datetime.fromtimestamp(expires_at, UTC)
        self._purge_now_and_then()
        try:
            with self.engine().begin() as connection:
                connection.execute(insert(UsedAssertion).values(key=key, expires_at=expires))
        except IntegrityError:
            return False
        return True

    def _purge_now_and_then(self) -> None:
        now = time.monotonic()
        if now < self._next_purge or not self._lock.acquire(blocking=False):
            return
        try:
            self._next_purge = now + PURGE_INTERVAL
            with self.engine().begin() as connection:
                connection.execute(
                    delete(UsedAssertion).where(UsedAssertion.expires_at < datetime.now(UTC))
                )
        finally:
            self._lock.release()


class RedisReplayStore:
    """Used ``jti`` values in Redis (``SET key 1 NX EXAT exp``), falling back
    to *fallback* while Redis is unreachable."""

    def __init__(self, url: str, fallback: DatabaseReplayStore) -> None:
        import redis  # installed with limits[redis]

        self.redis: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.error: type[Exception] = redis.RedisError
        self.fallback = fallback

    def first_use(self, client_id: str, jti: str, expires_at: float) -> bool:
        key = "authserver:assertion:" + replay_key(client_id, jti)
        try:
            return bool(self.redis.set(key, b"1", nx=True, exat=int(expires_at) + 1))
        except self.error as error:
            log.warning("replay store unavailable (%s); using the database", type(error).__name__)
            return self.fallback.first_use(client_id, jti, expires_at)


ReplayStore = DatabaseReplayStore | RedisReplayStore


def make_replay_store(engine: Callable[[], Engine], redis_url: str | None) -> ReplayStore:
    """Redis when *redis_url* is set, else the database."""
    database = DatabaseReplayStore(engine)
    return RedisReplayStore(redis_url, database) if redis_url else database
