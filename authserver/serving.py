"""``authserver serve``: run the production server as a child process and
drain it gracefully.

On SIGTERM (what an orchestrator sends before it stops an instance):

1. ``GET /readyz`` answers 503 ``draining`` at once, so that the load
   balancer takes the instance out of rotation; every other endpoint keeps
   answering;
2. after ``AUTHSERVER_DRAIN_SECONDS`` the server is told to stop: it stops
   accepting connections and lets the requests in flight finish (Granian's
   graceful shutdown, bounded by :data:`GRACEFUL_TIMEOUT`);
3. the command exits with the server's status.

The workers learn about the drain from a file (``AUTHSERVER_DRAIN_FILE``,
made by this process), so it works whatever server runs the app. They count
the argon2 failure budget in another file of the run
(``AUTHSERVER_ARGON2_BUDGET_FILE``, :mod:`authserver.instance_rate`), so that
it is one budget for the instance, not one per worker. Prometheus
metrics of all workers are collected through ``PROMETHEUS_MULTIPROC_DIR``
(a fresh temporary directory unless one is given).

The production server (Granian, over WSGI) and its settings are built in
one place, :func:`server_command`: the tests and benchmarks start the server
through it too. Each worker makes its app with :func:`served_app`, which
takes the ``AUTHSERVER_*`` variables (the secret key, the database URL…) out
of the worker's environment once the configuration is read: Granian copies
the process environment into every request's WSGI environ.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from .config import DEFAULTS
from .gate import Gate

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

#: seconds the server may take to finish the requests in flight once told to stop
GRACEFUL_TIMEOUT = 10
#: the WSGI application: a factory Granian calls once in each worker (``--factory``)
APP = "authserver.serving:served_app"
#: the prefix of the configuration variables, read once when the app is made
CONFIG_PREFIX = "AUTHSERVER_"
#: worker processes by default: one per core
DEFAULT_WORKERS = 2
#: connections one worker serves at once (see :func:`server_command`)
BACKPRESSURE = 256
#: milliseconds a client has to send its request headers
HEADER_READ_TIMEOUT_MS = 10_000
#: bytes of request line and headers a connection may buffer (431 beyond)
HEADER_BUFFER_BYTES = 64 * 1024


def granian_executable() -> str:
    """The ``granian`` script next to this interpreter (the same virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / "granian"
    if beside.is_file():
        return str(beside)
    return shutil.which("granian") or "granian"


def blocking_threads(environ: Mapping[str, str]) -> int:
    """Python threads per worker: one runs the app at a time (behind the
    worker's :class:`~authserver.gate.Gate`), and one more for each wait that
    steps outside it: the argon2 verifications (``ARGON2_MAX_CONCURRENT``)
    and the tarpit's held answers (``AUTHSERVER_TARPIT_SLOTS``)."""
    slots = int(environ.get(CONFIG_PREFIX + "TARPIT_SLOTS", DEFAULTS["TARPIT_SLOTS"]))
    return 1 + int(DEFAULTS["ARGON2_MAX_CONCURRENT"]) + max(0, slots)


def server_command(
    host: str,
    port: int,
    workers: int = DEFAULT_WORKERS,
    *,
    threads: int | None = None,
    app: str = APP,
    factory: bool = True,
    log_level: str = "info",
) -> list[str]:
    """The command line of the production server: Granian serving the app over WSGI.

    Why Granian and these settings (measured with ``bench/token_endpoint.py``;
    the README's production notes have the figures):

    * Granian, a Rust HTTP server with an event loop, instead of gunicorn's
      sync worker: it keeps connections alive (a sync worker closed each one,
      so every token request paid a TCP handshake and a fresh parse), and it
      reads requests asynchronously before they reach Python, so a client
      that sends its headers slowly holds no worker.
    * ``--blocking-threads`` (:func:`blocking_threads`): one thread at a time
      runs the app, behind the worker's :class:`~authserver.gate.Gate`; the
      others wait there, asleep, or outside it (argon2, the tarpit). Granian's
      WSGI default is half the backpressure (hundreds of threads) with no
      gate: they queued for the GIL and p99 rose. The worker processes (one
      per core) are the parallelism.
    * ``--backpressure``: connections one worker serves at once (the others
      wait in the listen backlog). It counts connections, not requests, so it
      is sized for every keep-alive connection of clients and load balancers.
    * ``--http1-header-read-timeout``: a connection that has not sent its
      request headers in time is closed; ``--http1-buffer-size``: larger
      request headers get 431 before the app sees them.
    * ``--workers-kill-timeout``: on SIGTERM the server stops accepting
      connections and the requests in flight get :data:`GRACEFUL_TIMEOUT`
      seconds; ``--respawn-failed-workers`` starts a dead worker again.
    * Its own access log stays off: the app writes one without secrets. The
      request body limit is the app's (``MAX_CONTENT_LENGTH``: 413 from the
      ``Content-Length``, before the body is read).

    :param app: the WSGI application (``module:attribute``), a factory when *factory*.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    command = [
        granian_executable(),
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads if threads is not None else blocking_threads(os.environ)),
        "--backpressure",
        str(BACKPRESSURE),
        "--http",
        "1",
        "--no-ws",
        "--http1-header-read-timeout",
        str(HEADER_READ_TIMEOUT_MS),
        "--http1-buffer-size",
        str(HEADER_BUFFER_BYTES),
        "--respawn-failed-workers",
        "--workers-kill-timeout",
        str(GRACEFUL_TIMEOUT),
        "--log-level",
        log_level,
    ]
    if factory:
        command.append("--factory")
    return [*command, app]


def served_app() -> Flask:
    """The app of one server worker: :func:`~authserver.app.create_app`, then
    the ``AUTHSERVER_*`` variables taken out of the worker's environment.

    Granian builds each request's WSGI environ from a copy of ``os.environ``
    that it takes once, right after this factory returns
    (``granian.wsgi._callback_wrapper``). Without this, every request's environ
    would hold ``AUTHSERVER_SECRET_KEY``, the database URL with its password,
    the key-encryption key and the SMTP password, one dump away from a log, an
    error page or a trace. Nothing reads these variables after the app is made
    (the configuration is read once), so dropping them here costs nothing per
    request, where filtering each environ would. The worker's other variables
    (``PATH``, ``PROMETHEUS_MULTIPROC_DIR``, ``PG*``, proxies) stay: libraries
    read them later.

    The app is put behind the worker's :class:`~authserver.gate.Gate`.

    Last, the objects made so far (modules, the app, its engines: about 130,000)
    are moved out of the garbage collector's sight with :func:`gc.freeze`: they
    live as long as the worker, and a full collection that walked them paused
    the worker for about 60 ms here; it now walks only what requests made.
    """
    from .app import create_app

    app = create_app()
    app.wsgi_app = Gate(  # type: ignore[method-assign]
        app.wsgi_app, max_body=int(app.config["MAX_CONTENT_LENGTH"])
    )
    forget_configuration(os.environ)
    gc.collect()
    gc.freeze()
    return app


def forget_configuration(environ: MutableMapping[str, str]) -> list[str]:
    """Remove every ``AUTHSERVER_*`` variable from *environ*; their names."""
    names = [name for name in environ if name.startswith(CONFIG_PREFIX)]
    for name in names:
        del environ[name]
    return names


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
        # one argon2 failure budget for the instance, not one per worker
        env["AUTHSERVER_ARGON2_BUDGET_FILE"] = str(self._workdir / "argon2-budget")
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
