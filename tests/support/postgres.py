"""Extra PostgreSQL databases for tests that start real servers.

Each is named after the test database (``AUTHSERVER_TEST_DATABASE_URL``) plus a
suffix, so helpers sharing one PostgreSQL never collide (CI: ``test_e2e``,
``test_console``).
"""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url


def _admin_url(url: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql", database="postgres")
        .render_as_string(hide_password=False)
    )


def create_database(test_database_url: str, suffix: str) -> str:
    """A fresh, empty database ``<test database><suffix>``; its URL."""
    url = make_url(test_database_url)
    name = f"{url.database}{suffix}"
    with psycopg.connect(_admin_url(test_database_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def ensure_database(test_database_url: str, suffix: str) -> str:
    """The database ``<test database><suffix>``, made if it does not exist; its URL."""
    url = make_url(test_database_url)
    name = f"{url.database}{suffix}"
    with psycopg.connect(_admin_url(test_database_url), autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_admin_url(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
