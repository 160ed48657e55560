#!/usr/bin/env python3
"""Token-endpoint benchmark: authserver on SQLite and on PostgreSQL against
the bare-Flask floor (``bench/bare_flask.py``) and, on request, node
oidc-provider and authserver under gunicorn's sync worker, in one run.

Each variant runs as its own server in its own process group (authserver and
the floor under the production server, :func:`authserver.serving.server_command`).
authserver's data comes from ``authserver db upgrade`` + ``authserver demo
setup`` (the demo client's secret is an argon2id hash with the production
parameters); with ``--clients N,M`` each database variant is run once per
count, after seeding that many clients with 1-10 organizations each
(``bench/seed_clients.py``, bulk inserts), and the load uses one of them; the
query plan of the token path's client read is printed for each. A token
request must work before the load starts; then every variant is warmed up and
driven with wrk (``token-load.sh`` + ``token-load.lua`` from the shared bench
folder: client_secret_basic, every response must be 200 with an
``access_token``). Rounds are interleaved (floor, sqlite, postgresql, floor,
...) so that drift of a shared machine hits every variant alike.

Printed per variant (median over rounds): requests/s, p50, p99, errors, the
server's CPU time per token (all CPU of the server's process group, via
psutil, divided by the requests served), the share of CPU that other
processes used during the run (``frgn%``: noise), and requests/s as a ratio
of the floor. Everything it starts is stopped, by process group id.

    .venv/bin/python bench/token_endpoint.py                 # floor, sqlite, postgresql
    .venv/bin/python bench/token_endpoint.py --variants floor,sqlite,postgresql,oidc-provider \
        --rounds 3                                           # the side-by-side table
    .venv/bin/python bench/token_endpoint.py --variants sqlite,gunicorn   # the servers
    .venv/bin/python bench/token_endpoint.py --variants sqlite,postgresql --clients 10,100000
    .venv/bin/python bench/token_endpoint.py --peers         # compare-peers.sh, authserver as TARGET
    .venv/bin/python bench/token_endpoint.py --private-key-jwt --variants floor,sqlite

``--private-key-jwt`` adds, for each authserver variant, a ``<name>+pkjwt``
run on the same server: the demo client authenticates with an ES256
``private_key_jwt`` assertion instead of its secret (``bench/assertion_load.py``),
one fresh assertion per request, signed before the run.

``--peers`` runs the shared ``compare-peers.sh`` harness with authserver
(SQLite) as its ``TARGET`` (peers from ``$PEERS``, default ``oidc-provider``;
``setup-peers.sh`` is run first when the peers are not installed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import seed_clients
from assertion_load import assertion_load, register_key
from servers import (
    ROOT,
    Server,
    authserver_env,
    free_port,
    postgres_database,
    prepare_authserver,
    start_gunicorn_sync,
    start_oidc_provider,
    start_production,
)

from authserver.oauth2.client_record import ClientReader
from authserver.serving import server_command

VARIANTS = ("floor", "sqlite", "postgresql", "gunicorn", "oidc-provider")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench"


def shared_bench_dir() -> Path:
    """``token-load.sh`` and friends: ``$SHARED_BENCH``, else a ``shared/bench``
    beside the checkout or one of its parents.
    """
    candidates = [os.environ.get("SHARED_BENCH", "")] + [
        str(parent / "shared" / "bench") for parent in ROOT.parents
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "token-load.sh").is_file():
            return Path(candidate)
    sys.exit("bench: shared/bench/token-load.sh not found; set SHARED_BENCH")


# --- load ---------------------------------------------------------------------


@dataclass
class Run:
    rps: float
    ok_rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_ms_per_token: float
    foreign_pct: float


@dataclass
class Variant:
    server: Server
    runs: list[Run] = field(default_factory=list)
    #: set for a private_key_jwt variant: the client's private key
    private_key: Any = None

    @property
    def name(self) -> str:
        return self.server.name + ("+pkjwt" if self.private_key is not None else "")

    def median(self, name: str) -> float:
        return float(statistics.median(getattr(run, name) for run in self.runs))


def token_load(
    bench: Path, server: Server, concurrency: int, seconds: int, *, precheck_only: bool = False
) -> dict[str, str]:
    command = [
        "bash",
        str(bench / "token-load.sh"),
        "--url",
        server.url,
        "--client-id",
        server.client_id,
        "--client-secret",
        server.client_secret,
        "--concurrency",
        str(concurrency),
        "--seconds",
        str(seconds),
        *server.load_args,
    ]
    if precheck_only:
        command.append("--precheck-only")
    else:
        command.append("--no-precheck")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if precheck_only:
        return {"ok": "1"} if result.returncode == 0 else {"error": result.stderr.strip()}
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        return {"error": result.stderr.strip() or f"token-load exited {result.returncode}"}
    return dict(item.split("=", 1) for item in lines[-1].split()[1:])


def wait_ready(bench: Path, server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last: dict[str, str] = {}
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            sys.exit(
                f"bench: {server.name} exited during startup:\n{server.log.read_text()[-2000:]}"
            )
        last = token_load(bench, server, 1, 1, precheck_only=True)
        if "ok" in last:
            return
        time.sleep(0.3)
    sys.exit(f"bench: {server.name} gives no token: {last.get('error', '')[:500]}")


def busy_seconds() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def issuer(server: Server) -> str:
    """The server's issuer: an assertion's ``aud``."""
    return server.env.get("AUTHSERVER_ISSUER", "http://127.0.0.1:8000")


def measure(
    bench: Path, server: Server, concurrency: int, seconds: int, private_key: Any = None
) -> Run:
    server_0, busy_0, loader_0, wall_0 = (
        server.group_cpu_seconds(),
        busy_seconds(),
        children_seconds(),
        time.monotonic(),
    )
    if private_key is not None:
        result = assertion_load(
            server.url, private_key, server.client_id, issuer(server), concurrency, seconds
        )
    else:
        result = token_load(bench, server, concurrency, seconds)
    server_1, busy_1, loader_1, wall_1 = (
        server.group_cpu_seconds(),
        busy_seconds(),
        children_seconds(),
        time.monotonic(),
    )
    if "error" in result:
        sys.exit(f"bench: load against {server.name} failed: {result['error'][:500]}")
    served = int(result["requests"])
    server_cpu = server_1 - server_0
    foreign = (busy_1 - busy_0) - server_cpu - (loader_1 - loader_0)
    return Run(
        rps=float(result["rps"]),
        ok_rps=float(result["ok_rps"]),
        p50_ms=float(result["p50_ms"]),
        p99_ms=float(result["p99_ms"]),
        errors=int(result["errors"]),
        requests=served,
        cpu_ms_per_token=1000 * server_cpu / served if served else float("nan"),
        foreign_pct=max(0.0, 100 * foreign / ((wall_1 - wall_0) * (os.cpu_count() or 1))),
    )


def report(variants: list[Variant], args: argparse.Namespace) -> None:
    floor = next((v for v in variants if v.server.name == "floor"), None)
    print()
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M:%S')}  {os.cpu_count()} cores, loadavg "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; c={args.concurrency} d={args.seconds}s "
        f"rounds={args.rounds} workers={args.workers} (medians)"
    )
    print(
        f"{'variant':<18}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'cpu ms/token':>14}"
        f"{'frgn%':>7}{'x floor':>9}   req/s per round"
    )
    for variant in variants:
        rps = variant.median("ok_rps")
        ratio = f"{rps / floor.median('ok_rps'):.2f}" if floor and variant is not floor else "-"
        p50, p99 = variant.median("p50_ms"), variant.median("p99_ms")
        print(
            f"{variant.name:<18}{rps:>9.0f}{p50:>9.2f}{p99:>9.2f}"
            f"{sum(r.errors for r in variant.runs):>8}{variant.median('cpu_ms_per_token'):>14.3f}"
            f"{max(r.foreign_pct for r in variant.runs):>7.0f}{ratio:>9}   "
            + " ".join(f"{r.ok_rps:.0f}" for r in variant.runs)
        )
    print(
        "req/s counts only 200 responses with an access_token; cpu ms/token = server"
        " process-group CPU per request;\nfrgn% = highest share of the machine's CPU used by"
        " other processes during a run (noise)."
    )


def stop_all(servers: list[Server]) -> None:
    for server in servers:
        server.stop()


def client_read_sql(database_url: str) -> str:
    """The SQL of the token path's client read, as the server sends it."""
    from sqlalchemy import create_engine

    from authserver.config import normalize_database_url

    engine = create_engine(normalize_database_url(database_url))
    try:
        return ClientReader(engine).sql
    finally:
        engine.dispose()


