"""A database outage seen from the browser: every console page answers a
503 page (HTML, ``Retry-After``), never a 500 or a stack trace.

The database is a PostgreSQL URL on a closed port: every connection is refused.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from authserver import create_app

from conftest import make_config  # tests/conftest.py (rootdir conftest)
from .conftest import form_token

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/unreachable"
ARGUMENTS = {"client_id": "cl_unknown", "teccom_id": "400100"}


def test_every_console_route_answers_a_503_page_during_a_database_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_config(UNREACHABLE, tmp_path))
    http = app.test_client()
    token = form_token(http.get("/login"))  # no session yet: no database needed
    with http.session_transaction() as session:  # as if logged in before the outage
        session.update(uid=1, fp="0" * 16, since=int(time.time()))

    walked = unavailable = 0
    rules = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("console.") and rule.endpoint != "console.static"]
    for rule in sorted(rules, key=lambda rule: rule.endpoint == "console.logout"):  # logout last
        url = rule.build({name: ARGUMENTS.get(name, "x") for name in rule.arguments})[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            walked += 1
            response = http.open(url, method=method, data={"csrf_token": token, "teccom_id": "400100"})
            body = response.get_data(as_text=True)
            assert "Traceback" not in body and "psycopg" not in body and "127.0.0.1:1" not in body
            if rule.endpoint == "console.logout":  # needs no database
                assert response.status_code == 303
                continue
            assert response.status_code == 503, (method, url)
            assert response.mimetype == "text/html"
            assert response.headers["Retry-After"] == "5"
            assert "The database is unavailable. Try again in a moment." in body
            unavailable += 1
    assert walked >= 15 and unavailable == walked - 1
