"""A real gunicorn server for tests that need real concurrent HTTP requests.

The server runs ``wsgi:app`` in several sync worker processes against the
database given; the test process builds the schema and the directory in the
same database. The server is always stopped (its whole process group).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from support.server import SHARED_ADDRESS_LIMITS

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(
    database_url: str, instance_path: Path, *, workers: int = 4, **env: str
) -> Iterator[str]:
    """Run gunicorn on a free loopback port; yield its base URL."""
    port = _free_port()
    environment = {
        **os.environ,
        "AUTHSERVER_ENV": "testing",
        "AUTHSERVER_DATABASE_URL": database_url,
        "AUTHSERVER_INSTANCE_PATH": str(instance_path),
        "AUTHSERVER_SECRET_KEY": "live-server-secret-key-" + "x" * 32,
        "AUTHSERVER_ISSUER": "https://auth.example.test",
        "AUTHSERVER_ARGON2_TIME_COST": "1",
        "AUTHSERVER_ARGON2_MEMORY_COST": "1024",
        "AUTHSERVER_ARGON2_PARALLELISM": "1",
        **SHARED_ADDRESS_LIMITS,
        **env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--no-control-socket",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
