"""The example gateway as a real process for the tests: started in its own
process group on a free loopback port, stopped by that group's id (the
authorization server is started by ``tests/support/server.py``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from support.server import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "examples" / "export_gateway"


class Service:
    """One server process (and its children) with its output in *log*."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path, url: str) -> None:
        self.url = url
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, path: str = "/healthz", timeout: float = 30) -> Service:
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(self.url + path, timeout=2)
                return self
            except (requests.ConnectionError, requests.Timeout):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"{self.url} did not start:\n{self.log.read_text()[-3000:]}"
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def start_gateway(issuer: str, log: Path, *, workers: int = 2, **env: str) -> Service:
    """``python examples/export_gateway`` (the documented command) for *issuer*."""
    port = free_port()
    environment = {**os.environ, "GATEWAY_ISSUER": issuer, **env}
    command = [
        sys.executable,
        str(EXAMPLE),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
    ]
    return Service(command, environment, log, f"http://127.0.0.1:{port}").wait_ready()
