"""Fixtures for the console tests.

- Flask test-client helpers (``login``, ``form_token``) for the page tests.
- A real server (gunicorn on a free loopback port, its own SQLite file, or its
  own PostgreSQL database `<test database>_console` when
  AUTHSERVER_TEST_DATABASE_URL is set) and
  Debian's Chromium driven by Playwright, for the browser tests. Each browser
  test seeds its own people and organizations, so tests do not depend on
  each other's state.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import DATABASES, PG_URL  # tests/conftest.py (rootdir conftest)
from flask import Flask
from flask.testing import FlaskClient
from support.postgres import create_database, drop_database
from support.server import running_server
from werkzeug.test import TestResponse

from authserver import create_app, credentials
from authserver.extensions import db
from authserver.models import Client, Organization, OrganizationAdmin, User
from authserver.services import audit, clients

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
#: cheap argon2id for the server under test (production parameters are tested in test_config)
FAST_ARGON2_ENV = {
    "AUTHSERVER_ARGON2_TIME_COST": "1",
    "AUTHSERVER_ARGON2_MEMORY_COST": "1024",
    "AUTHSERVER_ARGON2_PARALLELISM": "1",
}

_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


# -- Flask test client -----------------------------------------------------------


def form_token(response: TestResponse) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(response.get_data(as_text=True))
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(http: FlaskClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; return a CSRF token valid for the session."""
    page = http.get("/login")
    response = http.post(
        "/login", data={"email": email, "password": password, "csrf_token": form_token(page)}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return form_token(http.get("/clients"))


# -- the real server ----------------------------------------------------------------


@dataclass
class Server:
    url: str
    app: Flask
    log: Path
    database_url: str


@pytest.fixture(scope="session", params=DATABASES)
def console_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The browser-test server's database: a SQLite file, and a fresh
    PostgreSQL database named after ``AUTHSERVER_TEST_DATABASE_URL`` plus
    ``_console`` when that is set (dropped afterwards). Every browser test
    runs on each.
    """
    if request.param == "postgresql":
        assert PG_URL is not None
        url = create_database(PG_URL, "_console")
        try:
            yield url
        finally:
            drop_database(url)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('console-db') / 'console.sqlite3'}"


@pytest.fixture(scope="session")
def console_server(
    tmp_path_factory: pytest.TempPathFactory, console_database: str
) -> Iterator[Server]:
    """gunicorn serving ``wsgi:app`` on a free loopback port, on a freshly
    migrated :func:`console_database` (``authserver db upgrade``, as in
    production); one gthread worker with 4 threads, so that a browser's
    parallel requests and kept-alive connections are served as they would be.
    """
    base = tmp_path_factory.mktemp("console-server")
    secret_key = "console-browser-tests-" + "k" * 32
    extra_env = {
        **FAST_ARGON2_ENV,
        "AUTHSERVER_ENV": "testing",
        "AUTHSERVER_SECRET_KEY": secret_key,
        "GUNICORN_CMD_ARGS": "--worker-class gthread --threads 4 --timeout 60",
    }
    with running_server(
        console_database, base / "instance", workers=1, extra_env=extra_env
    ) as server:
        config = {
            "ENV": "testing",
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": console_database,
            "SECRET_KEY": secret_key,
            "ISSUER": server.url,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
            "ARGON2_PARALLELISM": 1,
        }
        previous = os.environ.get("AUTHSERVER_INSTANCE_PATH")
        os.environ["AUTHSERVER_INSTANCE_PATH"] = str(base / "seed-instance")
        try:
            app = create_app(config)
        finally:
            if previous is None:
                os.environ.pop("AUTHSERVER_INSTANCE_PATH", None)
            else:
                os.environ["AUTHSERVER_INSTANCE_PATH"] = previous
        try:
            yield Server(server.url, app, server.log, console_database)
        finally:
            with app.app_context():
                db.engine.dispose()


# -- people and organizations for one browser test ---------------------------------------

_serial = itertools.count(1)


@dataclass
class World:
    """Unique TecCom IDs and users for one test, written to the server's database."""

    app: Flask
    n: int
    users: dict[str, User] = field(default_factory=dict)

    def org_id(self, suffix: int) -> str:
        """TecCom ID number *suffix* of this test: ``<test n><suffix>``."""
        return f"9{self.n:03d}{suffix:02d}"

    def organization(self, suffix: int, name: str) -> str:
        teccom_id = self.org_id(suffix)
        with self.app.app_context():
            db.session.add(Organization(teccom_id=teccom_id, name=name, kind="supplier"))
            db.session.commit()
        return teccom_id

    def user(
        self, name: str, first_name: str, last_name: str, admin_of: tuple[str, ...] = ()
    ) -> str:
        email = f"{name}.{self.n}@example.com"
        with self.app.app_context():
            credentials.configure(self.app.config)
            user = User(
                email=email,
                first_name=first_name,
                last_name=last_name,
                password_hash=credentials.hash_secret(PASSWORD),
            )
            db.session.add(user)
            db.session.flush()
            for teccom_id in admin_of:
                db.session.add(OrganizationAdmin(user_id=user.id, teccom_id=teccom_id))
            db.session.commit()
        return email

    def client_for(self, email: str, teccom_id: str) -> str:
        """A client for *teccom_id*, created by *email* through the service."""
        with self.app.app_context():
            credentials.configure(self.app.config)
            creator = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
            issued = clients.create_client(creator, teccom_id, audit.AuditContext(actor=email))
            return issued.client.client_id

    def secrets(self, client_id: str) -> tuple[list[tuple[str, Any]], Any]:
        """``([(secret_hash, expires_at), ...], tokens_invalid_before)`` of a client."""
        with self.app.app_context():
            client = db.session.execute(
                db.select(Client).where(Client.client_id == client_id)
            ).scalar_one()
            return [
                (s.secret_hash, s.expires_at) for s in client.secrets
            ], client.tokens_invalid_before


@pytest.fixture
def world(console_server: Server) -> World:
    return World(console_server.app, next(_serial))


# -- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium package (make test does, as root)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any, console_server: Server) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh browser context (no cookies); the test fails on
    any JavaScript error or Content-Security-Policy violation in it.

    Keyword arguments go to ``browser.new_context`` (viewport, JavaScript...).
    """
    contexts: list[Any] = []
    errors: list[str] = []

    def opener(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(base_url=console_server.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = context.new_page()
        tab.on("console", lambda message: _console_error(message, errors))
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.on("response", lambda response: _failed_asset(response, errors))
        tab.console_errors = errors  # for a test that provokes an error on purpose
        return tab

    yield opener
    for context in contexts:
        context.close()
    assert not errors, f"browser console errors: {errors}"


def _console_error(message: Any, errors: list[str]) -> None:
    # a refused form answers 4xx on purpose; assets are checked in _failed_asset
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(message.text)


def _failed_asset(response: Any, errors: list[str]) -> None:
    if response.request.resource_type != "document" and response.status >= 400:
        errors.append(f"{response.status} for {response.url}")


@pytest.fixture
def page(open_page: Callable[..., Any]) -> Any:
    """A page at 1280 × 800 with JavaScript on."""
    return open_page()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot to tests/artifacts/ (kept out of git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
