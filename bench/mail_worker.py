#!/usr/bin/env python3
"""Mail worker throughput: delivered mails per second to a local aiosmtpd.

Fills the outbox with ``--mails`` test mails (one recipient each), starts an
aiosmtpd server (its ``Sink`` handler, in a process of its own so that it
does not share the worker's GIL) on a free loopback port, and times ``authserver mail
worker``'s delivery loop (:func:`authserver.mail.worker.drain`, in-process:
claim a batch, render both parts from the templates, SMTP over one
connection per batch, record each outcome with its audit event, one commit
per mail). ``--processes N`` runs N worker processes at once instead.

    .venv/bin/python bench/mail_worker.py
    .venv/bin/python bench/mail_worker.py --mails 2000 --database-url postgresql://postgres@127.0.0.1:5432/bench_mail
    .venv/bin/python bench/mail_worker.py --processes 2
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from authserver import create_app  # noqa: E402
from authserver.extensions import db  # noqa: E402
from authserver.mail.worker import WorkerSettings, drain  # noqa: E402
from authserver.models import OutboxMessage  # noqa: E402
from authserver.models.outbox import KIND_TEST, SENT  # noqa: E402
from authserver.services import outbox  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("aiosmtpd did not start")


def fill(count: int) -> None:
    db.session.execute(db.delete(OutboxMessage))
    for number in range(count):
        outbox.enqueue(
            KIND_TEST,
            [f"r{number:05}@acme.example"],
            client_id="cl_bench",
            teccom_id="400100",
            params={"client_name": "Bench", "organization_name": "Acme", "actor": "bench"},
        )
    db.session.commit()


def run_processes(app: Any, url: str, smtp_url: str, processes: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    env.update(
        AUTHSERVER_ENV="testing",
        AUTHSERVER_DATABASE_URL=url,
        AUTHSERVER_INSTANCE_PATH=app.instance_path,
        AUTHSERVER_SMTP_URL=smtp_url,
    )
    command = [sys.executable, "-c", "from authserver.cli import main; main()"]
    workers = [
        subprocess.Popen(
            [*command, "mail", "worker", "--once", "--batch-size", "50"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for worker in workers:
        out, _ = worker.communicate(timeout=600)
        print(f"  worker {worker.pid}: {out.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--processes", type=int, default=0, help="worker processes (0: in-process)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        os.environ["AUTHSERVER_INSTANCE_PATH"] = folder
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        port = free_port()
        smtpd = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
            + ["-c", "aiosmtpd.handlers.Sink"],
            start_new_session=True,
        )
        wait_for_port(port)
        smtp_url = f"smtp://127.0.0.1:{port}"
        app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "SMTP_URL": smtp_url})
        try:
            with app.app_context():
                db.drop_all()
                db.create_all()
                fill(args.mails)
                settings = WorkerSettings.from_config(app.config, app.instance_path)
                started = time.perf_counter()
                if args.processes:
                    run_processes(app, url, smtp_url, args.processes)
                else:
                    drain(settings)
                elapsed = time.perf_counter() - started
                sent = db.session.execute(
                    db.select(db.func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == SENT)
                ).scalar_one()
                database = db.engine.dialect.name
                db.session.rollback()
                if args.database_url:
                    db.drop_all()
        finally:
            os.killpg(smtpd.pid, signal.SIGTERM)
            smtpd.wait(timeout=10)
    how = f"{args.processes} worker processes" if args.processes else "1 worker, in-process"
    print(
        f"{database}, {how}: {sent} of {args.mails} mails sent "
        f"to aiosmtpd in {elapsed:.2f} s: "
        f"{sent / elapsed:.0f} mails/s"
    )


if __name__ == "__main__":
    main()
