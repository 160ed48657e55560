"""The production HTTP server: Granian serving ``wsgi:app`` over WSGI.

One function, :func:`server_command`, builds the server's command line; the
Makefile (``make serve``, ``make run``), the end-to-end tests and the
benchmarks all start the server through it, so that what is tested and
measured is what runs in production. ``python -m authserver.serving`` runs
that command in place of itself (the README's production section).

Why these settings (measured with ``bench/token_endpoint.py``; see the
README):

* **Granian**, a Rust HTTP server with an event loop, instead of gunicorn's
  sync worker: it keeps connections alive (a sync worker closes each one, so
  every token request paid a TCP handshake and a fresh parse), and it reads
  requests asynchronously before they reach Python, so clients that send
  their headers slowly hold no worker.
* ``--blocking-threads 1``: one Python thread per worker process runs the
  application. Granian's default for WSGI is half the backpressure (hundreds
  of threads), and threads that all need the GIL only add latency.
  Parallelism comes from the worker processes (``--workers``, one per core).
* ``--backpressure``: connections a worker serves at once; the others wait in
  the listen backlog. It counts connections, not requests, so it is sized
  for every keep-alive connection of the load balancers and clients of one
  worker: a small value would leave connections unserved while others are
  idle.
* ``--http1-header-read-timeout``: a client must send its request headers
  within this time, or the connection is closed.
* ``--http1-buffer-size``: request headers larger than this are refused with
  431 before the application sees them (Granian's default is 408 KiB).
* ``--respawn-failed-workers``: a worker that dies is started again.
* ``--workers-kill-timeout``: on SIGTERM, requests in flight get this long
  to finish.

The request body limit stays the application's (``MAX_CONTENT_LENGTH``,
answered with 413 before the body is read).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

#: worker processes by default: one per core
DEFAULT_WORKERS = 2
#: connections one worker serves at once (see the module docstring)
BACKPRESSURE = 256
#: milliseconds a client has to send its request headers
HEADER_READ_TIMEOUT_MS = 10_000
#: bytes of request line and headers a connection may buffer (431 beyond)
HEADER_BUFFER_BYTES = 64 * 1024
#: seconds requests in flight get to finish on shutdown
SHUTDOWN_SECONDS = 10
#: the granian access log, one line per request
ACCESS_LOG_FORMAT = (
    '%(addr)s - [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).3f'
)


def granian_executable() -> str:
    """The ``granian`` script next to this interpreter (the same virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / "granian"
    if beside.is_file():
        return str(beside)
    return shutil.which("granian") or "granian"


def server_command(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    workers: int = DEFAULT_WORKERS,
    app: str = "wsgi:app",
    access_log: bool = False,
    log_level: str = "info",
) -> list[str]:
    """The command line that serves *app* on *host*:*port* in production.

    :param workers: worker processes (one per core).
    :param app: the WSGI application, as ``module:attribute``, imported from
        the working directory.
    :param access_log: log one line per request on stderr.
    :param log_level: the server's own log level.
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
        "1",
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
        str(SHUTDOWN_SECONDS),
        "--log-level",
        log_level,
    ]
    if access_log:
        command += ["--access-log", "--access-log-fmt", ACCESS_LOG_FORMAT]
    return [*command, app]


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m authserver.serving``: replace this process with the server."""
    parser = argparse.ArgumentParser(prog="python -m authserver.serving", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    command = server_command(args.host, args.port, workers=args.workers, access_log=args.access_log)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
