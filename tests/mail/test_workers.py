"""Mail workers as real processes (``authserver mail worker``) against a real
SMTP server: one killed in the middle of a batch, two at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_config
from flask import Flask
from sqlalchemy import create_engine, text
from support.smtp import SmtpServer

from authserver.config import normalize_database_url
from authserver.extensions import db
from authserver.mail.worker import WorkerSettings, claim
from authserver.models import OutboxMessage
from authserver.models._base import utcnow
from authserver.models.outbox import KIND_TEST
from authserver.services import outbox

pytestmark = pytest.mark.e2e

LEASE = 4


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, smtp: SmtpServer) -> dict[str, Any]:
    smtp.handler.reset()
    return make_config(database_url, tmp_path, SMTP_URL=smtp.url, MAIL_LEASE_SECONDS=LEASE)


def enqueue(count: int) -> set[str]:
    """*count* test mails to different recipients, due now; their Message-ID tokens."""
    for number in range(count):
        outbox.enqueue(
            KIND_TEST,
            [f"r{number:03}@acme.example"],
            client_id="cl_x",
            teccom_id="400100",
            params={"client_name": "Acme", "organization_name": "Acme Parts", "actor": "anna"},
        )
    db.session.commit()
    return set(db.session.execute(db.select(OutboxMessage.message_id)).scalars())


def start_worker(app: Flask, smtp: SmtpServer, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    env.update(
        AUTHSERVER_ENV="testing",
        AUTHSERVER_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        AUTHSERVER_INSTANCE_PATH=app.instance_path,
        AUTHSERVER_SMTP_URL=smtp.url,
        AUTHSERVER_MAIL_LEASE_SECONDS=str(LEASE),
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from authserver.cli import main; main()", "mail", "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def received_ids(smtp: SmtpServer) -> Counter[str]:
    return Counter(
        str(r.message["Message-ID"]).strip("<>").partition("@")[0] for r in smtp.received
    )


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_in_a_batch_loses_nothing_and_repeats_at_most_one(app, app_ctx, smtp):
    ids = enqueue(20)
    smtp.handler.delay = 0.1
    worker = start_worker(app, smtp, "--interval", "0.2")
    try:
        wait_for(lambda: len(smtp.received) >= 5)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate(timeout=10)
    before = sum(received_ids(smtp).values())
    assert 5 <= before < 20
    smtp.handler.delay = 0.0

    time.sleep(LEASE + 0.5)  # the claim of the killed worker lapses
    restarted = start_worker(app, smtp, "--once")
    out, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err

    counts = received_ids(smtp)
    assert set(counts) == ids  # every mail arrived
    # the mail in flight when the worker died may arrive twice, no other
    assert sum(counts.values()) - len(ids) <= 1, counts.most_common(2)
    statuses = db.session.execute(db.select(OutboxMessage.status)).scalars().all()
    db.session.rollback()
    assert set(statuses) == {"sent"}


def test_two_workers_at_once_deliver_each_mail_once(app, app_ctx, smtp):
    ids = enqueue(40)
    smtp.handler.delay = 0.05
    workers = [start_worker(app, smtp, "--once", "--batch-size", "5") for _ in range(2)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    counts = received_ids(smtp)
    assert set(counts) == ids
    assert set(counts.values()) == {1}, counts.most_common(2)
    handled = [int(out.split()[1]) for out, _ in outputs]
    assert sum(handled) == 40, outputs


def test_a_claim_skips_rows_another_transaction_holds_on_postgresql(app, app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite serializes whole claims)")
    enqueue(4)
    first_two = (
        db.session.execute(db.select(OutboxMessage.id).order_by(OutboxMessage.id).limit(2))
        .scalars()
        .all()
    )
    db.session.rollback()
    engine = create_engine(normalize_database_url(app.config["SQLALCHEMY_DATABASE_URI"]))
    try:
        with engine.connect() as other:
            other.execute(
                text("SELECT id FROM mail_outbox WHERE id = ANY(:ids) FOR UPDATE"),
                {"ids": first_two},
            )
            settings = WorkerSettings.from_config(app.config, app.instance_path)
            started = time.monotonic()
            _, mails = claim(settings, utcnow())
            assert time.monotonic() - started < 5  # did not wait for the lock
            assert {mail.id for mail in mails}.isdisjoint(first_two)
            assert len(mails) == 2
            other.rollback()
    finally:
        engine.dispose()
