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
        self._ready: tuple[Engine, str, tuple[str, ...] | None, dict[str, Any]] | None = None

    def _prepare(self) -> tuple[Engine, str, tuple[str, ...] | None, dict[str, Any]]:
        if self._ready is None:
            engine = self.engine_factory()
            dialect = engine.dialect
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            processors = {
                name: kind.dialect_impl(dialect).bind_processor(dialect)
                for name, kind in self.binds.items()
            }
            self._ready = (engine, str(compiled), order, processors)
        return self._ready

    def __call__(self, params: Mapping[str, Any], *, fetch: bool = False) -> list[Any]:
        """Execute with *params*; the rows when *fetch*.

        :raises Duplicate: a unique constraint refused the row.
        :raises sqlalchemy.exc.DBAPIError: the database failed or is unreachable.
        """
        engine, sql, order, processors = self._prepare()
        values = {
            name: (processors[name](value) if processors.get(name) else value)
            for name, value in params.items()
        }
        bound: Any = tuple(values[name] for name in order) if order is not None else values
        dbapi = engine.dialect.loaded_dbapi
        try:
            connection = engine.raw_connection()
        except dbapi.Error as error:
            raise DBAPIError.instance(sql, bound, error, dbapi.Error) from error
        cursor = None
        try:
            cursor = connection.cursor()
            cursor.execute(sql, bound)
            rows = list(cursor.fetchall()) if fetch else []
            cursor.close()
        except dbapi.IntegrityError:
            connection.close()
            raise Duplicate() from None
        except dbapi.Error as error:
            gone = engine.dialect.is_disconnect(error, connection.dbapi_connection, cursor)
            if gone:
                connection.invalidate(error)
            else:
                connection.close()
            raise DBAPIError.instance(
                sql, bound, error, dbapi.Error, connection_invalidated=gone
            ) from error
        connection.close()
        return rows
