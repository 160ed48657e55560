"""A database outage seen from the browser: every console page answers a
503 page (HTML, ``Retry-After``), never a 500 or a stack trace; logging out
drops the cookie even so.

The database is a PostgreSQL URL on a closed port: every connection is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_config  # tests/conftest.py (rootdir conftest)

from authserver import create_app

from .conftest import form_token

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/unreachable"
ARGUMENTS = {"client_id": "cl_unknown", "teccom_id": "400100"}


#: pages that are documentation and answer without the database: endpoint -> status
#: (``x`` is no problem type)
DOCUMENTATION = {"console.problems": 200, "console.problem": 404}


def test_every_console_route_answers_a_503_page_during_a_database_outage(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_config(UNREACHABLE, tmp_path))
    http = app.test_client()
    token = form_token(http.get("/login"))  # no session yet: no database needed
    with http.session_transaction() as session:  # as if logged in before the outage
        session["sid"] = "h" * 43

    walked = unavailable = 0
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("console.") and rule.endpoint != "console.static"
    ]
    for rule in sorted(rules, key=lambda rule: rule.endpoint == "console.logout"):  # logout last
        url = rule.build({name: ARGUMENTS.get(name, "x") for name in rule.arguments})[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            walked += 1
            if rule.endpoint == "console.logout":  # no page on the way has dropped the cookie
                with http.session_transaction() as session:
                    assert session["sid"] == "h" * 43
            response = http.open(
                url, method=method, data={"csrf_token": token, "teccom_id": "400100"}
            )
            body = response.get_data(as_text=True)
            assert "Traceback" not in body and "psycopg" not in body and "127.0.0.1:1" not in body
            if rule.endpoint in DOCUMENTATION:  # needs no database
                assert (response.status_code, response.mimetype) == (
                    DOCUMENTATION[rule.endpoint],
                    "text/html",
                ), url
                walked -= 1
                continue
            assert response.status_code == 503, (method, url)
            assert response.mimetype == "text/html"
            assert response.headers["Retry-After"] == "5"
            assert "The database is unavailable. Try again in a moment." in body
            unavailable += 1
    assert walked >= 16 and unavailable == walked
    # logout could not end the session on the server, but the cookie is gone
    with http.session_transaction() as session:
        assert "sid" not in session