def start_variant(
    name: str, count: int | None, args: argparse.Namespace, workdir: Path, stack: Any
) -> Server:
    """Prepare the data of variant *name* (with *count* seeded clients) and start its server."""
    bench = shared_bench_dir()
    label = name if count is None else f"{name}/{count}"
    if name == "floor":
        return start_production(
            "floor", "bare_flask:app", dict(os.environ), ROOT / "bench", workdir, args.workers
        )
    if name == "oidc-provider":
        return start_oidc_provider(bench, workdir)
    instance = workdir / f"{label.replace('/', '-')}-instance"
    if name == "postgresql":
        url = args.pg_url if count is None else f"{args.pg_url}_{count}"
        database_url = stack.enter_context(postgres_database(url, args.keep_database))
    else:
        database_url = f"sqlite:///{instance / 'authserver.sqlite3'}"
    env = authserver_env(database_url, instance)
    client_id, secret = prepare_authserver(env)
    if count is not None:
        client_id, secret, took = seed_clients.seed(database_url, count)
        print(f"bench: {label}: seeded {count} clients in {took:.1f} s", file=sys.stderr)
        plan = seed_clients.query_plan(database_url, client_read_sql(database_url), client_id)
        print(f"bench: {label}: query plan of the client read:\n  " + plan.replace("\n", "\n  "))
    start = start_gunicorn_sync if name == "gunicorn" else start_production
    server = start(label, None, env, ROOT, workdir, args.workers)
    server.client_id, server.client_secret, server.env = client_id, secret, env
    return server


