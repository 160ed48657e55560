"""Server-side console sessions at the service level (OWASP Session
Management: the server ends a session at logout, after the idle and the
absolute limit, and on a new password; it stores no usable session ID).

Times are passed in (``now=``): no test waits for a clock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from authserver import credentials
from authserver.extensions import db
from authserver.models import AuditEvent, ConsoleSession, User
from authserver.models._base import utcnow
from authserver.services import audit, console_sessions

CTX = audit.AuditContext(actor="anna@example.com", remote_addr="192.0.2.1", request_id="req-1")
IDLE = timedelta(seconds=console_sessions.IDLE_SECONDS)
MAX = timedelta(seconds=console_sessions.MAX_SECONDS)
SECOND = timedelta(seconds=1)


@pytest.fixture
def anna(directory: Any) -> User:
    return directory.user("anna@example.com")


@pytest.fixture
def ben(directory: Any) -> User:
    return directory.user("ben@example.com")


def rows() -> list[ConsoleSession]:
    db.session.expire_all()
    return list(db.session.execute(db.select(ConsoleSession).order_by(ConsoleSession.id)).scalars())


def owner(handle: str, now: Any = None) -> str | None:
    found = console_sessions.lookup(handle, now=now)
    return found.user.email if found is not None else None


def test_start_returns_a_256_bit_handle_and_stores_only_its_sha256(anna: User) -> None:
    now = utcnow()
    handle = console_sessions.start(
        anna, remote_addr="192.0.2.1", user_agent="Firefox " + "x" * 300, now=now
    )
    assert re.fullmatch(r"[\w-]{43}", handle)  # 32 random bytes, base64url
    (row,) = rows()
    assert row.handle_hash == hashlib.sha256(handle.encode()).hexdigest()
    assert (row.user_id, row.remote_addr) == (anna.id, "192.0.2.1")
    assert row.user_agent == ("Firefox " + "x" * 300)[:255]
    assert (row.created_at, row.last_seen_at, row.expires_at) == (now, now, now + MAX)
    stored = " ".join(
        str(value) for value in db.session.execute(db.select(ConsoleSession.__table__)).one()
    )
    assert handle not in stored
    assert console_sessions.start(anna) != handle  # every login gets its own


def test_lookup_finds_the_session_of_a_handle_and_nothing_else(anna: User, ben: User) -> None:
    handle = console_sessions.start(anna)
    other = console_sessions.start(ben)
    assert owner(handle) == "anna@example.com"
    assert owner(other) == "ben@example.com"
    stored_hash = rows()[0].handle_hash
    for wrong in (
        "",
        "x" * 43,
        handle[:-1],
        handle + "A",
        stored_hash,
        "x" * 10_000,
        None,
        42,
        ["x"],
    ):
        assert console_sessions.lookup(wrong) is None, wrong
    assert len(rows()) == 2


def test_a_session_ends_after_the_idle_limit(anna: User) -> None:
    start = utcnow()
    handle = console_sessions.start(anna, now=start)
    assert owner(handle, now=start + IDLE - SECOND) == "anna@example.com"
    assert owner(handle, now=start + IDLE) is None
    assert rows() == []  # and it is gone: the handle never works again
    assert owner(handle, now=start) is None


def test_activity_moves_the_idle_limit_but_not_the_absolute_one(anna: User) -> None:
    start = utcnow()
    handle = console_sessions.start(anna, now=start)
    now = start
    while now + IDLE / 2 < start + MAX:  # active every half hour, for twelve hours
        now += IDLE / 2
        found = console_sessions.lookup(handle, now=now)
        assert found is not None, now - start
        assert console_sessions.touch(found, now=now) is True
    assert owner(handle, now=start + MAX - SECOND) == "anna@example.com"
    assert owner(handle, now=start + MAX) is None
    assert rows() == []


def test_touch_writes_last_seen_at_at_most_once_a_minute(anna: User) -> None:
    start = utcnow()
    handle = console_sessions.start(anna, now=start)
    found = console_sessions.lookup(handle, now=start + 59 * SECOND)
    assert found is not None
    assert console_sessions.touch(found, now=start + 59 * SECOND) is False
    assert rows()[0].last_seen_at == start
    found = console_sessions.lookup(handle, now=start + 60 * SECOND)
    assert found is not None
    assert console_sessions.touch(found, now=start + 60 * SECOND) is True
    assert rows()[0].last_seen_at == start + 60 * SECOND
    # the idle limit now counts from the last recorded request
    assert owner(handle, now=start + 60 * SECOND + IDLE - SECOND) == "anna@example.com"


def test_touching_a_session_that_ended_meanwhile_is_harmless(anna: User) -> None:
    start = utcnow()
    handle = console_sessions.start(anna, now=start)
    found = console_sessions.lookup(handle, now=start + IDLE / 2)
    assert found is not None
    console_sessions.end_all(anna, CTX)  # another browser logs out everywhere
    assert console_sessions.touch(found, now=start + IDLE / 2) is True
    assert rows() == []
    assert console_sessions.lookup(handle) is None


def test_a_new_password_or_no_password_ends_the_session(anna: User) -> None:
    handle = console_sessions.start(anna)
    anna.password_hash = credentials.hash_secret("a new password from the portal")
    db.session.commit()
    assert console_sessions.lookup(handle) is None
    assert rows() == []

    handle = console_sessions.start(anna)
    assert owner(handle) == "anna@example.com"
    anna.password_hash = None
    db.session.commit()
    assert console_sessions.lookup(handle) is None
    assert rows() == []


def test_removing_the_user_removes_their_sessions(anna: User, ben: User) -> None:
    handle = console_sessions.start(anna)
    console_sessions.start(ben)
    db.session.delete(anna)
    db.session.commit()
    assert [row.user_id for row in rows()] == [ben.id]  # ON DELETE CASCADE
    assert console_sessions.lookup(handle) is None


def test_end_ends_one_session_only(anna: User) -> None:
    here = console_sessions.start(anna)
    there = console_sessions.start(anna)
    assert console_sessions.end(here) is True
    assert console_sessions.lookup(here) is None
    assert owner(there) == "anna@example.com"
    assert console_sessions.end(here) is False
    for wrong in ("", None, "x" * 10_000):
        assert console_sessions.end(wrong) is False
    assert len(rows()) == 1


def test_end_all_ends_every_session_of_the_user_and_is_audited(anna: User, ben: User) -> None:
    handles = [console_sessions.start(anna) for _ in range(3)]
    bens = console_sessions.start(ben)
    assert console_sessions.end_all(anna, CTX) == 3
    assert [console_sessions.lookup(handle) for handle in handles] == [None, None, None]
    assert owner(bens) == "ben@example.com"
    (event_,) = db.session.execute(db.select(AuditEvent)).scalars()
    assert (event_.actor, event_.action, event_.target, event_.client_id) == (
        "anna@example.com",
        "session.revoked_all",
        "anna@example.com",
        None,
    )
    assert (event_.details, event_.remote_addr, event_.request_id) == (
        {"sessions": 3},
        "192.0.2.1",
        "req-1",
    )
    assert console_sessions.end_all(anna, audit.CLI) == 0
    assert db.session.execute(
        db.select(AuditEvent.actor, AuditEvent.details).order_by(AuditEvent.id)
    ).all()[-1] == ("cli", {"sessions": 0})


class AuditRowRefused(Exception):
    """Stands for any database error raised by the INSERT of the audit row."""


@pytest.fixture
def refuse_audit_rows() -> Iterator[None]:
    def refuse(*args: Any) -> None:
        raise AuditRowRefused()

    event.listen(AuditEvent, "before_insert", refuse)
    yield
    event.remove(AuditEvent, "before_insert", refuse)


def test_end_all_and_its_audit_event_commit_together(anna: User, refuse_audit_rows: None) -> None:
    handle = console_sessions.start(anna)
    with pytest.raises(AuditRowRefused):
        console_sessions.end_all(anna, CTX)
    db.session.rollback()
    assert owner(handle) == "anna@example.com"


def test_purge_deletes_only_sessions_that_ended_by_time(anna: User, ben: User) -> None:
    now = utcnow()
    handles = [console_sessions.start(user, now=now) for user in (anna, anna, ben)]
    absolute, idle, young = rows()
    absolute.expires_at = now  # active, but twelve hours old
    idle.last_seen_at = now - IDLE
    young.last_seen_at, young.expires_at = now - IDLE + SECOND, now + SECOND
    db.session.commit()
    assert console_sessions.purge(now=now) == 2
    assert [row.handle_hash for row in rows()] == [console_sessions.hash_handle(handles[2])]
    assert console_sessions.purge(now=now) == 0


def test_logging_in_purges_sessions_that_ended_by_time(anna: User, ben: User) -> None:
    now = utcnow()
    console_sessions.start(ben, now=now - 2 * IDLE)
    handle = console_sessions.start(anna, now=now)
    assert [row.handle_hash for row in rows()] == [console_sessions.hash_handle(handle)]
