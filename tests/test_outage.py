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

from authserver import create_app

from conftest import make_config

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


def test_every_route_answers_json_and_never_500(outage_http):
    """Walk every registered route with each of its methods."""
    app = outage_http.application
    seen = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.arguments - set(rule.defaults or {}):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = outage_http.open(rule.rule, method=method, data={"grant_type": "client_credentials"},
                                        headers={"Authorization": "Basic Y2xfeDp5"})
            seen += 1
            assert response.status_code != 500, (method, rule.rule)
            assert response.mimetype in {"application/json", "application/problem+json", "text/html"}, (
                method, rule.rule, response.mimetype)
            if response.mimetype != "text/html":
                json.loads(response.get_data(as_text=True))
            assert_no_stack_trace(response)
    assert seen >= 2


def test_a_view_that_queries_the_database_answers_503_problem_json(tmp_path, monkeypatch):
    """Through the app's own error handler, with a real refused connection."""
    from authserver.extensions import db
    from authserver.models import User

    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_config(UNREACHABLE, tmp_path))

    @app.get("/probe-users")
    def probe_users() -> Any:
        return {"count": len(db.session.execute(db.select(User)).all())}

    response = app.test_client().get("/probe-users")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {
        "type": "about:blank", "title": "Service unavailable", "status": 503,
        "detail": "The database is unavailable.",
    }
    assert_no_stack_trace(response)


def test_an_oauth_path_that_queries_the_database_answers_rfc6749_503(tmp_path, monkeypatch):
    from authserver.extensions import db
    from authserver.models import Client

    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_config(UNREACHABLE, tmp_path))

    @app.post("/oauth2/probe")
    def probe_clients() -> Any:
        return {"count": len(db.session.execute(db.select(Client)).all())}

    response = app.test_client().post("/oauth2/probe")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "error": "temporarily_unavailable", "error_description": "The service is temporarily unavailable.",
    }
