"""The production server's command line (the e2e tests run the server it builds)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from authserver.serving import ACCESS_LOG_FORMAT, server_command


def test_granian_serves_the_wsgi_app_with_one_python_thread_per_worker() -> None:
    command = server_command("0.0.0.0", 8080, workers=4)

    assert command == [
        str(Path(sys.executable).parent / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
        "--workers",
        "4",
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
        "wsgi:app",
    ]


def test_the_access_log_is_asked_for() -> None:
    command = server_command(access_log=True, app="bare:app")

    assert command[-4:] == ["--access-log", "--access-log-fmt", ACCESS_LOG_FORMAT, "bare:app"]
    assert "--access-log" not in server_command()


def test_no_workers_is_refused() -> None:
    with pytest.raises(ValueError):
        server_command(workers=0)
