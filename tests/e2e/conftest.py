"""A real server (gunicorn, 2 workers) on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FAST_ARGON2, PG_URL
from flask import Flask
from support.postgres import create_database, drop_database
from support.server import Server, running_server

from authserver import create_app
from authserver.extensions import db

DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="module", params=DATABASES)
def e2e_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    instance = tmp_path_factory.mktemp("e2e-instance")
    if request.param == "postgresql":
        assert PG_URL is not None
        url = create_database(PG_URL, "_e2e")
        try:
            yield url, instance
        finally:
            drop_database(url)
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
