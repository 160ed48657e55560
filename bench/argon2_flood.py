"""The legitimate client under a flood of wrong secrets from changing addresses.

Starts ``authserver serve`` (the production server, 2 workers, SQLite, production
argon2id parameters, one trusted proxy so that every attacker request can come
from another address), gets the demo client's credentials, and measures that
client's token requests (one at a time, a new connection each, its secret
already verified by both workers):

1. alone, for ``--seconds``;
2. while ``--attackers`` connections (wrk) send wrong secrets as fast as the
   server answers them: random unknown client ids and the legitimate client's
   id, each request from a random ``X-Forwarded-For`` address.

Both with the argon2 failure budget (``--budget``, default the server's
default) and without it (a budget no flood reaches), in that order. Prints the
legitimate client's p50, p99 and success rate in each phase, the
attackers' answers, and what the server counted during the flood (``/metrics``:
token requests by result, argon2 verifications, budget refusals, per second).

    .venv/bin/python bench/argon2_flood.py [--seconds 10] [--attackers 16]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from authserver.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NO_BUDGET = "1000000/second"
METRICS_TOKEN = secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Phase:
    name: str
    latencies: list[float]
    statuses: Counter[int]
    attackers: str = ""
    #: what the server counted during the phase (``/metrics``)
    server: str = ""

    def line(self) -> str:
        ok = self.statuses.get(200, 0)
        total = sum(self.statuses.values())
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000 if lat else float("nan")
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan")
        return (
            f"{self.name:<32} {total:>6} requests  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
            f"success {100 * ok / max(total, 1):5.1f} %  {self.attackers}"
        ) + (f"\n    server: {self.server}" if self.server else "")


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def flood_script(path: Path, legit_id: str) -> None:
    """A wrk script: wrong secrets for unknown ids (3 in 4) and the legitimate id."""
    rng = random.Random(7)
    headers = [
        basic(legit_id if n % 4 == 0 else f"cl_flood{rng.getrandbits(48):x}", "wrong-secret")
        for n in range(2000)
    ]
    table = ",\n".join(f'"{h}"' for h in headers)
    path.write_text(
        f"""
local auth = {{
{table}
}}
math.randomseed(os.time())
request = function()
  local headers = {{}}
  headers["Authorization"] = auth[math.random(#auth)]
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["X-Forwarded-For"] = math.random(1, 223) .. "." .. math.random(0, 255) .. "." ..
    math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("POST", "/oauth2/token", headers, "grant_type=client_credentials")
end
"""
    )


#: the counters the flood moves, by the label that splits them
COUNTED = {
    "authserver_token_requests_total": "result",
    "authserver_argon2_verifications_total": "result",
    "authserver_argon2_budget_refusals_total": "kind",
}


def counters(base: str) -> Counter[str]:
    """The server's :data:`COUNTED` counters, summed over its workers."""
    answer = requests.get(
        base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    answer.raise_for_status()
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            label = COUNTED.get(sample.name)
            if label:
                short = sample.name.removeprefix("authserver_").removesuffix("_total")
                found[f"{short}[{sample.labels.get(label, '')}]"] += sample.value
    return found


def legit_load(url: str, auth: tuple[str, str], seconds: float) -> Phase:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            status = requests.post(
                url, data={"grant_type": "client_credentials"}, auth=auth, timeout=30
            ).status_code
        except requests.RequestException:
            status = 0
        latencies.append(time.perf_counter() - started)
        statuses[status] += 1
    return Phase("", latencies, statuses)


def run(budget: str, args: argparse.Namespace, workdir: Path) -> list[Phase]:
    instance = workdir / f"instance-{budget.replace('/', '-')}"
    instance.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    env.update(
        AUTHSERVER_DATABASE_URL=f"sqlite:///{instance / 'flood.sqlite3'}",
        AUTHSERVER_INSTANCE_PATH=str(instance),
        AUTHSERVER_ISSUER=f"http://127.0.0.1:{port}",
        AUTHSERVER_TRUSTED_PROXIES="1",
        AUTHSERVER_ARGON2_FAILURE_BUDGET=budget,
        AUTHSERVER_LOG_LEVEL="WARNING",
        AUTHSERVER_DRAIN_SECONDS="0",
        AUTHSERVER_METRICS_TOKEN=METRICS_TOKEN,
    )
    if args.redis:
        env["AUTHSERVER_REDIS_URL"] = args.redis
    cli = str(BIN / "authserver")
    subprocess.run([cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    setup = subprocess.run(
        [cli, "demo", "setup"], env=env, check=True, capture_output=True, text=True
    )
    found = re.search(r"curl -s -u (\S+?):(\S+) -d grant_type", setup.stdout)
    assert found, setup.stdout
    auth = (found[1], found[2])
    log = open(instance / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [cli, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/oauth2/token"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if requests.post(url, data={"grant_type": "client_credentials"}, auth=auth).ok:
                    break
            if time.monotonic() > deadline:
                sys.exit(f"the server did not start:\n{(instance / 'server.log').read_text()}")
            time.sleep(0.2)
        legit_load(url, auth, 2)  # both workers verify the secret once
        quiet = legit_load(url, auth, args.seconds)
        quiet.name = f"budget {budget if budget != NO_BUDGET else 'off'}: alone"
        script = instance / "flood.lua"
        flood_script(script, auth[0])
        wrk = subprocess.Popen(
            ["wrk", "-t2", f"-c{args.attackers}", f"-d{int(args.seconds) + 3}s", "-s", str(script),
             f"http://127.0.0.1:{port}"],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )  # fmt: skip
        time.sleep(1.5)  # the flood is on
        before = counters(f"http://127.0.0.1:{port}")
        flooded = legit_load(url, auth, args.seconds)
        during = counters(f"http://127.0.0.1:{port}")
        during.subtract(before)
        flooded.server = ", ".join(
            f"{name} {count / args.seconds:.2f}/s"
            for name, count in sorted(during.items())
            if count
        )
        flooded.name = (
            f"budget {budget if budget != NO_BUDGET else 'off'}: {args.attackers} attackers"
        )
        out, _ = wrk.communicate(timeout=args.seconds + 60)
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        flooded.attackers = (
            f"(attackers: {rate[1] if rate else '?'} req/s, non-2xx {non2xx[1] if non2xx else '?'})"
        )
        return [quiet, flooded]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--attackers", type=int, default=16)
    parser.add_argument("--budget", default=DEFAULTS["ARGON2_FAILURE_BUDGET"])
    parser.add_argument("--skip-no-budget", action="store_true")
    parser.add_argument("--redis", help="share the counts in this Redis (flushed first)")
    args = parser.parse_args()
    phases: list[Phase] = []
    if args.redis:
        import redis

        redis.Redis.from_url(args.redis).flushdb()
    with tempfile.TemporaryDirectory(prefix="argon2-flood-") as tmp:
        for budget in [args.budget] + ([] if args.skip_no_budget else [NO_BUDGET]):
            phases += run(budget, args, Path(tmp))
            for phase in phases[-2:]:
                print(phase.line(), flush=True)
    threading.Event().wait(0)


if __name__ == "__main__":
    main()
