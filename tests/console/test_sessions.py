"""Console sessions live on the server, through Flask's test client (OWASP
Session Management): the cookie holds only a handle, logging out ends the
session on the server so that a copy of the cookie gets the login page, and
"Log out everywhere" ends every session of the user.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import Directory  # tests/conftest.py (rootdir conftest)
from flask import Flask
from flask.testing import FlaskClient

from authserver.extensions import db
from authserver.models import AuditEvent, Client, ConsoleSession, User
from authserver.models._base import utcnow
from authserver.services import console_sessions

from .conftest import PASSWORD, form_token, login

COOKIE = "authserver_session"


@pytest.fixture
def people(directory: Directory) -> Directory:
    directory.user("anna@example.com", first_name="Anna", last_name="Berg", admin_of=("400100",))
    directory.user("ben@example.com", first_name="Ben", last_name="Meyer", admin_of=("400200",))
    return directory


def sessions_of(email: str) -> list[ConsoleSession]:
    db.session.expire_all()
    return list(
        db.session.execute(
            db.select(ConsoleSession)
            .join(User)
            .where(User.email == email)
            .order_by(ConsoleSession.id)
        ).scalars()
    )


def steal_cookie(source: FlaskClient, target: FlaskClient) -> str:
    """Copy the session cookie of *source* into *target*, as a thief would; its value."""
    cookie = source.get_cookie(COOKIE)
    assert cookie is not None
    target.set_cookie(COOKIE, cookie.value)
    return cookie.value


def text(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def test_the_cookie_holds_only_a_handle_of_the_session_on_the_server(
    http: FlaskClient, people: Directory
) -> None:
    login(http, "anna@example.com")
    with http.session_transaction() as session:
        assert set(session) - {"_permanent"} == {"sid", "csrf_token"}
        handle = session["sid"]
    (row,) = sessions_of("anna@example.com")
    assert row.handle_hash == console_sessions.hash_handle(handle)
    assert row.remote_addr == "127.0.0.1"
    assert row.user_agent is not None and row.user_agent.startswith("Werkzeug/")
    assert (row.expires_at - row.created_at) == timedelta(hours=12)


def test_a_cookie_copied_before_logout_gets_the_login_page_afterwards(
    app: Flask, people: Directory
) -> None:
    http = app.test_client()
    token = login(http, "anna@example.com")
    thief = app.test_client()
    stolen = steal_cookie(http, thief)
    assert thief.get("/clients").status_code == 200  # the copy works while the session lives

    response = http.post("/logout", data={"csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (303, "/login?logged_out=1")
    assert sessions_of("anna@example.com") == []

    # the copy carries the CSRF token too: the form passes that check, not the session's
    response = thief.post("/clients", data={"teccom_id": "400100", "csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    assert db.session.execute(db.select(Client)).first() is None
    thief.set_cookie(COOKIE, stolen)
    response = thief.get("/clients")
    assert (response.status_code, response.headers["Location"]) == (303, "/login?next=/clients")
    assert thief.get("/").headers["Location"] == "/login"
    with thief.session_transaction() as session:
        assert "sid" not in session  # the dead handle is dropped from the cookie too


def test_logging_in_again_ends_the_browsers_previous_session(
    http: FlaskClient, people: Directory
) -> None:
    login(http, "anna@example.com")
    (first,) = [row.handle_hash for row in sessions_of("anna@example.com")]
    # a second login from the same browser (the form of another tab, say), as someone else
    response = http.post(
        "/login",
        data={
            "email": "ben@example.com",
            "password": PASSWORD,
            "csrf_token": form_token(http.get("/clients")),
        },
    )
    assert response.status_code == 303
    assert sessions_of("anna@example.com") == []
    (second,) = sessions_of("ben@example.com")
    assert second.handle_hash != first
    assert "Ben Meyer" in http.get("/clients").get_data(as_text=True)


def test_log_out_everywhere_ends_every_session_of_the_user_only(
    app: Flask, people: Directory
) -> None:
    here, there, ben = app.test_client(), app.test_client(), app.test_client()
    token = login(here, "anna@example.com")
    login(there, "anna@example.com")
    login(ben, "ben@example.com")
    page = text(here.get("/clients").get_data(as_text=True))
    assert '<form method="post" action="/logout/everywhere">' in page
    assert "</svg> Log out everywhere</button>" in page
    assert here.get("/logout/everywhere").status_code == 405  # a link cannot do it

    response = here.post("/logout/everywhere", data={"csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (
        303,
        "/login?logged_out=everywhere",
    )
    assert "You are logged out everywhere: every session of your account has ended." in text(
        here.get("/login?logged_out=everywhere").get_data(as_text=True)
    )
    for browser in (here, there):
        response = browser.get("/clients")
        assert (response.status_code, response.headers["Location"]) == (303, "/login?next=/clients")
    assert ben.get("/clients").status_code == 200
    assert sessions_of("anna@example.com") == [] and len(sessions_of("ben@example.com")) == 1

    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "session.revoked_all")
    ).scalar_one()
    assert (event.actor, event.target, event.details, event.remote_addr) == (
        "anna@example.com",
        "anna@example.com",
        {"sessions": 2},
        "127.0.0.1",
    )
    assert re.fullmatch(r"[0-9a-f]{32}", event.request_id or "")


def test_log_out_everywhere_needs_a_session(http: FlaskClient, people: Directory) -> None:
    token = form_token(http.get("/login"))
    response = http.post("/logout/everywhere", data={"csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    assert db.session.execute(db.select(AuditEvent)).first() is None


def test_requests_record_activity_at_most_once_a_minute(
    http: FlaskClient, people: Directory
) -> None:
    login(http, "anna@example.com")
    (row,) = sessions_of("anna@example.com")
    recent = utcnow() - timedelta(seconds=30)
    row.last_seen_at = recent
    db.session.commit()
    assert http.get("/clients").status_code == 200
    assert sessions_of("anna@example.com")[0].last_seen_at == recent  # not written

    earlier = utcnow() - timedelta(minutes=5)
    row = sessions_of("anna@example.com")[0]
    row.last_seen_at = earlier
    db.session.commit()
    assert http.get("/clients").status_code == 200
    assert sessions_of("anna@example.com")[0].last_seen_at > earlier + timedelta(minutes=4)


@pytest.mark.parametrize("limit", ["idle", "absolute"])
def test_a_session_past_its_limit_gets_the_login_page_and_is_deleted(
    http: FlaskClient,
    people: Directory,
    limit: str,
) -> None:
    login(http, "anna@example.com")
    (row,) = sessions_of("anna@example.com")
    if limit == "idle":
        row.last_seen_at = utcnow() - timedelta(seconds=console_sessions.IDLE_SECONDS)
    else:
        row.expires_at = utcnow()
    db.session.commit()
    response = http.get("/clients/cl_x/activity")
    assert (response.status_code, response.headers["Location"]) == (
        303,
        "/login?next=/clients/cl_x/activity",
    )
    assert sessions_of("anna@example.com") == []


def test_logging_in_purges_sessions_that_ended_by_time(app: Flask, people: Directory) -> None:
    old = app.test_client()
    login(old, "ben@example.com")
    (row,) = sessions_of("ben@example.com")
    row.last_seen_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    login(app.test_client(), "anna@example.com")
    assert sessions_of("ben@example.com") == []
