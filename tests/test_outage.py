"""A database outage: the app starts, stays alive, says it is not ready, and
answers 503 with a JSON error on every endpoint that needs the database,
never a stack trace.

The database is a PostgreSQL URL on a closed port: every connection is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import make_config

from authserver import create_app

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/unreachable"


@pytest.fixture
def outage_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_config(UNREACHABLE, tmp_path))
    return app.test_client()


def assert_no_stack_trace(response: Any) -> None:
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "psycopg" not in body
    assert "127.0.0.1:1" not in body


def test_healthz_stays_200(outage_http):
    response = outage_http.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_503_json(outage_http):
    response = outage_http.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "unavailable", "detail": "database unreachable"}
    assert_no_stack_trace(response)


def test_readyz_recovers_when_the_database_comes_back(tmp_path, monkeypatch):
    """A SQLite file in a folder that does not exist yet cannot be opened."""
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    folder = tmp_path / "later"
    http = create_app(make_config(f"sqlite:///{folder / 'db.sqlite3'}", tmp_path)).test_client()
    assert http.get("/readyz").status_code == 503
    assert http.get("/healthz").status_code == 200
    folder.mkdir()
    response = http.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


#: a value for each URL argument of the routes
ARGUMENTS = {"client_id": "cl_unknown", "teccom_id": "400100", "email": "ben@example.com"}

DB_DOWN_PROBLEM = {
    "type": "about:blank",
    "title": "Service unavailable",
    "status": 503,
    "detail": "The database is unavailable.",
}


def routes(app: Any, prefix: str = "/") -> list[tuple[str, str]]:
    """(method, url) of every route under *prefix*, arguments filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.rule.startswith(prefix):
            continue
        if rule.endpoint.startswith("console."):
            continue  # HTML pages: tests/console/test_outage.py walks them
        url = rule.build({name: ARGUMENTS.get(name, "x") for name in rule.arguments})[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def admin_bearer(app: Any) -> dict[str, str]:
    """A valid admin bearer token (it is signed with a key derived from SECRET_KEY,
    so issuing one needs no database); checking it needs the database."""
    from authserver.models import User
    from authserver.services import admin_login

    with app.app_context():
        token, _ = app.extensions[admin_login.EXTENSION].issue_token(
            User(id=1, email="anna@example.com")
        )
    return {"Authorization": f"Bearer {token}"}


def test_every_route_answers_json_and_never_500(outage_http):
    """Walk every registered route with each of its methods."""
    app = outage_http.application
    walked = routes(app)
    assert len(walked) >= 15
    for method, url in walked:
        response = outage_http.open(
            url,
            method=method,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic Y2xfeDp5"},
        )
        assert response.status_code != 500, (method, url)
        assert response.mimetype in {"application/json", "application/problem+json"}, (
            method,
            url,
            response.mimetype,
        )
        json.loads(response.get_data(as_text=True))
        assert_no_stack_trace(response)


def test_every_admin_api_route_with_a_valid_bearer_answers_503(outage_http):
    app = outage_http.application
    headers = admin_bearer(app)
    walked = [
        (method, url)
        for method, url in routes(app, "/api/v1/")
        # the login, and the Export service's report (gateway credentials, not
        # an admin bearer: a bearer is refused before the database is asked)
        if url not in {"/api/v1/openapi.json", "/api/v1/auth/login", "/api/v1/export-failures"}
    ]
    assert len(walked) >= 14
    for method, url in walked:
        response = outage_http.open(url, method=method, json={}, headers=headers)
        assert (method, url, response.status_code) == (method, url, 503)
        assert response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"] == "5"
        assert response.get_json() == DB_DOWN_PROBLEM
        assert_no_stack_trace(response)


def test_admin_login_answers_503(outage_http):
    response = outage_http.post(
        "/api/v1/auth/login", json={"email": "anna@example.com", "password": "demo-password-anna"}
    )
    assert response.status_code == 503
    assert response.get_json() == DB_DOWN_PROBLEM


def test_openapi_document_needs_no_database(outage_http):
    response = outage_http.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


OAUTH_DB_DOWN = {
    "error": "temporarily_unavailable",
    "error_description": "The service is temporarily unavailable.",
}
BASIC = {"Authorization": "Basic Y2xfdW5rbm93bjpzZWNyZXQ="}  # cl_unknown:secret


@pytest.mark.parametrize(
    ("path", "data", "headers"),
    [
        ("/oauth2/token", {"grant_type": "client_credentials"}, BASIC),
        (
            "/oauth2/token",
            {"grant_type": "client_credentials", "client_id": "cl_unknown", "client_secret": "s"},
            {},
        ),
        ("/oauth2/introspect", {"token": "abc"}, BASIC),
        ("/oauth2/revoke", {"token": "abc"}, BASIC),
    ],
    ids=["token-basic", "token-post", "introspect", "revoke"],
)
def test_oauth_endpoints_answer_rfc6749_shaped_503(outage_http, path, data, headers):
    response = outage_http.post(path, data=data, headers=headers)
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == OAUTH_DB_DOWN
    assert_no_stack_trace(response)


def test_jwks_answers_503_and_metadata_200(outage_http):
    jwks = outage_http.get("/oauth2/jwks")
    assert jwks.status_code == 503
    assert jwks.get_json() == OAUTH_DB_DOWN
    metadata = outage_http.get("/.well-known/oauth-authorization-server")
    assert metadata.status_code == 200
    assert metadata.get_json()["token_endpoint"] == "https://auth.example.test/oauth2/token"
