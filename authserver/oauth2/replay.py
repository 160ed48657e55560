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
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, insert

from ..models import UsedAssertion
from .raw_sql import Duplicate, RawStatement

log = logging.getLogger(__name__)

#: seconds between two purges of expired rows by one process
PURGE_INTERVAL = 60.0


def replay_key(client_id: str, jti: str) -> str:
    """The store's key for *jti* of *client_id* (fixed length, never the raw value)."""
    raw = (
        client_id.encode("utf-8", "surrogatepass") + b"\x00" + jti.encode("utf-8", "surrogatepass")
    )
    return hashlib.sha256(raw).hexdigest()


def _relaxed_commits(dbapi_connection: Any, connection_record: Any) -> None:
    """Commit without waiting for the disk (see :class:`DatabaseReplayStore`)."""
    cursor = dbapi_connection.cursor()
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: no fsync per commit
    else:
        cursor.execute("SET synchronous_commit TO off")
    cursor.close()


class DatabaseReplayStore:
    """Used ``jti`` values in the database: the primary key decides a race,
    so of two instances that see the same assertion at once, one wins.

    Each use is one autocommit ``INSERT`` on an engine of its own whose
    commits do not wait for the disk (SQLite ``synchronous=NORMAL`` in WAL
    mode, PostgreSQL ``synchronous_commit=off``): waiting would cost more than
    verifying the assertion's signature. The uniqueness check itself is
    immediate; only a crash or power cut may forget the uses of its last
    moments, and those assertions expire within minutes anyway.

    :param engine: the app's engine (for its URL), called on first use.
    """

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self.base_engine = engine
        self._engine: Engine | None = None
        table = UsedAssertion.__table__
        self._insert = RawStatement(
            self.engine, insert(table), {"expires_at": table.c.expires_at.type}
        )
        self._next_purge = 0.0
        self._lock = threading.Lock()
        self._engine_lock = threading.Lock()

    def engine(self) -> Engine:
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    url = self.base_engine().url
                    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
                    if url.get_backend_name() == "sqlite":
                        options["connect_args"] = {"timeout": 30}
                    engine = create_engine(url, **options)
                    event.listen(engine, "connect", _relaxed_commits)
                    weakref.finalize(self, engine.dispose)
                    self._engine = engine
        return self._engine

    def first_use(self, client_id: str, jti: str, expires_at: float) -> bool:
        """Record the use; ``False`` when it was used before."""
        key = replay_key(client_id, jti)
        expires = datetime.fromtimestamp(expires_at, UTC)
        self._purge_now_and_then()
        try:
            self._insert({"key": key, "expires_at": expires})
        except Duplicate:
            return False
        return True

    def close(self) -> None:
        """Return the kept connection(s) and dispose of this store's engine."""
        self._insert.close()
        if self._engine is not None:
            self._engine.dispose()

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

    def close(self) -> None:
        self.fallback.close()
        self.redis.close()

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
