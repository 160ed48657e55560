"""``authserver serve``: run the production server as a child process and
drain it gracefully.

On SIGTERM (what an orchestrator sends before it stops an instance):

1. ``GET /readyz`` answers 503 ``draining`` at once, so that the load
   balancer takes the instance out of rotation; every other endpoint keeps
   answering;
2. after ``AUTHSERVER_DRAIN_SECONDS`` the server is told to stop: it stops
   accepting connections and lets the requests in flight finish (gunicorn's
   graceful shutdown, bounded by :data:`GRACEFUL_TIMEOUT`);
3. the command exits with the server's status.

The workers learn about the drain from a file (``AUTHSERVER_DRAIN_FILE``,
made by this process), so it works whatever server runs the app. Prometheus
metrics of all workers are collected through ``PROMETHEUS_MULTIPROC_DIR``
(a fresh temporary directory unless one is given).

The production server's command line is built in one place,
:func:`server_command`.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

#: seconds the server may take to finish the requests in flight once told to stop
GRACEFUL_TIMEOUT = 10
#: the WSGI application, for servers that take an import path
APP = "authserver.app:create_app()"


def server_command(host: str, port: int, workers: int) -> list[str]:
    """The command line of the production server (gunicorn, sync workers).

    Its own access log stays off: the app writes one without secrets.
    """
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--graceful-timeout",
        str(GRACEFUL_TIMEOUT),
        APP,
    ]


class Supervisor:
    """Runs the server in a child process; drains it on SIGTERM.

    :param drain_seconds: how long ``/readyz`` answers 503 before the server stops.
    """

    def __init__(self, command: list[str], drain_seconds: float, env: Mapping[str, str]) -> None:
        self.command = command
        self.drain_seconds = drain_seconds
        self.env = dict(env)
        self._workdir = Path(tempfile.mkdtemp(prefix="authserver-serve-"))
        self.drain_file = self._workdir / "draining"
        self._stop = threading.Event()
        self.process: subprocess.Popen[bytes] | None = None

    def _child_env(self) -> dict[str, str]:
        env = dict(self.env)
        env["AUTHSERVER_DRAIN_FILE"] = str(self.drain_file)
        metrics_dir = env.get("PROMETHEUS_MULTIPROC_DIR")
        if metrics_dir:
            _empty(Path(metrics_dir))  # values of an earlier run would be added up
        else:
            path = self._workdir / "metrics"
            path.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(path)
        return env

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        """Ctrl-C (development): the server stops at once, no drain."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def run(self) -> int:
        """Start the server, wait for it to end (or drain it); its exit status."""
        signal.signal(signal.SIGTERM, self._on_sigterm)
        signal.signal(signal.SIGINT, self._on_sigint)
        try:
            self.process = subprocess.Popen(self.command, env=self._child_env())
            while self.process.poll() is None:
                if self._stop.wait(0.2):
                    self.drain()
                    break
            return self.process.wait()
        finally:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def drain(self) -> None:
        """Fail readiness, wait ``drain_seconds``, stop the server gracefully."""
        assert self.process is not None
        log.info("draining: /readyz answers 503 for %.1f s", self.drain_seconds)
        self.drain_file.touch()
        try:
            self.process.wait(timeout=self.drain_seconds)
            return  # it ended by itself
        except subprocess.TimeoutExpired:
            pass
        log.info("stopping the server; requests in flight finish")
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=GRACEFUL_TIMEOUT + 5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _empty(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        path.unlink()


def serve(host: str, port: int, workers: int, drain_seconds: float) -> int:
    """Run the production server until it ends; the exit status."""
    return Supervisor(server_command(host, port, workers), drain_seconds, os.environ).run()
