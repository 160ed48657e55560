"""Unbound Flask extensions (bound in :func:`authserver.create_app`).

Kept free of the application so that models and services can import them
without import cycles.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

#: Constraint names that Alembic can refer to on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
#: CSRF protection for the browser console only (scoped in :mod:`authserver.console`)
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite enforces foreign keys (and ``ON DELETE CASCADE``) only when asked,
    per connection; PostgreSQL always does. Ask, so both behave the same.

    The database is also put in write-ahead-log mode (kept in the file):
    readers (the token endpoint) never wait for a writer, and a commit costs
    one fsync of the log instead of a journal file made and removed each
    time. ``synchronous`` stays ``FULL``: a commit survives a power cut.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
