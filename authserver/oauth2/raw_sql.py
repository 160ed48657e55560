"""One SQL statement on the DB-API cursor, for the assertion path's small
reads and writes (:mod:`.private_key_jwt`, :mod:`.replay`).

Like :class:`~.client_record.ClientReader`: the statement is compiled once by
SQLAlchemy for the engine's dialect, bound values go through the columns' own
bind processing, and only SQLAlchemy's per-execution machinery is skipped (on
this path it costs more CPU than the query). Database errors come out as
SQLAlchemy's (so the app answers 503), a unique-key violation as
:class:`Duplicate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Duplicate(Exception):
    """The statement broke a unique constraint."""


class KeptConnections:
    """Connections of *engine* kept checked out of its pool between statements.

    Checking a connection out of SQLAlchemy's pool and back in for every
    statement cost about as much as a short statement. So a connection, once
    used, goes on a list of idle ones that any thread takes from and gives
    back to (``list.pop`` and ``list.append`` are atomic: no lock). There are
    never more than the statements that ran at once, and never more than the
    pool allows. Use an autocommit engine: a kept connection then never holds
    a transaction, and every statement sees the latest commit.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._idle: list[Any] = []

    def take(self) -> Any:
        """An idle connection, or a new one from the pool (a ``PoolProxiedConnection``)."""
        try:
            return self._idle.pop()
        except IndexError:
            return self.engine.raw_connection()

    def give_back(self, connection: Any) -> None:
        self._idle.append(connection)

    def discard(self, connection: Any, error: Exception | None = None) -> None:
        """Close *connection* instead of keeping it; with the *error* of a
        dropped connection, drop every idle one too (most likely dropped as well)."""
        if error is None:
            connection.close()
            return
        connection.invalidate(error)
        while self._idle:
            self._idle.pop().invalidate(error)

    def close(self) -> None:
        """Return the idle connections to the pool."""
        while self._idle:
            connection = self._idle.pop()
            try:
                connection.close()
            except Exception:  # noqa: BLE001, S110 - a connection already gone
                pass


class RawStatement:
    """*statement* compiled for the engine that *engine* returns (on first use).

    :param binds: the bound parameters' column types, by name, for their bind processing.
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        statement: ClauseElement,
        binds: Mapping[str, Any] | None = None,
    ) -> None:
        self.engine_factory = engine
        self.statement = statement
        self.binds = dict(binds or {})
        self._ready: tuple[KeptConnections, str, tuple[str, ...] | None, dict[str, Any]] | None = (
            None
        )

    def _prepare(self) -> tuple[KeptConnections, str, tuple[str, ...] | None, dict[str, Any]]:
        if self._ready is None:
            engine = self.engine_factory()
            dialect = engine.dialect
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            processors = {
                name: kind.dialect_impl(dialect).bind_processor(dialect)
                for name, kind in self.binds.items()
            }
            self._ready = (KeptConnections(engine), str(compiled), order, processors)
        return self._ready

    def __call__(self, params: Mapping[str, Any], *, fetch: bool = False) -> list[Any]:
        """Execute with *params*; the rows when *fetch*.

        :raises Duplicate: a unique constraint refused the row.
        :raises sqlalchemy.exc.DBAPIError: the database failed or is unreachable.
        """
        connections, sql, order, processors = self._prepare()
        values = {
            name: (processors[name](value) if processors.get(name) else value)
            for name, value in params.items()
        }
        bound: Any = tuple(values[name] for name in order) if order is not None else values
        dbapi = connections.engine.dialect.loaded_dbapi
        try:
            connection = connections.take()
        except dbapi.Error as error:
            raise DBAPIError.instance(sql, bound, error, dbapi.Error) from error
        cursor = None
        try:
            cursor = connection.dbapi_connection.cursor()
            cursor.execute(sql, bound)
            rows = list(cursor.fetchall()) if fetch else []
            cursor.close()
        except dbapi.IntegrityError:
            connections.discard(connection)
            raise Duplicate() from None
        except dbapi.Error as error:
            gone = connections.engine.dialect.is_disconnect(
                error, connection.dbapi_connection, cursor
            )
            connections.discard(connection, error if gone else None)
            raise DBAPIError.instance(
                sql, bound, error, dbapi.Error, connection_invalidated=gone
            ) from error
        connections.give_back(connection)
        return rows

    def close(self) -> None:
        """Return the kept connections to the pool."""
        if self._ready is not None:
            self._ready[0].close()
