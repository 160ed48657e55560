"""``authserver serve``: SIGTERM drains the instance. ``/readyz`` answers 503
at once while every other request keeps being served for
``AUTHSERVER_DRAIN_SECONDS``; then the server stops, letting the requests in
flight finish, and the command exits 0.

SQLite only: the drain does not depend on the database.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from support.server import running_server

from authserver import serving

pytestmark = pytest.mark.e2e

DRAIN_SECONDS = 2.0


def test_server_command_is_granian_with_one_python_thread_per_worker() -> None:
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
        "1",
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
        "authserver.app:create_app",
    ]
    assert not any("access-log" in part for part in command)  # the app writes its own


def test_an_application_object_is_served_without_factory() -> None:
    command = serving.server_command("127.0.0.1", 8123, app="bare_flask:app", factory=False)

    assert command[-1] == "bare_flask:app" and "--factory" not in command


def test_no_workers_is_refused() -> None:
    with pytest.raises(ValueError):
        serving.server_command("127.0.0.1", 8123, 0)


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
