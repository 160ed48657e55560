"""Start the real server for a test, as ``make serve`` does (``authserver serve``:
the production server, Granian, built by :func:`authserver.serving.server_command`,
in a supervisor that drains it on SIGTERM), from this worktree's venv.

Usage::

    with running_server(database_url, instance_path) as server:
        requests.get(server.url + "/healthz")

The database is migrated first with ``authserver db upgrade``. The server is
always terminated, whatever happens in the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

#: Every test server is called from one address (127.0.0.1), so the
#: per-address failure throttle would let one test's deliberate failures
#: refuse the next test's first request (a 429 instead of its answer). Shared
#: servers get limits no test reaches; the throttle is tested with its own.
SHARED_ADDRESS_LIMITS = {
    "AUTHSERVER_AUTH_FAILURE_LIMIT": "100000/minute",
    "AUTHSERVER_LOGIN_FAILURE_LIMIT": "100000/minute",
    "AUTHSERVER_ARGON2_FAILURE_BUDGET": "100000/second",
}


@dataclass
class Server:
    url: str
    env: dict[str, str]
    log: Path
    #: the ``authserver serve`` process (the supervisor of the server)
    process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run an ``authserver`` command against the server's database."""
        return run_cli(self.env, *args)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(
    database_url: str, instance_path: Path, port: int, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    env.update(
        {
            "AUTHSERVER_DATABASE_URL": database_url,
            "AUTHSERVER_INSTANCE_PATH": str(instance_path),
            "AUTHSERVER_ISSUER": f"http://127.0.0.1:{port}",
            "AUTHSERVER_KEY_ACTIVATION_DELAY": "0",
            "AUTHSERVER_ARGON2_TIME_COST": "1",
            "AUTHSERVER_ARGON2_MEMORY_COST": "1024",
            "PYTHONUNBUFFERED": "1",
            # a test server stops at once (tests/test_serving.py measures a drain)
            "AUTHSERVER_DRAIN_SECONDS": "0",
            **SHARED_ADDRESS_LIMITS,
        }
    )
    env.update(extra or {})
    return env


def run_cli(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "authserver"), *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def running_server(
    database_url: str,
    instance_path: Path,
    *,
    workers: int = 2,
    extra_env: Mapping[str, str] | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[Server]:
    """Migrate the database, start the server on a free loopback port, wait for ``/healthz``."""
    instance_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = server_env(database_url, instance_path, port, extra_env)
    migrated = run_cli(env, "db", "upgrade")
    if migrated.returncode != 0:
        raise RuntimeError(f"authserver db upgrade failed:\n{migrated.stdout}\n{migrated.stderr}")
    log = instance_path / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                str(BIN / "authserver"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing outlives the test
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {process.returncode}:\n{log.read_text()}"
                )
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or still booting on a busy machine
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server did not answer /healthz in time:\n{log.read_text()}"
                )
            time.sleep(0.1)
        yield Server(url, env, log, process)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM the server (a drain); SIGKILL its whole process group if it lingers."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the supervisor, the server and its workers
    except ProcessLookupError:
        pass
    process.wait(timeout=15)
