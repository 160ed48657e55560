"""A real server (gunicorn, 2 workers) on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from authserver import create_app
from authserver.extensions import db
from conftest import FAST_ARGON2, PG_URL
from support.server import Server, running_server

DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _e2e_postgres_url() -> str:
    """A fresh database named after the test database + ``_e2e`` (CI: test_e2e)."""
    assert PG_URL is not None
    url = make_url(PG_URL)
    name = f"{url.database}_e2e"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


@pytest.fixture(scope="module", params=DATABASES)
def e2e_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    instance = tmp_path_factory.mktemp("e2e-instance")
    if request.param == "postgresql":
        url = _e2e_postgres_url()
        try:
            yield url, instance
        finally:
            _drop_postgres(url)
    else:
        yield f"sqlite:///{instance / 'e2e.sqlite3'}", instance


@pytest.fixture(scope="module")
def server(e2e_database: tuple[str, Path]) -> Iterator[Server]:
    url, instance = e2e_database
    with running_server(url, instance, workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def data_app(server: Server, e2e_database: tuple[str, Path]) -> Iterator[Flask]:
    """An app on the server's database, to set up clients through the services."""
    url, instance = e2e_database
    previous = os.environ.get("AUTHSERVER_INSTANCE_PATH")
    os.environ["AUTHSERVER_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app(
            {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "ISSUER": server.url, **FAST_ARGON2}
        )
    finally:
        if previous is None:
            os.environ.pop("AUTHSERVER_INSTANCE_PATH", None)
        else:
            os.environ["AUTHSERVER_INSTANCE_PATH"] = previous
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def data(data_app: Flask) -> Iterator[None]:
    with data_app.app_context():
        yield
        db.session.remove()
