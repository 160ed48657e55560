"""The app's own access log and request ids (in process; the real server is
in test_secrets_in_logs.py)."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from authserver.observability import logs
from authserver.observability.access_log import redact_query


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("", ""),
        ("page=2&limit=10", "page=2&limit=10"),
        ("client_secret=s3cr3t", "client_secret=[REDACTED]"),
        ("client%5Fsecret=s3cr3t", "client_secret=[REDACTED]"),
        ("CLIENT_SECRET=s3cr3t&x=1", "CLIENT_SECRET=[REDACTED]&x=1"),
        ("client_assertion=eyJ&token=t&access_token=a&password=p", None),
        ("refresh_token=r&id_token=i&api_key=k", None),
        ("client_secret", "client_secret=[REDACTED]"),
        (
            "a=1&client_secret=x&client_secret=y",
            "a=1&client_secret=[REDACTED]&client_secret=[REDACTED]",
        ),
        ("email=anna%40example.com", "email=anna%40example.com"),
    ],
)
def test_sensitive_query_values_are_replaced(query: str, logged: str | None) -> None:
    result = redact_query(query)
    if logged is None:
        assert set(re.findall(r"=([^&]*)", result)) == {"[REDACTED]"}, result
    else:
        assert result == logged


def test_undecodable_query_is_logged_without_secrets() -> None:
    assert redact_query("client_secret=%ff%fe&x=%ff") == "client_secret=[REDACTED]&x=%EF%BF%BD"


@pytest.mark.parametrize("path", ["/healthz", "/oauth2/token", "/api/v1/me", "/login", "/nowhere"])
def test_every_answer_carries_the_callers_request_id(http: FlaskClient, path: str) -> None:
    response = http.get(path, headers={"X-Request-ID": "abc.DEF_123:4-5"})
    assert response.headers.getlist("X-Request-ID") == ["abc.DEF_123:4-5"]


@pytest.mark.parametrize("incoming", ["", "a b", "x" * 65, "é", "a\tb", "a/b"])
def test_an_ill_formed_request_id_is_replaced(http: FlaskClient, incoming: str) -> None:
    response = http.get("/healthz", headers={"X-Request-ID": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_access_record_has_the_request_and_the_authenticated_client(
    http: FlaskClient, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    from conftest import Directory
    from support.oauth import partner, token_request

    with app.app_context():
        creds = partner(Directory(), "400100")
    caplog.set_level(logging.INFO, logger="authserver.access")
    token = token_request(http, creds)
    assert token.status_code == 200
    token.close()  # the record is written once the answer is sent
    response = http.get("/healthz?password=hunter2", headers={"X-Request-ID": "r-2"})
    response.close()
    token_record, health_record = [r for r in caplog.records if r.name == "authserver.access"][-2:]
    assert token_record.client_id == creds.client_id  # type: ignore[attr-defined]
    assert token_record.http["path"] == "/oauth2/token"  # type: ignore[attr-defined]
    assert token_record.http["status"] == 200  # type: ignore[attr-defined]
    assert health_record.request_id == "r-2"  # type: ignore[attr-defined]
    assert health_record.http["path"] == "/healthz?password=[REDACTED]"  # type: ignore[attr-defined]
    assert "hunter2" not in caplog.text


def test_json_format_writes_one_object_per_line_with_the_context() -> None:
    record = logging.LogRecord(
        "authserver.x", logging.WARNING, __file__, 1, "hello %s", ("you",), None
    )
    logs.RequestContext().filter(record)
    line = logs.formatter("json").format(record)
    assert json.loads(line) == {
        "time": json.loads(line)["time"],
        "level": "WARNING",
        "logger": "authserver.x",
        "message": "hello you",
        "request_id": "-",
        "client_id": "-",
    }
    assert logs.formatter("text").format(record).endswith("WARNING authserver.x [-] hello you")
