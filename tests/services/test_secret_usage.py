"""The last use of each secret: noted per token in a dict, written at most
once per interval, in one statement, only ever forward."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine

from authserver.extensions import db
from authserver.models import ClientSecret
from authserver.services import audit, clients
from authserver.services.secret_usage import SecretUsage

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def secret_ids(directory):
    ids = []
    for teccom_id in ("400100", "400200"):
        admin = directory.user(f"a{teccom_id}@example.com", admin_of=(teccom_id,))
        client = clients.create_client(admin, teccom_id, audit.CLI).client
        ids.append(client.secrets[0].id)
    return ids


def _last_used():
    db.session.expire_all()
    return {
        s.id: s.last_used_at
        for s in db.session.execute(db.select(ClientSecret).order_by(ClientSecret.id)).scalars()
    }


def test_noted_secrets_are_written_at_the_flush_in_one_go(secret_ids):
    now = [T0]
    usage = SecretUsage(lambda: db.engine, clock=lambda: now[0])
    first, second = secret_ids
    for _ in range(1000):
        usage.note(first)
    assert _last_used() == {first: None, second: None}  # nothing written per token
    assert usage.flush() == 1
    assert _last_used() == {first: T0, second: None}
    assert usage.flush() == 0


def test_the_last_use_only_moves_forward_whichever_process_writes(secret_ids):
    first, _ = secret_ids
    late = SecretUsage(lambda: db.engine, clock=lambda: T0 + timedelta(minutes=5))
    early = SecretUsage(lambda: db.engine, clock=lambda: T0)
    late.note(first)
    late.flush()
    early.note(first)
    early.flush()
    assert _last_used()[first] == T0 + timedelta(minutes=5)


def test_a_failed_write_keeps_the_secrets_for_the_next_one(secret_ids, tmp_path):
    first, _ = secret_ids
    broken = create_engine(f"sqlite:///{tmp_path / 'missing' / 'nope.sqlite3'}")
    engines = [broken]
    usage = SecretUsage(lambda: engines[0], clock=lambda: T0)
    usage.note(first)
    assert usage.flush() == 0
    engines[0] = db.engine
    assert usage.flush() == 1
    assert _last_used()[first] == T0


def test_the_thread_writes_by_itself_every_interval(secret_ids):
    first, _ = secret_ids
    engine = db.engine  # the thread has no application context
    usage = SecretUsage(lambda: engine, interval=0.05, clock=lambda: T0)
    usage.start()
    usage.start()  # once per process
    try:
        usage.note(first)
        deadline = time.monotonic() + 5
        while _last_used()[first] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _last_used()[first] == T0
    finally:
        usage.stop()
