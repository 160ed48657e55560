"""No secret in any log: secrets sent in the query, the headers and the body of
every endpoint of the real server (started as ``make serve`` starts it, JSON
logs) never appear in a line it wrote; every line is JSON, and the access log
has one record per request with its request id.

SQLite only: what is logged does not depend on the database.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import quote, quote_plus

import pytest
import requests
from support.server import Server

pytestmark = pytest.mark.e2e

#: values sent where no secret belongs; none may be logged, in any encoding
PLANTED = {
    "client_secret": "planted-client-secret-7f3a9c",
    "client_assertion": "planted-assertion-eyJhbGciOi",
    "token": "planted-token-51be02",
    "access_token": "planted-access-token-c0ffee",
    "password": "planted-password-d4e5f6",
    "refresh_token": "planted-refresh-token-aa11",
}
#: the query string of every request: each planted value, also under encoded names
QUERY = "&".join(f"{name}={value}" for name, value in PLANTED.items()) + (
    "&client%5Fsecret=planted-encoded-name-9911&Client_Secret=planted-upper-name-7722"
)
PLANTED_ALSO = ("planted-encoded-name-9911", "planted-upper-name-7722", "planted-header-3344")

#: the server's own lines (Granian's start, workers, stop; gunicorn's too): not the app's
SERVER_LINE = re.compile(
    r"^\[\d{4}-\d\d-\d\d [^\]]+\] \[\d+\] \[[A-Z]+\] |^\[(INFO|WARNING|ERROR)\] "
)


def log_lines(server: Server) -> list[str]:
    return server.log.read_text().splitlines()


def records(server: Server) -> list[dict[str, object]]:
    return [json.loads(line) for line in log_lines(server) if line.startswith("{")]


def encodings(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}


def test_secrets_sent_anywhere_to_every_endpoint_are_never_logged(
    server: Server, demo: dict[str, str]
) -> None:
    url = server.url
    basic = (demo["client_id"], demo["client_secret"])
    headers = {"X-Client-Secret": "planted-header-3344", "X-Request-ID": "trace-logs-1"}
    with requests.Session() as http:
        token = http.post(
            f"{url}/oauth2/token?{QUERY}",
            data={"grant_type": "client_credentials"},
            auth=basic,
            headers=headers,
            timeout=10,
        )
        assert token.status_code == 200  # the query is never read (RFC 6749 §3.2: the body)
        token = http.post(
            f"{url}/oauth2/token",
            data={"grant_type": "client_credentials", **demo},
            headers=headers,
            timeout=10,
        )
        assert token.status_code == 200  # client_secret_post; other fields are ignored
        token = http.post(
            f"{url}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=basic,
            headers=headers,
            timeout=10,
        )
        assert token.status_code == 200, token.text
        access_token = token.json()["access_token"]
        login = http.post(
            f"{url}/api/v1/auth/login?{QUERY}",
            json={"email": demo["email"], "password": demo["password"]},
            headers=headers,
            timeout=10,
        )
        assert login.status_code == 200, login.text
        admin_token = login.json()["access_token"]
        calls = [
            ("GET", f"/oauth2/token?grant_type=client_credentials&{QUERY}", {}),
            ("POST", f"/oauth2/introspect?{QUERY}", {"data": {"token": access_token}}),
            ("POST", f"/oauth2/revoke?{QUERY}", {"data": {"token": access_token}}),
            ("GET", f"/oauth2/jwks?{QUERY}", {}),
            ("GET", f"/.well-known/oauth-authorization-server?{QUERY}", {}),
            ("GET", f"/healthz?{QUERY}", {}),
            ("GET", f"/readyz?{QUERY}", {}),
            ("GET", f"/metrics?{QUERY}", {}),
            ("GET", f"/login?{QUERY}", {}),
            ("POST", f"/login?{QUERY}", {"data": {"email": demo["email"], **PLANTED}}),
            ("GET", f"/nowhere?{QUERY}", {}),
        ]
        for method, path, options in calls:
            answer = http.request(
                method, url + path, auth=basic, headers=headers, timeout=10, **options
            )
            assert answer.status_code < 500, (path, answer.status_code)
            assert answer.headers["X-Request-ID"] == "trace-logs-1"
        for header in ("Authorization", "X-Access-Token"):
            answer = http.get(
                f"{url}/api/v1/clients?{QUERY}",
                headers={**headers, header: f"Bearer {admin_token}"},
                timeout=10,
            )
            assert answer.status_code in (200, 401)
        http.post(f"{url}/api/v1/auth/login", json=PLANTED, headers=headers, timeout=10)
    secrets = [demo["client_secret"], demo["password"], access_token, admin_token]
    secrets += [*PLANTED.values(), *PLANTED_ALSO]
    server_lines = wait_for_access_lines(server, count=17)
    for line in server_lines:
        for secret in secrets:
            for form in encodings(secret):
                assert form not in line, (secret, line)


def wait_for_access_lines(server: Server, count: int) -> list[str]:
    """The log once it holds *count* access records of requests sent with our id."""
    deadline = time.monotonic() + 10
    while True:
        lines = log_lines(server)
        access = [
            r
            for r in records(server)
            if r.get("logger") == "authserver.access" and r.get("request_id") == "trace-logs-1"
        ]
        if len(access) >= count or time.monotonic() > deadline:
            assert len(access) >= count, lines
            return lines
        time.sleep(0.1)


def test_every_line_is_json_and_access_records_say_what_was_asked(
    server: Server, demo: dict[str, str]
) -> None:
    token = requests.post(
        server.url + "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(demo["client_id"], demo["client_secret"]),
        headers={"X-Request-ID": "trace-logs-2"},
        timeout=10,
    )
    assert token.status_code == 200
    assert token.headers["X-Request-ID"] == "trace-logs-2"
    bad_id = requests.get(
        server.url + "/healthz", headers={"X-Request-ID": "not ok\u00e9"}, timeout=10
    )
    assert re.fullmatch(r"[0-9a-f]{32}", bad_id.headers["X-Request-ID"])
    lines = wait_for_id(server, "trace-logs-2")
    for line in lines:
        assert line.startswith("{") or SERVER_LINE.match(line), line
    (access,) = [
        r
        for r in records(server)
        if r.get("logger") == "authserver.access" and r.get("request_id") == "trace-logs-2"
    ]
    assert access["level"] == "INFO"
    assert access["client_id"] == demo["client_id"]
    http_fields = access["http"]
    assert isinstance(http_fields, dict)
    assert (http_fields["method"], http_fields["path"], http_fields["status"]) == (
        "POST",
        "/oauth2/token",
        200,
    )
    assert http_fields["remote_addr"] == "127.0.0.1"
    assert http_fields["duration_ms"] > 0


def wait_for_id(server: Server, request_id: str) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = log_lines(server)
        if any(request_id in line for line in lines):
            return lines
        time.sleep(0.1)
    raise AssertionError(f"no log line with {request_id}")


def test_audit_events_go_to_the_log_once_committed(server: Server, demo: dict[str, str]) -> None:
    login = requests.post(
        server.url + "/api/v1/auth/login",
        json={"email": demo["email"], "password": demo["password"]},
        timeout=10,
    )
    rotated = requests.post(
        f"{server.url}/api/v1/clients/{demo['client_id']}/secret",
        json={},
        headers={
            "Authorization": "Bearer " + login.json()["access_token"],
            "X-Request-ID": "trace-logs-3",
        },
        timeout=10,
    )
    assert rotated.status_code == 200, rotated.text
    wait_for_id(server, "trace-logs-3")
    (event,) = [
        r["audit"]
        for r in records(server)
        if r.get("logger") == "authserver.audit" and r.get("request_id") == "trace-logs-3"
    ]
    assert event["action"] == "client.secret_rotated"
    assert event["client_id"] == demo["client_id"]
    assert event["actor"] == demo["email"]
    demo["client_secret"] = rotated.json()["client_secret"]  # for the tests after this one
    assert demo["client_secret"] not in server.log.read_text()
