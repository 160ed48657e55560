"""Small fixtures shared by the whole suite (flaskr style).

Every test that uses ``app`` runs on SQLite and, when
``AUTHSERVER_TEST_DATABASE_URL`` is set, on PostgreSQL too.

Under pytest-xdist (``make test`` runs two workers) each worker gets a
PostgreSQL database and a Redis database of its own, so that no two tests
running at once share tables or counters (:func:`_per_worker`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from support.postgres import ensure_database

from authserver import create_app, credentials
from authserver.extensions import db
from authserver.models import Organization, OrganizationAdmin, User
from authserver.oauth2.endpoints import EXTENSION


def _per_worker() -> None:
    """Give this xdist worker (``gw0``, ``gw1``, ...) its own PostgreSQL database
    (the test database's name + ``_gw0``, made when missing) and Redis database
    (the test db number minus the worker's index), through the same variables
    every test module reads."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    index = int(worker.removeprefix("gw"))
    pg_url = os.environ.get("AUTHSERVER_TEST_DATABASE_URL")
    if pg_url:
        os.environ["AUTHSERVER_TEST_DATABASE_URL"] = ensure_database(pg_url, "_" + worker)
    redis_url = os.environ.get("AUTHSERVER_TEST_REDIS_URL")
    if redis_url:
        base, _, number = redis_url.rpartition("/")
        os.environ["AUTHSERVER_TEST_REDIS_URL"] = f"{base}/{int(number or 0) - index}"


_per_worker()
PG_URL = os.environ.get("AUTHSERVER_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])

#: cheap argon2id parameters for speed; production defaults are tested in test_config
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1}


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for the test: SQLite file, or the PostgreSQL test database."""
    if request.param == "postgresql":
        assert PG_URL is not None
        return PG_URL
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def make_config(database_url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ISSUER": "https://auth.example.test",
        "KEY_ACTIVATION_DELAY": 0,
        # tests make many failures a second; tests/oauth2/test_argon2_budget.py sets its own
        "ARGON2_FAILURE_BUDGET": "100000/second",
        **FAST_ARGON2,
    }
    config.update(overrides)
    return config


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Override entries here (in a test module's fixture) before ``app`` is built."""
    return make_config(database_url, tmp_path)


@pytest.fixture
def app(
    app_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(app_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    # the process's writer of the secrets' last use must not outlive the tables
    authorization_server = app.extensions[EXTENSION]
    authorization_server.usage.stop()
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    # the token path's kept connections and its engine: closed now, not when collected
    authorization_server.close()
    credentials.configure(FAST_ARGON2)


@pytest.fixture
def http(app: Flask) -> FlaskClient:
    """Flask's test client (named ``http``, never ``client``: see STYLE.md)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


class Directory:
    """Builds directory entries (users, organizations, rights) for a test."""

    def organization(
        self, teccom_id: str, name: str | None = None, kind: str = "supplier"
    ) -> Organization:
        organization = Organization(teccom_id=teccom_id, name=name or f"Org {teccom_id}", kind=kind)
        db.session.add(organization)
        db.session.commit()
        return organization

    def user(
        self,
        email: str,
        *,
        first_name: str = "Test",
        last_name: str = "User",
        password: str | None = "correct horse battery staple",
        admin_of: tuple[str, ...] = (),
    ) -> User:
        user = User(
            email=email.lower(),
            first_name=first_name,
            last_name=last_name,
            password_hash=credentials.hash_secret(password) if password else None,
        )
        db.session.add(user)
        db.session.flush()
        for teccom_id in admin_of:
            if db.session.get(Organization, teccom_id) is None:
                db.session.add(
                    Organization(teccom_id=teccom_id, name=f"Org {teccom_id}", kind="supplier")
                )
                db.session.flush()
            db.session.add(OrganizationAdmin(user_id=user.id, teccom_id=teccom_id))
        db.session.commit()
        return user


@pytest.fixture
def directory(app_ctx: None) -> Directory:
    """Directory builder; the test runs inside an application context."""
    return Directory()
