"""End to end: failed client authentication is slowed down across real workers.

A server of its own (the shared e2e server lifts the limits, since every test
calls from 127.0.0.1), with a limit of 3 failures a minute. With
``AUTHSERVER_TEST_REDIS_URL`` the two gunicorn workers share their counts in
Redis; without it each worker counts in its own memory.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.server import Server, running_server

pytestmark = pytest.mark.e2e

REDIS_URL = os.environ.get("AUTHSERVER_TEST_REDIS_URL")
LIMIT = 3
WORKERS = 2


@pytest.fixture(scope="module", params=["memory"] + (["redis"] if REDIS_URL else []))
def throttled_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Server]]:
    instance = tmp_path_factory.mktemp("throttle-instance")
    extra = {
        "AUTHSERVER_AUTH_FAILURE_LIMIT": f"{LIMIT}/minute",
        **({"AUTHSERVER_REDIS_URL": REDIS_URL} if request.param == "redis" and REDIS_URL else {}),
    }
    url = f"sqlite:///{instance / 'throttle.sqlite3'}"
    with running_server(url, instance, workers=WORKERS, extra_env=extra) as server:
        yield request.param, server


def test_repeated_failures_get_429_with_retry_after(throttled_server: tuple[str, Server]) -> None:
    storage, server = throttled_server
    client_id = "cl_guess_" + secrets.token_hex(8)  # a fresh key in a shared Redis
    # shared counts refuse the (LIMIT+1)th attempt; counts in memory do so once
    # one worker has seen LIMIT failures, which WORKERS * LIMIT + 1 attempts ensure
    attempts = LIMIT + 1 if storage == "redis" else WORKERS * LIMIT + 1
    answers = []
    for _ in range(attempts):
        answers.append(
            requests.post(
                server.url + "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, "wrong-secret"),
                timeout=10,
            )
        )
        if answers[-1].status_code == 429:
            break
    assert [a.status_code for a in answers[:-1]] == [401] * (len(answers) - 1)
    throttled = answers[-1]
    assert throttled.status_code == 429
    assert throttled.json()["error"] == "temporarily_unavailable"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert throttled.headers["Cache-Control"] == "no-store"
    if storage == "redis":
        assert len(answers) <= LIMIT + 1


def test_the_server_log_holds_no_secret(throttled_server: tuple[str, Server]) -> None:
    _, server = throttled_server
    assert "wrong-secret" not in Path(server.log).read_text()