def run_benchmark(args: argparse.Namespace) -> None:
    bench = shared_bench_dir()
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk not found (apt-get install -y wrk)")
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = set(names) - set(VARIANTS)
    if unknown:
        sys.exit(f"bench: unknown variants {sorted(unknown)}")
    counts: list[int | None] = [int(n) for n in args.clients.split(",")] if args.clients else [None]
    servers: list[Server] = []
    with (
        tempfile.TemporaryDirectory(prefix="authserver-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        stack.callback(stop_all, servers)
        for name in names:
            seeded = name in ("sqlite", "postgresql")
            for count in counts if seeded else [None]:
                servers.append(start_variant(name, count, args, workdir, stack))
        for server in servers:
            wait_ready(bench, server)
            print(f"bench: {server.name} ready at {server.url}", file=sys.stderr)
        variants = []
        for server in servers:
            variants.append(Variant(server))
            if args.private_key_jwt and server.name not in ("floor", "oidc-provider"):
                private = register_key(server.env, server.client_id)
                variants.append(Variant(server, private_key=private))
        if args.warmup > 0:
            for variant in variants:
                if variant.private_key is not None:
                    assertion_load(
                        variant.server.url,
                        variant.private_key,
                        variant.server.client_id,
                        issuer(variant.server),
                        args.concurrency,
                        args.warmup,
                    )
                else:
                    token_load(bench, variant.server, args.concurrency, args.warmup)
        for round_number in range(1, args.rounds + 1):
            for variant in variants:
                time.sleep(args.pause)
                run = measure(
                    bench, variant.server, args.concurrency, args.seconds, variant.private_key
                )
                variant.runs.append(run)
                print(
                    f"bench: round {round_number} {variant.name:<15} "
                    f"{run.ok_rps:8.0f} req/s "
                    f"p50 {run.p50_ms:.2f} ms p99 {run.p99_ms:.2f} ms errors {run.errors} "
                    f"cpu {run.cpu_ms_per_token:.3f} ms/token frgn {run.foreign_pct:.0f}%",
                    file=sys.stderr,
                )
    report(variants, args)


def run_peers(args: argparse.Namespace) -> None:
    """compare-peers.sh with authserver (SQLite) as its TARGET; it starts and stops everything."""
    bench = shared_bench_dir()
    env = dict(os.environ)
    env.setdefault("PEERS", "oidc-provider")
    peers_dir = Path(env.get("PEERS_DIR", "/tmp/peers"))
    if (
        "oidc-provider" in env["PEERS"]
        and not (peers_dir / "oidc" / "node_modules" / "oidc-provider").is_dir()
    ):
        subprocess.run(["bash", str(bench / "setup-peers.sh")], env=env, check=True)
    with tempfile.TemporaryDirectory(prefix="authserver-peers-") as tmp:
        instance = Path(tmp) / "instance"
        server_env = authserver_env(f"sqlite:///{instance / 'authserver.sqlite3'}", instance)
        client_id, secret = prepare_authserver(server_env)
        port = free_port()
        env.update({k: v for k, v in server_env.items() if k.startswith("AUTHSERVER_")})
        env.update(
            TARGET_NAME="authserver",
            TARGET_URL=f"http://127.0.0.1:{port}/oauth2/token",
            TARGET_ID=client_id,
            TARGET_SECRET=secret,
            TARGET_CWD=str(ROOT),
            TARGET_CMD="exec "
            + " ".join(server_command("127.0.0.1", port, args.workers, log_level="warning")),
            CONCURRENCY=str(args.concurrency),
            DURATION=str(args.seconds),
            ROUNDS=str(args.rounds),
        )
        subprocess.run(["bash", str(bench / "compare-peers.sh")], env=env, check=True)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM/SIGHUP: leave through ``sys.exit`` so that every server gets stopped."""
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--variants",
        default="floor,sqlite,postgresql",
        help="comma-separated: " + ", ".join(VARIANTS) + " (default: floor,sqlite,postgresql)",
    )
    parser.add_argument(
        "--clients",
        default="",
        help="comma-separated client counts: seed that many clients (1-10 organizations each)"
        " into each database variant, once per count (e.g. 10,100000)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL),
        help="PostgreSQL database to (re)create for the run (default: %(default)s)",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="do not drop the PostgreSQL database"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--warmup", type=int, default=3, help="seconds of unrecorded load per variant"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds of quiet before each run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--private-key-jwt",
        action="store_true",
        help="also measure each authserver variant with private_key_jwt (ES256 assertions)",
    )
    parser.add_argument(
        "--peers", action="store_true", help="run compare-peers.sh with authserver as TARGET"
    )
    args = parser.parse_args(argv)
    if args.peers:
        run_peers(args)
    else:
        run_benchmark(args)


if __name__ == "__main__":
    main()
