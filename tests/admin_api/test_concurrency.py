"""The rules hold under real concurrent HTTP requests against
a real multi-process server (gunicorn, 4 sync workers), on PostgreSQL (row
locks, constraints) and on SQLite (write lock). Each race is repeated, with
a barrier so that the requests start together, enough times that a missing
lock shows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from conftest import DATABASES, FAST_ARGON2, PG_URL
from support.postgres import create_database, drop_database
from support.server import running_server

from authserver import create_app, credentials
from authserver.extensions import db
from authserver.models import (
    Client,
    ClientAdministrator,
    ClientSecret,
    Organization,
    OrganizationAdmin,
    User,
)

pytestmark = pytest.mark.e2e

ROUNDS = 12
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module", params=DATABASES)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Any]]:
    """gunicorn with 4 sync workers on a fresh, migrated database (SQLite, and
    ``<test database>_live`` on PostgreSQL), with two administrators of three
    organizations; the app is for reading the database afterwards."""
    tmp_path = tmp_path_factory.mktemp("live")
    if request.param == "postgresql":
        assert PG_URL is not None
        database_url = create_database(PG_URL, "_live")
    else:
        database_url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    try:
        with running_server(database_url, tmp_path / "instance", workers=4) as server:
            app = create_app(
                {
                    "ENV": "testing",
                    "SQLALCHEMY_DATABASE_URI": database_url,
                    "SECRET_KEY": "x" * 40,
                    **FAST_ARGON2,
                }
            )
            with app.app_context():
                _seed_directory()
            try:
                yield server.url, app
            finally:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
    finally:
        if request.param == "postgresql":
            drop_database(database_url)


def _seed_directory() -> None:
    password_hash = credentials.hash_secret(PASSWORD)
    for teccom_id in ("400101", "400102", "400199"):
        db.session.add(Organization(teccom_id=teccom_id, name=f"Org {teccom_id}", kind="supplier"))
    for email in ("anna@example.com", "ben@example.com"):
        user = User(
            email=email, first_name=email[:4], last_name="Test", password_hash=password_hash
        )
        db.session.add(user)
        db.session.flush()
        for teccom_id in ("400101", "400102", "400199"):
            db.session.add(OrganizationAdmin(user_id=user.id, teccom_id=teccom_id))
    db.session.commit()


def _login(base: str, email: str) -> dict[str, str]:
    response = requests.post(
        f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def race(*calls: Callable[[], requests.Response]) -> list[requests.Response]:
    """Run *calls* in threads released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[requests.Response | BaseException | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], requests.Response]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - re-raised below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def _call(
    method: str, url: str, headers: dict[str, str], body: Any = None
) -> Callable[[], requests.Response]:
    return lambda: requests.request(method, url, json=body, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def world(live: tuple[str, Any]) -> dict[str, Any]:
    base, app = live
    anna, ben = _login(base, "anna@example.com"), _login(base, "ben@example.com")
    first = requests.post(
        f"{base}/api/v1/clients", json={"teccom_id": "400101"}, headers=anna, timeout=30
    )
    second = requests.post(
        f"{base}/api/v1/clients", json={"teccom_id": "400102"}, headers=anna, timeout=30
    )
    assert (first.status_code, second.status_code) == (201, 201)
    return {
        "base": base,
        "app": app,
        "anna": anna,
        "ben": ben,
        "first": first.json()["client_id"],
        "second": second.json()["client_id"],
    }


def _administrators(app: Any, client_id: str) -> list[str]:
    with app.app_context():
        emails = (
            db.session.execute(
                db.select(User.email)
                .join(ClientAdministrator, ClientAdministrator.user_id == User.id)
                .join(Client)
                .where(Client.client_id == client_id)
                .order_by(User.email)
            )
            .scalars()
            .all()
        )
        db.session.remove()
        return list(emails)


def _both_administrators(world: dict[str, Any]) -> None:
    """Make Anna and Ben both administrators of the first client again."""
    base, client_id = world["base"], world["first"]
    remaining = _administrators(world["app"], client_id)
    assert len(remaining) == 1, remaining
    acting = world["anna"] if remaining == ["anna@example.com"] else world["ben"]
    other = "ben@example.com" if remaining == ["anna@example.com"] else "anna@example.com"
    added = requests.post(
        f"{base}/api/v1/clients/{client_id}/administrators",
        json={"email": other},
        headers=acting,
        timeout=30,
    )
    assert added.status_code == 201, added.text


def test_two_administrators_removing_each_other(world):
    base, client_id = world["base"], world["first"]
    url = f"{base}/api/v1/clients/{client_id}/administrators"
    requests.post(url, json={"email": "ben@example.com"}, headers=world["anna"], timeout=30)
    for _ in range(ROUNDS):
        answers = race(
            _call("DELETE", f"{url}/ben@example.com", world["anna"]),
            _call("DELETE", f"{url}/anna@example.com", world["ben"]),
        )
        assert sorted(a.status_code for a in answers) == [204, 404], [a.text for a in answers]
        assert len(_administrators(world["app"], client_id)) == 1
        _both_administrators(world)
    # leave one administrator (Anna) for the next test
    requests.delete(f"{url}/ben@example.com", headers=world["anna"], timeout=30)


def test_the_last_two_administrators_removing_themselves(world):
    base, client_id = world["base"], world["first"]
    url = f"{base}/api/v1/clients/{client_id}/administrators"
    if _administrators(world["app"], client_id) != ["anna@example.com", "ben@example.com"]:
        _both_administrators(world)
    for _ in range(ROUNDS):
        answers = race(
            _call("DELETE", f"{url}/anna@example.com", world["anna"]),
            _call("DELETE", f"{url}/ben@example.com", world["ben"]),
        )
        assert sorted(a.status_code for a in answers) == [204, 409], [a.text for a in answers]
        loser = next(a for a in answers if a.status_code == 409)
        assert loser.json()["type"] == f"{base}/problems/last-administrator"
        assert len(_administrators(world["app"], client_id)) == 1
        _both_administrators(world)


def test_one_organization_assigned_to_two_clients_at_once(world):
    base, anna = world["base"], world["anna"]
    urls = [f"{base}/api/v1/clients/{world[k]}/organizations" for k in ("first", "second")]
    for _ in range(ROUNDS):
        answers = race(*(_call("POST", url, anna, {"teccom_id": "400199"}) for url in urls))
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        winner = urls[[a.status_code for a in answers].index(201)]
        assert requests.delete(f"{winner}/400199", headers=anna, timeout=30).status_code == 204


def test_a_client_created_for_an_organization_while_it_is_being_assigned(world):
    base, anna = world["base"], world["anna"]
    assign_url = f"{base}/api/v1/clients/{world['first']}/organizations"
    for _ in range(ROUNDS):
        assigned, created = race(
            _call("POST", assign_url, anna, {"teccom_id": "400199"}),
            _call("POST", f"{base}/api/v1/clients", anna, {"teccom_id": "400199"}),
        )
        assert sorted((assigned.status_code, created.status_code)) == [201, 409], (
            assigned.text,
            created.text,
        )
        if created.status_code == 201:
            cleanup = requests.delete(
                f"{base}/api/v1/clients/{created.json()['client_id']}", headers=anna, timeout=30
            )
        else:
            cleanup = requests.delete(f"{assign_url}/400199", headers=anna, timeout=30)
        assert cleanup.status_code == 204


@pytest.mark.parametrize("grace", [0, 3600])
def test_two_rotations_at_once_leave_one_current_secret(world, grace):
    base, app, client_id = world["base"], world["app"], world["second"]
    url = f"{base}/api/v1/clients/{client_id}/secret"
    for _ in range(ROUNDS):
        answers = race(
            *(_call("POST", url, world["anna"], {"grace_period_seconds": grace}) for _ in range(2))
        )
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        issued = {a.json()["client_secret"] for a in answers}
        with app.app_context():
            rows = (
                db.session.execute(
                    db.select(ClientSecret).join(Client).where(Client.client_id == client_id)
                )
                .scalars()
                .all()
            )
            current = [r for r in rows if r.expires_at is None]
            assert len(current) == 1
            assert len(rows) == (2 if grace else 1)
            assert sum(credentials.check_secret(current[0].secret_hash, s) for s in issued) == 1
            db.session.remove()
