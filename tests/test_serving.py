"""``authserver serve``: SIGTERM drains the instance. ``/readyz`` answers 503
at once while every other request keeps being served for
``AUTHSERVER_DRAIN_SECONDS``; then the server stops, letting the requests in
flight finish, and the command exits 0.

Granian copies the process environment into every request's WSGI environ; the
app a worker serves (:func:`authserver.serving.served_app`) takes the
``AUTHSERVER_*`` variables out of the worker's environment first, and no
value of them reaches a log line or an answer, errors included.

SQLite only: neither depends on the database.
"""

from __future__ import annotations

import gc
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
from cryptography.fernet import Fernet
from support.server import ROOT, free_port, running_server, server_env, stop

from authserver import gate, serving

pytestmark = pytest.mark.e2e

DRAIN_SECONDS = 2.0


def test_server_command_is_granian_with_threads_for_the_waits_outside_the_gate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AUTHSERVER_TARPIT_SLOTS", raising=False)
    command = serving.server_command("0.0.0.0", 8123, 3)

    assert command == [
        str(Path(sys.executable).parent / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "0.0.0.0",
        "--port",
        "8123",
        "--workers",
        "3",
        "--blocking-threads",
        "35",  # one runs the app; 2 argon2 verifications and 32 held refusals wait outside
        "--backpressure",
        "256",
        "--http",
        "1",
        "--no-ws",
        "--http1-header-read-timeout",
        "10000",
        "--http1-buffer-size",
        "65536",
        "--respawn-failed-workers",
        "--workers-kill-timeout",
        "10",
        "--log-level",
        "info",
        "--factory",
        "authserver.serving:served_app",
    ]
    assert not any("access-log" in part for part in command)  # the app writes its own


def test_the_threads_follow_the_tarpit_slots() -> None:
    assert serving.blocking_threads({"AUTHSERVER_TARPIT_SLOTS": "8"}) == 11
    assert serving.blocking_threads({"AUTHSERVER_TARPIT_SLOTS": "0"}) == 3
    assert serving.blocking_threads({}) == 35


def test_a_refused_authentication_is_held_while_the_worker_serves_others(
    tmp_path: Path,
) -> None:
    """One worker: a 429 is held for ``AUTHSERVER_TARPIT_SECONDS`` outside the
    worker's gate, and a client whose secret is verified gets its token meanwhile."""
    instance = tmp_path / "instance"
    with running_server(
        f"sqlite:///{instance / 'tarpit.sqlite3'}",
        instance,
        workers=1,
        extra_env={"AUTHSERVER_ARGON2_FAILURE_BUDGET": "1/hour", "AUTHSERVER_TARPIT_SECONDS": "2"},
    ) as server:
        setup = server.cli("demo", "setup")
        found = re.search(r"curl -s -u (\S+?):(\S+) -d grant_type", setup.stdout)
        assert found, setup.stdout + setup.stderr
        token_url = server.url + "/oauth2/token"
        form = {"grant_type": "client_credentials"}

        def token(client_id: str, secret: str) -> requests.Response:
            return requests.post(token_url, data=form, auth=(client_id, secret), timeout=30)

        assert token(found[1], found[2]).status_code == 200  # verified once
        assert token("cl_unknown1", "wrong").status_code == 401  # the budget is spent
        finished: dict[str, float] = {}
        refused: list[requests.Response] = []

        def refuse() -> None:
            refused.append(token("cl_unknown2", "wrong"))
            finished["refused"] = time.monotonic()

        sent = time.monotonic()
        flood = threading.Thread(target=refuse)
        flood.start()
        time.sleep(0.5)  # the refusal is being held
        issued = token(found[1], found[2])
        finished["issued"] = time.monotonic()
        flood.join(timeout=30)

    assert issued.status_code == 200
    assert refused[0].status_code == 429
    assert refused[0].headers["Retry-After"] == "1"
    assert refused[0].json()["error"] == "temporarily_unavailable"
    assert finished["refused"] - sent >= 2.0  # held
    assert finished["issued"] < finished["refused"]  # served meanwhile, by the same worker


def test_an_application_object_is_served_without_factory() -> None:
    command = serving.server_command("127.0.0.1", 8123, app="bare_flask:app", factory=False)

    assert command[-1] == "bare_flask:app" and "--factory" not in command


def test_no_workers_is_refused() -> None:
    with pytest.raises(ValueError):
        serving.server_command("127.0.0.1", 8123, 0)


def test_bodies_sent_slowly_do_not_stop_the_worker(tmp_path: Path) -> None:
    """One worker, three connections that send a token request's headers and
    only part of its body: the worker reads bodies before its gate
    (:meth:`authserver.gate.Gate.read_body`), so it keeps answering others,
    and a slow body once complete gets its answer."""
    instance = tmp_path / "instance"
    with running_server(f"sqlite:///{instance / 'slow.sqlite3'}", instance, workers=1) as server:
        host, port = server.url.removeprefix("http://").split(":")
        body = b"grant_type=client_credentials"
        head = (
            b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Authorization: Basic Y2xfbm9ib2R5Ondyb25n\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        slow = [socket.create_connection((host, int(port)), timeout=30) for _ in range(3)]
        for connection in slow:
            connection.sendall(head + body[:10])
        time.sleep(0.5)  # each is in the worker now, waiting for the rest
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        slow[0].sendall(body[10:])
        answer = slow[0].makefile("rb").readline()
        for connection in slow:
            connection.close()
    assert answer == b"HTTP/1.1 401 Unauthorized\r\n"


def test_the_argon2_failure_budget_is_one_for_the_instance_not_per_worker(
    tmp_path: Path,
) -> None:
    """Two workers, a budget of one failure an hour: of twelve wrong secrets
    for unknown client ids (a new connection each, so both workers get some),
    one is verified (401) and the others refused before hashing (429)."""
    instance = tmp_path / "instance"
    with running_server(
        f"sqlite:///{instance / 'budget.sqlite3'}",
        instance,
        workers=2,
        extra_env={
            "AUTHSERVER_ARGON2_FAILURE_BUDGET": "1/hour",
            "AUTHSERVER_AUTH_FAILURE_LIMIT": "1000/minute",  # the per-address count stays out
            "AUTHSERVER_TARPIT_SECONDS": "0",
        },
    ) as server:
        statuses = [
            requests.post(
                server.url + "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(f"cl_unknown{n}", "wrong"),
                timeout=30,
            ).status_code
            for n in range(12)
        ]
    assert statuses == [401] + [429] * 11


def test_sigterm_fails_readiness_keeps_serving_then_stops(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    with running_server(
        f"sqlite:///{instance / 'drain.sqlite3'}",
        instance,
        extra_env={"AUTHSERVER_DRAIN_SECONDS": str(DRAIN_SECONDS)},
    ) as server:
        assert server.process is not None
        assert requests.get(server.url + "/readyz", timeout=5).status_code == 200
        answers: list[tuple[float, int | str]] = []
        stop = threading.Event()

        def load() -> None:  # a new connection each time, like a balancer's health checks
            while not stop.is_set():
                try:
                    status: int | str = requests.get(server.url + "/healthz", timeout=5).status_code
                except requests.ConnectionError as error:
                    text = str(error).lower()
                    status = (
                        "refused" if "refused" in text else "reset" if "reset" in text else text
                    )
                answers.append((time.monotonic(), status))
                if status == "refused":
                    return
                time.sleep(0.02)

        worker = threading.Thread(target=load)
        worker.start()
        time.sleep(0.3)
        sigterm_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        ready: list[tuple[float, int]] = []
        while time.monotonic() - sigterm_at < DRAIN_SECONDS - 0.5:
            status = requests.get(server.url + "/readyz", timeout=5).status_code
            ready.append((time.monotonic() - sigterm_at, status))
            time.sleep(0.1)
        assert server.process.wait(timeout=DRAIN_SECONDS + 20) == 0
        drained_in = time.monotonic() - sigterm_at
        stop.set()
        worker.join(timeout=10)

    statuses = [status for _, status in ready]
    assert 503 in statuses, ready
    flipped = statuses.index(503)
    # readiness fails within a second of SIGTERM (the supervisor looks every 0.2 s), for good
    assert set(statuses[flipped:]) == {503} and ready[flipped][0] < 1.0, ready
    during = [status for at, status in answers if sigterm_at <= at < sigterm_at + DRAIN_SECONDS]
    assert during and set(during) == {200}, during  # nothing failed while draining
    # once stopped: refused (a connection still in the listen queue may be reset)
    assert {status for _, status in answers} <= {200, "refused", "reset"}, answers
    assert DRAIN_SECONDS <= drained_in < DRAIN_SECONDS + 15, drained_in
    print(
        f"drain: SIGTERM to exit in {drained_in:.2f} s (AUTHSERVER_DRAIN_SECONDS={DRAIN_SECONDS})"
    )


def test_served_app_reads_the_configuration_then_forgets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("AUTHSERVER_"):  # the test run's own (restored after)
            monkeypatch.delenv(name)
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", f"sqlite:///{tmp_path / 'forget.sqlite3'}")
    monkeypatch.setenv("AUTHSERVER_SECRET_KEY", "forgotten-secret-key-" + "k" * 24)
    monkeypatch.setenv("AUTHSERVER_METRICS_TOKEN", "forgotten-metrics-token")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(gate, "_lock", None)  # the gate of this "worker" goes with the test

    app = serving.served_app()
    frozen = gc.get_freeze_count()
    gc.unfreeze()  # the worker keeps its start-up objects frozen; this test process does not

    assert frozen > 0  # the start-up objects are out of the collector's sight
    assert app.config["SECRET_KEY"] == "forgotten-secret-key-" + "k" * 24
    assert app.config["METRICS_TOKEN"] == "forgotten-metrics-token"
    assert app.instance_path == str(tmp_path)
    assert not [name for name in os.environ if name.startswith("AUTHSERVER_")]
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)  # read by every new metric
    assert "PATH" in os.environ
    assert isinstance(app.wsgi_app, gate.Gate)  # one request at a time runs the app


def test_forget_configuration_removes_only_the_prefix() -> None:
    environ = {
        "AUTHSERVER_SECRET_KEY": "s",
        "AUTHSERVER_X": "x",
        "PATH": "/bin",
        "XAUTHSERVER_": "y",
    }

    assert serving.forget_configuration(environ) == ["AUTHSERVER_SECRET_KEY", "AUTHSERVER_X"]
    assert environ == {"PATH": "/bin", "XAUTHSERVER_": "y"}


def environ_keys(target: str, instance: Path) -> list[str]:
    """The keys of a request's WSGI environ under Granian started by
    :func:`~authserver.serving.server_command` with the factory *target* of
    ``tests/support/environ_probe.py``."""
    port = free_port()
    env = server_env(f"sqlite:///{instance / 'probe.sqlite3'}", instance, port)
    env["AUTHSERVER_SECRET_KEY"] = "probe-secret-key-" + "p" * 24
    env["PYTHONPATH"] = str(ROOT / "tests")
    command = serving.server_command("127.0.0.1", port, 1, app=f"support.environ_probe:{target}")
    instance.mkdir(parents=True, exist_ok=True)
    with open(instance / "probe.log", "wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (instance / "probe.log").read_text()
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/_environ_keys", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, (instance / "probe.log").read_text()
                time.sleep(0.1)
        assert answer.status_code == 200
        keys: list[str] = answer.json()
        return keys
    finally:
        stop(process)


def test_granian_copies_the_environment_but_the_served_app_has_no_configuration_in_it(
    tmp_path: Path,
) -> None:
    unfiltered = environ_keys("unfiltered", tmp_path / "unfiltered")
    served = environ_keys("served", tmp_path / "served")

    # Granian's doing (granian.wsgi._callback_wrapper: dict(os.environ) | scope)
    assert {"AUTHSERVER_SECRET_KEY", "AUTHSERVER_DATABASE_URL", "PATH"} <= set(unfiltered)
    assert not [key for key in served if key.startswith("AUTHSERVER_")], served
    assert {"PATH", "PATH_INFO", "REQUEST_METHOD", "HTTP_HOST"} <= set(served)


def test_configuration_secrets_never_reach_a_log_or_an_answer(tmp_path: Path) -> None:
    """Requests that fail every way (404, 405, 400, 401, 413, 415, 422, 431,
    and a 500 once the database file is garbage), with the app logging at
    DEBUG: no value of a secret variable is in any line or any answer."""
    instance = tmp_path / "instance"
    database = instance / "leak.sqlite3"
    planted = {
        "AUTHSERVER_SECRET_KEY": "planted-secret-key-" + "s" * 24,
        "AUTHSERVER_METRICS_TOKEN": "planted-metrics-token-2b7e",
        "AUTHSERVER_KEY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "AUTHSERVER_SMTP_URL": "smtp+starttls://mailer:planted-smtp-password-91ac@127.0.0.1:1",
    }
    answers: list[requests.Response] = []
    with (
        running_server(
            f"sqlite:///{database}",
            instance,
            extra_env={**planted, "AUTHSERVER_LOG_LEVEL": "DEBUG"},
        ) as server,
        requests.Session() as http,
    ):
        url = server.url

        def send(method: str, path: str, **options: object) -> None:
            answers.append(http.request(method, url + path, timeout=10, **options))  # type: ignore[arg-type]

        send("GET", "/nowhere")
        send("GET", "/api/v1/nowhere")
        send("DELETE", "/oauth2/token")
        send("POST", "/oauth2/token", data={"grant_type": "password"})
        send("POST", "/oauth2/token", data={"grant_type": "client_credentials"}, auth=("cl_x", "y"))
        send("POST", "/oauth2/token", data={"grant_type": "x" * 20_000})
        send(
            "POST",
            "/api/v1/auth/login",
            data="{not json",
            headers={"Content-Type": "application/json"},
        )
        send("POST", "/api/v1/auth/login", data="a=b")
        send("POST", "/api/v1/auth/login", json={"email": 1})
        send("GET", "/api/v1/clients", headers={"Authorization": "Bearer nope"})
        send("GET", "/metrics", headers={"Authorization": "Bearer wrong-metrics-token"})
        send("GET", "/healthz", headers={"X-Big": "a" * 200_000})
        send("POST", "/login", data={"email": "x@example.com", "password": "y"})  # no CSRF
        send("GET", "/login")
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', answers[-1].text)
        assert csrf, answers[-1].text
        database.write_bytes(b"garbage, not a database " * 512)  # in place: the same file
        send("POST", "/oauth2/token", data={"grant_type": "client_credentials"}, auth=("cl_x", "y"))
        send("POST", "/api/v1/auth/login", json={"email": "x@example.com", "password": "y"})
        login = {"email": "x@example.com", "password": "y", "csrf_token": csrf.group(1)}
        send("POST", "/login", data=login)
        send("GET", "/readyz", headers={"X-Request-ID": "leak-last"})
        statuses = [answer.status_code for answer in answers]
        assert statuses.count(500) >= 3, statuses  # token, admin login, console login
        assert {404, 405, 400, 401, 413, 415, 422, 431} <= set(statuses), statuses
        deadline = time.monotonic() + 10  # until the last request's access record
        while "leak-last" not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    log = server.log.read_text()
    assert "leak-last" in log and "unhandled error" in log  # the 500s, logged with a traceback
    assert "Traceback" in log
    texts = [log] + [
        f"{answer.status_code} {dict(answer.headers)} {answer.text}" for answer in answers
    ]
    for name, value in planted.items():
        for form in {value, quote(value, safe=""), quote_plus(value)}:
            for text in texts:
                assert form not in text, (name, text[:2000])
