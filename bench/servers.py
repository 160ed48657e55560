"""The servers ``bench/token_endpoint.py`` measures, each in its own process
group and stopped by that group's id: authserver and the bare-Flask floor
under the production server (:func:`authserver.serving.server_command`),
authserver under gunicorn's sync worker (the server it replaced), and node
``oidc-provider`` from the shared bench folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from authserver.serving import server_command

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server in its own process group, stopped by that group's id."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    client_id: str = "bench-client"
    client_secret: str = "unused-by-the-floor"
    #: extra token-load.sh arguments (oidc-provider needs a resource for JWTs)
    load_args: tuple[str, ...] = ()
    #: the server's environment (authserver: the database, the issuer)
    env: dict[str, str] = field(default_factory=dict)

    def group_cpu_seconds(self) -> float:
        """CPU (user+system) of every live process of the group, plus reaped children."""
        total = 0.0
        for proc in psutil.process_iter(["pid"]):
            try:
                if os.getpgid(proc.info["pid"]) != self.process.pid:
                    continue
                times = proc.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
            except (psutil.Error, ProcessLookupError):
                continue
        return total

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def start(
    name: str, command: list[str], env: dict[str, str], cwd: Path, workdir: Path, path: str
) -> Server:
    """Run *command* in a new process group; *path* is the token endpoint on its port."""
    log = workdir / f"{name.replace('/', '-')}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, path, process, log)


def start_production(
    name: str, app: str | None, env: dict[str, str], cwd: Path, workdir: Path, workers: int
) -> Server:
    """*app* (``module:attribute``; ``None``: authserver) under the production server."""
    port = free_port()
    if app is None:
        command = server_command("127.0.0.1", port, workers, log_level="warning")
    else:
        # one thread: an app without authserver's gate would have its threads
        # take turns at the GIL (authserver runs one request at a time per worker)
        command = server_command(
            "127.0.0.1", port, workers, app=app, factory=False, threads=1, log_level="warning"
        )
    return start(name, command, env, cwd, workdir, f"http://127.0.0.1:{port}/oauth2/token")


def start_gunicorn_sync(
    name: str, app: str | None, env: dict[str, str], cwd: Path, workdir: Path, workers: int
) -> Server:
    """*app* under gunicorn's sync worker (the server before Granian), for comparison."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--no-control-socket",
        "--log-level",
        "warning",
        app or "authserver.app:create_app()",
    ]
    return start(name, command, env, cwd, workdir, f"http://127.0.0.1:{port}/oauth2/token")


def start_oidc_provider(bench: Path, workdir: Path) -> Server:
    """node oidc-provider as ``compare-peers.sh`` runs it (ES256 JWTs, plaintext secret)."""
    peers_dir = Path(os.environ.get("PEERS_DIR", "/tmp/peers"))
    if not (peers_dir / "oidc" / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["bash", str(bench / "setup-peers.sh")], check=True)
    port = free_port()
    env = dict(os.environ)
    env.update(
        NODE_ENV="production",
        PORT=str(port),
        PEERS_DIR=str(peers_dir),
        JWT_ALG="ES256",
        CLIENT_ID="bench-client",
        CLIENT_SECRET="bench-secret-0123456789",
    )
    command = ["node", str(bench / "peers" / "oidc-provider-server.mjs")]
    server = start(
        "oidc-provider", command, env, peers_dir, workdir, f"http://127.0.0.1:{port}/token"
    )
    server.client_secret = "bench-secret-0123456789"
    server.load_args = ("--scope", "export:read", "--resource", "urn:export")
    return server


def authserver_env(database_url: str, instance: Path) -> dict[str, str]:
    """Production-like settings (argon2id defaults) minus https, on *database_url*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    env.update(
        AUTHSERVER_DATABASE_URL=database_url,
        AUTHSERVER_INSTANCE_PATH=str(instance),
        AUTHSERVER_ENV="development",
    )
    return env


def prepare_authserver(env: dict[str, str]) -> tuple[str, str]:
    """Migrate and load the demo data; the demo client's fresh (id, secret)."""
    authserver = str(BIN / "authserver")
    for command in ("db", "upgrade"), ("demo", "setup"):
        setup = subprocess.run(
            [authserver, *command], env=env, cwd=ROOT, capture_output=True, text=True
        )
        if setup.returncode != 0:
            sys.exit(f"bench: authserver {' '.join(command)} failed:\n{setup.stderr[-2000:]}")
    found = re.search(r"curl -s -u (\S+?):(\S+) -d grant_type", setup.stdout)
    if not found:
        sys.exit(f"bench: no credentials in `authserver demo setup` output:\n{setup.stdout}")
    return found[1], found[2]


@contextlib.contextmanager
def postgres_database(url: str, keep: bool) -> Iterator[str]:
    """Drop and create the bench database; drop it again afterwards unless *keep*."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from authserver.config import normalize_database_url

    target = make_url(normalize_database_url(url))
    name = target.database
    if not name or not re.fullmatch(r"\w+", name) or name in {"postgres", "test"}:
        sys.exit(f"bench: refusing to recreate database {name!r}")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
