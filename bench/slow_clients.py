#!/usr/bin/env python3
"""Slow clients: do ``/healthz`` and the token endpoint still answer while
20 connections trickle their request headers?

Starts authserver (SQLite, demo client, argon2id secret with the production
parameters) under the production server (``--server gunicorn`` for gunicorn's
sync worker, the server it replaced), opens ``--slow`` connections that each
send a token request's headers one byte every ``--trickle`` seconds, and
meanwhile times ``GET /healthz`` and ``POST /oauth2/token`` on fresh
connections, one after the other, for ``--seconds`` (after a warm-up in
which every worker has verified the client's secret once). Prints p50, p99 and the
slowest answer of each, and whether every answer came within 100 ms.
Bounded: the slow connections and the server are closed at the end, whatever
happens (the server by its process-group id).

    .venv/bin/python bench/slow_clients.py
    .venv/bin/python bench/slow_clients.py --server gunicorn
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from servers import (
    ROOT,
    Server,
    authserver_env,
    prepare_authserver,
    start_gunicorn_sync,
    start_production,
)

#: the answer time every request must stay under
LIMIT_MS = 100.0
#: a request's headers, sent slowly by the trickling connections
SLOW_REQUEST = (
    b"POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n"
    b"X-Padding: " + b"x" * 200 + b"\r\n\r\n"
)


def trickle(port: int, stop: threading.Event, interval: float, sent: list[int]) -> None:
    """Send :data:`SLOW_REQUEST` one byte per *interval* until *stop* (or the server closes)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            for byte in SLOW_REQUEST:
                if stop.wait(interval):
                    return
                sock.sendall(bytes([byte]))
                sent[0] += 1
    except OSError:
        return  # the server closed the connection (e.g. its header read timeout)


def timed(port: int, method: str, path: str, body: str | None, headers: dict[str, str]) -> float:
    """Milliseconds for one request on a fresh connection; raises on a non-200 answer."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status}")
    finally:
        connection.close()
    return 1000 * (time.perf_counter() - started)


def summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:<22}{len(times):>6}{statistics.median(times):>9.1f}{p99:>9.1f}{max(times):>9.1f}"
        f"   {'ok' if max(times) < LIMIT_MS else 'OVER ' + str(int(LIMIT_MS)) + ' ms'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", choices=["production", "gunicorn"], default="production")
    parser.add_argument("--slow", type=int, default=20, help="trickling connections")
    parser.add_argument("--trickle", type=float, default=0.5, help="seconds between bytes")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long to measure")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    start = start_production if args.server == "production" else start_gunicorn_sync
    with tempfile.TemporaryDirectory(prefix="authserver-slow-") as tmp:
        workdir = Path(tmp)
        env = authserver_env(f"sqlite:///{workdir / 'authserver.sqlite3'}", workdir)
        client_id, secret = prepare_authserver(env)
        server: Server = start(args.server, None, env, ROOT, workdir, args.workers)
        stop = threading.Event()
        threads: list[threading.Thread] = []
        try:
            port = int(server.url.split(":")[2].split("/")[0])
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError, RuntimeError):
                    timed(port, "GET", "/healthz", None, {})
                    break
                if time.monotonic() > deadline or server.process.poll() is not None:
                    sys.exit(f"bench: the server did not start:\n{server.log.read_text()[-2000:]}")
                time.sleep(0.2)
            basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            token_headers = {
                "Authorization": "Basic " + basic,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            # each worker process verifies the argon2id secret once, then caches the
            # verification: warm every worker up before measuring
            for _ in range(10 * args.workers):
                timed(port, "POST", "/oauth2/token", "grant_type=client_credentials", token_headers)
            sent = [0]
            for _ in range(args.slow):
                thread = threading.Thread(
                    target=trickle, args=(port, stop, args.trickle, sent), daemon=True
                )
                thread.start()
                threads.append(thread)
            time.sleep(1.0)  # every slow connection is open and trickling
            health: list[float] = []
            tokens: list[float] = []
            errors: list[str] = []
            finish = time.monotonic() + args.seconds
            while time.monotonic() < finish:
                try:
                    health.append(timed(port, "GET", "/healthz", None, {}))
                    tokens.append(
                        timed(
                            port,
                            "POST",
                            "/oauth2/token",
                            "grant_type=client_credentials",
                            token_headers,
                        )
                    )
                except (OSError, RuntimeError) as error:
                    errors.append(str(error))
                    if len(errors) > 3:
                        break
                time.sleep(0.02)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=5)
            server.stop()
    print(
        f"\n# {time.strftime('%Y-%m-%d %H:%M:%S')} {args.server} server, {args.workers} workers; "
        f"{args.slow} connections trickling headers (1 byte / {args.trickle} s, {sent[0]} bytes "
        f"sent), loadavg {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"{'request':<22}{'count':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    if health:
        print(summary("GET /healthz", health))
    if tokens:
        print(summary("POST /oauth2/token", tokens))
    if errors:
        print(f"errors: {len(errors)}, first: {errors[0]}")


if __name__ == "__main__":
    main()
