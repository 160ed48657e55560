"""Browser security of the console, through Flask's test client: headers,
the session cookie, and CSRF on the console only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Directory, make_config  # tests/conftest.py (rootdir conftest)
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from authserver import create_app
from authserver.console.security import CONTENT_SECURITY_POLICY
from authserver.extensions import db
from authserver.models import Client

from .conftest import PASSWORD, form_token, login

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@pytest.fixture
def anna(directory: Directory) -> str:
    directory.organization("400100", "Acme Parts GmbH")
    directory.organization("400200", "Acme Retail")
    return directory.user(
        "anna@example.com", first_name="Anna", last_name="Berg", admin_of=("400100", "400200")
    ).email


def test_console_pages_carry_the_security_headers(http: FlaskClient) -> None:
    response = http.get("/login")
    assert response.status_code == 200
    assert CONTENT_SECURITY_POLICY == CSP
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert "Strict-Transport-Security" not in response.headers  # testing: plain http


def test_static_assets_come_from_the_package_with_the_same_headers(http: FlaskClient) -> None:
    for path, mimetype in (
        ("/assets/console.css", "text/css"),
        ("/assets/console.js", "text/javascript"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ):
        response = http.get(path)
        assert (response.status_code, response.mimetype) == (200, mimetype), path
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()


def test_no_page_has_inline_script_style_or_event_handler(http: FlaskClient, anna: str) -> None:
    """What the CSP forbids must not be in the pages (else the browser drops it)."""
    pages = [http.get("/login").get_data(as_text=True)]
    token = login(http, anna)
    created = http.post("/clients", data={"teccom_id": "400100", "csrf_token": token})
    assert created.status_code == 201, created.get_data(as_text=True)
    client_id = created.headers["Location"].split("/")[2]
    pages.append(created.get_data(as_text=True))
    for path in (
        "/clients?org=400100",
        f"/clients/{client_id}/organizations?dialog=add-organization",
        f"/clients/{client_id}/administrators?dialog=add-administrator&email=anna@example.com",
        f"/clients/{client_id}/activity",
        f"/clients/{client_id}/credentials?dialog=add-key",
        "/clients/cl_nope/activity",
    ):
        pages.append(http.get(path).get_data(as_text=True))
    for html in pages:
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
        assert re.findall(r"\sstyle=", html) == []
        assert re.findall(r"\son[a-z]+=", html) == []
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in html


def test_session_cookie_is_httponly_and_samesite_lax(http: FlaskClient, anna: str) -> None:
    page = http.get("/login")
    response = http.post(
        "/login", data={"email": anna, "password": PASSWORD, "csrf_token": form_token(page)}
    )
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("authserver_session=")
    assert "; HttpOnly" in cookie
    assert "; SameSite=Lax" in cookie
    assert "; Path=/" in cookie
    assert "Secure" not in cookie  # development and testing run on plain http


def test_production_cookie_is_secure_host_only_and_pages_send_hsts(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("AUTHSERVER_ISSUER", "https://auth.example.test")
    app = create_app(
        make_config(database_url, tmp_path, ENV="production", TESTING=False, SECRET_KEY="p" * 48)
    )
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            Directory().user("anna@example.com", admin_of=("400100",))
        http = app.test_client()
        base = "https://auth.example.test"
        page = http.get("/login", base_url=base)
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        response = http.post(
            "/login",
            base_url=base,
            headers={"Referer": f"{base}/login"},
            data={
                "email": "anna@example.com",
                "password": PASSWORD,
                "csrf_token": form_token(page),
            },
        )
        assert response.status_code == 303
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("__Host-authserver=")
        for flag in ("; Secure", "; HttpOnly", "; SameSite=Lax", "; Path=/"):
            assert flag in cookie
        assert "Domain=" not in cookie
        # over https, a POST must also come from this site (Flask-WTF's referrer check)
        token = form_token(http.get("/clients", base_url=base))
        foreign = http.post(
            "/clients",
            base_url=base,
            headers={"Referer": "https://evil.example/"},
            data={"teccom_id": "400100", "csrf_token": token},
        )
        assert foreign.status_code == 400
        assert "The form has expired" in foreign.get_data(as_text=True)
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    app: Flask,
    http: FlaskClient,
    anna: str,
) -> None:
    page = http.get("/login")
    refused = http.post("/login", data={"email": anna, "password": PASSWORD})
    assert refused.status_code == 400
    assert refused.mimetype == "text/html"
    assert "The form has expired" in refused.get_data(as_text=True)
    with http.session_transaction() as session:
        assert "sid" not in session

    token = login(http, anna)
    for data in (
        {"teccom_id": "400100"},
        {"teccom_id": "400100", "csrf_token": "forged"},
        {"teccom_id": "400100", "csrf_token": form_token(page)[:-2] + "xx"},
    ):
        response = http.post("/clients", data=data)
        assert response.status_code == 400, data
        assert "The form has expired" in response.get_data(as_text=True)
    assert db.session.execute(db.select(Client)).first() is None

    # a token from another visitor's session is no good either
    stranger = app.test_client()
    stranger_token = form_token(stranger.get("/login"))
    assert (
        http.post(
            "/clients", data={"teccom_id": "400100", "csrf_token": stranger_token}
        ).status_code
        == 400
    )
    assert db.session.execute(db.select(Client)).first() is None
    assert (
        http.post("/clients", data={"teccom_id": "400100", "csrf_token": token}).status_code == 201
    )


def test_csrf_applies_to_the_console_only(app: Flask, anna: str) -> None:
    """The OAuth endpoints (RFC 6749) and the bearer-token admin API take no
    CSRF token; a console session cookie does not authenticate the API.
    """
    probe = Blueprint("probe", __name__)
    probe.add_url_rule("/oauth2/probe", "probe", lambda: "ok", methods=["POST"])
    app.register_blueprint(probe)
    http = app.test_client()
    assert http.post("/oauth2/probe", data={"grant_type": "client_credentials"}).status_code == 200

    response = http.post("/api/v1/auth/login", json={"email": anna, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"

    token = login(http, anna)  # a console session
    api = http.post("/api/v1/clients", json={"teccom_id": "400100"})
    assert api.status_code == 401
    assert api.mimetype == "application/problem+json"
    assert http.get("/api/v1/clients").status_code == 401
    assert token


def test_machine_endpoints_get_no_session_cookie(http):
    from authserver.console.session_interface import ConsoleSessionInterface

    assert isinstance(http.application.session_interface, ConsoleSessionInterface)
    for path in (
        "/oauth2/jwks",
        "/.well-known/oauth-authorization-server",
        "/healthz",
        "/api/v1/openapi.json",
    ):
        response = http.get(path)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path


STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_state_changing_console_route_refuses_a_request_without_csrf_token(
    app: Flask,
    http: FlaskClient,
    anna: str,
) -> None:
    """Walks the URL map: whatever route is added to the console later, a
    POST (PUT, PATCH, DELETE) without the session's CSRF token is refused
    before the view runs, and changes nothing."""
    from authserver.models import AuditEvent

    token = login(http, anna)
    client_id = (
        http.post("/clients", data={"teccom_id": "400100", "csrf_token": token})
        .headers["Location"]
        .split("/")[2]
    )
    events = db.session.execute(db.select(db.func.count()).select_from(AuditEvent)).scalar_one()
    arguments = {"client_id": client_id, "teccom_id": "400100"}
    data = {
        "teccom_id": "400200",
        "add-teccom_id": "400200",
        "grace_period_seconds": "0",
        "email": anna,
        "edit-400100-enabled": "",
        "revoke_tokens": "y",
    }
    walked = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or not (rule.methods or set()) & STATE_CHANGING:
            continue
        url = rule.build({name: arguments.get(name, "x") for name in rule.arguments})[1]
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            for sent in (data, {**data, "csrf_token": "forged"}):
                response = http.open(url, method=method, data=sent)
                assert response.status_code == 400, (method, url)
                assert "The form has expired" in response.get_data(as_text=True), (method, url)
            walked.append(rule.endpoint)
    # login, logout (here and everywhere), create, rotate, delete, 3 organization and 2 administrator routes
    assert len(walked) >= 11
    assert (
        db.session.execute(db.select(db.func.count()).select_from(AuditEvent)).scalar_one()
        == events
    )
    client = db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()
    db.session.refresh(client)
    assert len(client.secrets) == 1 and [o.teccom_id for o in client.organizations] == ["400100"]
    assert http.get("/clients").status_code == 200  # still logged in: logout was refused too
