"""Two instances behind Debian's nginx (``deploy/nginx/authserver.conf``), on
one PostgreSQL and one Redis, as the README's production section runs them:
tokens from either instance validate through the balancer; rotation,
revocation, disabling an organization and key rotation take effect at once on
both; the failure throttle is shared; nginx answers its own errors as JSON
(413, 431, 502, and 504 in front of an upstream of the test's own that reads
requests and never answers); SIGKILL of one instance under load fails only the
requests in flight.

PostgreSQL only (several instances on one SQLite file is not a deployment);
one set of servers for the module. The 504 test needs nginx only.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
import requests
from conftest import PG_URL
from support.nginx import missing_reason, running_nginx
from support.postgres import create_database, drop_database
from support.server import Server, free_port, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

REDIS_URL = os.environ.get("AUTHSERVER_TEST_REDIS_URL")
FAILURE_LIMIT = 5
LOAD_THREADS = 4

#: nginx's own answers (deploy/nginx/authserver.conf), exactly
OAUTH_UNAVAILABLE = {
    "error": "temporarily_unavailable",
    "error_description": "The service is temporarily unavailable.",
}
PROBLEM_502 = {
    "type": "about:blank",
    "title": "Bad Gateway",
    "status": 502,
    "detail": "No instance answered; retry.",
}
PROBLEM_504 = {
    "type": "about:blank",
    "title": "Gateway Timeout",
    "status": 504,
    "detail": "No instance answered in time; retry.",
}


@dataclass
class Cluster:
    url: str  # the balancer
    a: Server
    b: Server
    client_id: str
    client_secret: str
    email: str
    password: str

    def token(self, base: str, secret: str | None = None, **form: str) -> requests.Response:
        return requests.post(
            base + "/oauth2/token",
            data={"grant_type": "client_credentials", **form},
            auth=(self.client_id, secret or self.client_secret),
            timeout=10,
        )

    def admin(self) -> dict[str, str]:
        login = requests.post(
            self.url + "/api/v1/auth/login",
            json={"email": self.email, "password": self.password},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        return {"Authorization": "Bearer " + login.json()["access_token"]}

    def introspect(self, base: str, token: str) -> dict[str, object]:
        answer = requests.post(
            base + "/oauth2/introspect",
            data={"token": token},
            auth=(self.client_id, self.client_secret),
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        result: dict[str, object] = answer.json()
        return result


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not PG_URL:
        pytest.skip("PostgreSQL only: set AUTHSERVER_TEST_DATABASE_URL")
    if not REDIS_URL:
        pytest.skip("needs Redis: set AUTHSERVER_TEST_REDIS_URL")
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    database = create_database(PG_URL, "_balancer")
    port = free_port()
    env = {
        "AUTHSERVER_ISSUER": f"http://127.0.0.1:{port}",
        # the same on every instance: admin tokens and console sessions work on both
        "AUTHSERVER_SECRET_KEY": secrets.token_urlsafe(48),
        "AUTHSERVER_REDIS_URL": REDIS_URL,
        "AUTHSERVER_TRUSTED_PROXIES": "1",
        "AUTHSERVER_AUTH_FAILURE_LIMIT": f"{FAILURE_LIMIT}/minute",
        "AUTHSERVER_KEY_CACHE_SECONDS": "1",
    }
    root = tmp_path_factory.mktemp("balancer")
    try:
        with ExitStack() as stack:
            a = stack.enter_context(running_server(database, root / "a", extra_env=env))
            b = stack.enter_context(running_server(database, root / "b", extra_env=env))
            upstreams = [a.url.removeprefix("http://"), b.url.removeprefix("http://")]
            url = stack.enter_context(running_nginx(upstreams, root / "nginx", port=port))
            demo = a.cli("demo", "setup")
            assert demo.returncode == 0, demo.stderr
            client_id, secret = re.search(r"curl -s -u (\S+?):(\S+) ", demo.stdout).groups()
            email, password = re.search(r"log in as (\S+) / (\S+)", demo.stdout).groups()
            yield Cluster(url, a, b, client_id, secret, email, password)
    finally:
        drop_database(database)


def test_tokens_from_either_instance_validate_through_the_balancer(cluster: Cluster) -> None:
    jwks = jwt.PyJWKClient(cluster.url + "/oauth2/jwks")
    for base in (cluster.a.url, cluster.b.url, cluster.url):
        answer = cluster.token(base)
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        claims = jwt.decode(
            token,
            jwks.get_signing_key_from_jwt(token).key,
            algorithms=["ES256"],
            audience="export-subscription-api",
            issuer=cluster.url,
        )
        assert claims["client_id"] == cluster.client_id
        assert cluster.introspect(cluster.url, token)["active"] is True


def test_revocation_takes_effect_at_once_on_both_instances(cluster: Cluster) -> None:
    token = cluster.token(cluster.url).json()["access_token"]
    revoked = requests.post(
        cluster.url + "/oauth2/revoke",
        data={"token": token},
        auth=(cluster.client_id, cluster.client_secret),
        timeout=10,
    )
    assert revoked.status_code == 200
    for base in (cluster.a.url, cluster.b.url):
        assert cluster.introspect(base, token) == {"active": False}


def test_disabling_an_organization_takes_effect_at_once_on_both(cluster: Cluster) -> None:
    admin = cluster.admin()
    path = f"{cluster.url}/api/v1/clients/{cluster.client_id}/organizations"
    added = requests.post(path, json={"teccom_id": "400200"}, headers=admin, timeout=10)
    assert added.status_code == 201, added.text
    assert cluster.token(cluster.a.url, scope="org:400200").status_code == 200
    disabled = requests.patch(path + "/400200", json={"enabled": False}, headers=admin, timeout=10)
    assert disabled.status_code == 200, disabled.text
    for base in (cluster.a.url, cluster.b.url):
        refused = cluster.token(base, scope="org:400200")
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_scope")


def test_secret_rotation_takes_effect_at_once_on_both(cluster: Cluster) -> None:
    old_token = cluster.token(cluster.url).json()["access_token"]
    for base in (cluster.a.url, cluster.b.url):  # both instances have verified the secret
        assert cluster.token(base).status_code == 200
    rotated = requests.post(
        f"{cluster.url}/api/v1/clients/{cluster.client_id}/secret",
        json={"revoke_tokens": True},
        headers=cluster.admin(),
        timeout=10,
    )
    assert rotated.status_code == 200, rotated.text
    old_secret, cluster.client_secret = cluster.client_secret, rotated.json()["client_secret"]
    for base in (cluster.a.url, cluster.b.url):
        assert cluster.token(base, secret=old_secret).status_code == 401
        assert cluster.token(base).status_code == 200
        assert cluster.introspect(base, old_token) == {"active": False}


def test_key_rotation_reaches_both_instances(cluster: Cluster) -> None:
    rotated = cluster.a.cli("keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    kid = rotated.stdout.split()[2]
    deadline = time.monotonic() + 5  # each process re-reads the keys every second
    pending = {cluster.a.url, cluster.b.url}
    while pending and time.monotonic() < deadline:
        for base in list(pending):
            published = {
                k["kid"] for k in requests.get(base + "/oauth2/jwks", timeout=10).json()["keys"]
            }
            signed = jwt.get_unverified_header(cluster.token(base).json()["access_token"])["kid"]
            if kid in published and signed == kid:
                pending.discard(base)
        time.sleep(0.2)
    assert not pending, f"still signing with the old key: {pending}"


def test_the_failure_throttle_is_shared_through_redis(cluster: Cluster) -> None:
    # an address of its own, new each run (one trusted proxy: the instances take
    # X-Forwarded-For), so that no earlier run's failures count
    attacker = {"X-Forwarded-For": f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.7"}
    wrong = (cluster.client_id, "wrong-secret")
    statuses = [
        requests.post(
            base + "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=wrong,
            headers=attacker,
            timeout=10,
        ).status_code
        for base in [cluster.a.url, cluster.b.url] * 3
    ]
    assert statuses == [401] * FAILURE_LIMIT + [429]


def test_nginx_answers_its_own_errors_as_json(cluster: Cluster) -> None:
    too_large = requests.post(
        cluster.url + "/oauth2/token", data={"grant_type": "x" * 20_000}, timeout=10
    )
    assert (too_large.status_code, too_large.headers["Content-Type"]) == (413, "application/json")
    assert too_large.json() == {
        "error": "invalid_request",
        "error_description": "Request body too large.",
    }
    assert too_large.headers["Cache-Control"] == "no-store"
    header = requests.get(cluster.url + "/api/v1/me", headers={"X-Big": "a" * 9000}, timeout=10)
    assert (header.status_code, header.headers["Content-Type"]) == (431, "application/problem+json")
    assert header.json() == {
        "type": "about:blank",
        "title": "Request Header Fields Too Large",
        "status": 431,
        "detail": "A request header is too large.",
    }
    assert header.headers["Cache-Control"] == "no-store"
    assert requests.get(cluster.url + "/metrics", timeout=10).status_code == 404


def test_sigkill_of_one_instance_under_load_fails_only_requests_in_flight(
    cluster: Cluster,
) -> None:
    answers: list[tuple[float, int]] = []
    stop = threading.Event()

    def load() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                answer = session.post(
                    cluster.url + "/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=(cluster.client_id, cluster.client_secret),
                    timeout=10,
                )
                answers.append((time.monotonic(), answer.status_code))

    threads = [threading.Thread(target=load) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    assert cluster.a.process is not None
    killed_at = time.monotonic()
    os.killpg(cluster.a.process.pid, signal.SIGKILL)  # the supervisor, gunicorn, its workers
    time.sleep(2.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    before = Counter(status for at, status in answers if at < killed_at)
    after = Counter(status for at, status in answers if at >= killed_at)
    assert set(before) == {200}, before
    failed = sum(count for status, count in after.items() if status != 200)
    assert failed <= LOAD_THREADS, after  # at most the requests in flight
    assert set(after) <= {200, 502}, after
    late = [status for at, status in answers if at >= killed_at + 1.0]
    assert late and set(late) == {200}, Counter(late)  # the other instance serves on
    print(f"SIGKILL under load: before {dict(before)}, after {dict(after)}")


def test_with_no_instance_left_nginx_answers_502_json(cluster: Cluster) -> None:
    assert cluster.b.process is not None
    os.killpg(cluster.b.process.pid, signal.SIGKILL)
    cluster.b.process.wait(timeout=10)
    answer = cluster.token(cluster.url)
    assert (answer.status_code, answer.headers["Content-Type"]) == (502, "application/json")
    assert answer.json() == OAUTH_UNAVAILABLE
    page = requests.get(cluster.url + "/api/v1/me", timeout=10)
    assert (page.status_code, page.headers["Content-Type"]) == (502, "application/problem+json")
    assert page.json() == PROBLEM_502


@contextmanager
def silent_upstream(deadline: float = 30.0) -> Iterator[tuple[str, list[bytes]]]:
    """A server that accepts connections and reads each request but never
    answers: its address and the request lines it read. It stops accepting
    after *deadline* seconds and closes every connection at exit."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()
    connections: list[socket.socket] = []
    received: list[bytes] = []

    def read_request(connection: socket.socket) -> None:
        connection.settimeout(2)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
            while length and len(body) < int(length.group(1)):
                chunk = connection.recv(65536)
                if not chunk:
                    return
                body += chunk
        except TimeoutError:
            return
        received.append(head.split(b"\r\n", 1)[0])

    def serve() -> None:
        ends = time.monotonic() + deadline
        while not stop.is_set() and time.monotonic() < ends:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connections.append(connection)
            read_request(connection)  # and leave it open, unanswered

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in connections:
            connection.close()
        listener.close()


def test_an_instance_that_never_answers_gets_nginx_504_json(tmp_path: Path) -> None:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with (
        silent_upstream() as (upstream, received),
        running_nginx([upstream], tmp_path / "nginx", read_timeout="1s") as url,
    ):
        started = time.monotonic()
        token = requests.post(
            url + "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("cl_timeout", "secret"),
            timeout=10,
        )
        assert (token.status_code, token.headers["Content-Type"]) == (504, "application/json")
        assert token.json() == OAUTH_UNAVAILABLE
        assert (token.headers["Cache-Control"], token.headers["Pragma"]) == ("no-store", "no-cache")
        assert time.monotonic() - started < 5  # the read timeout, not a client's
        page = requests.get(
            url + "/api/v1/clients", headers={"X-Request-ID": "balancer-504"}, timeout=10
        )
        assert (page.status_code, page.headers["Content-Type"]) == (504, "application/problem+json")
        assert page.json() == PROBLEM_504
        assert page.headers["X-Request-ID"] == "balancer-504"
        # the upstream got both requests: nginx timed out reading, it did connect
        assert b"POST /oauth2/token HTTP/1.1" in received
        assert b"GET /api/v1/clients HTTP/1.1" in received
