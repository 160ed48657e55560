"""Server-side login sessions of the browser console.

After the OWASP Session Management Cheat Sheet: the session ID is 256 bits
from the operating system's CSPRNG, the server stores only its SHA-256, and
the session ends on the server (its row is deleted) at logout, at "log out
everywhere", when an operator revokes it, after :data:`IDLE_SECONDS`
without a request, after :data:`MAX_SECONDS` however active, and when the
user's password changes in the directory (or the user is removed).

Plain arguments in, rows out: the console passes the handle from its cookie
and the request's address; nothing here reads ``request`` or ``g``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ConsoleSession, User
from ..models._base import utcnow
from . import audit

#: a session ends after this long without a request
IDLE_SECONDS = 3600
#: a session ends this long after login, however active
MAX_SECONDS = 12 * 3600
#: ``last_seen_at`` is written at most this often (not on every request)
TOUCH_INTERVAL_SECONDS = 60
#: the audit action of "log out everywhere" and of an operator's revocation
REVOKED_ALL = "session.revoked_all"

#: bytes of randomness in a handle (256 bits)
_HANDLE_BYTES = 32
#: longer than any handle we issue: not worth hashing
_MAX_HANDLE_LENGTH = 128


def hash_handle(handle: str) -> str:
    """The SHA-256 (hex) under which a handle is stored."""
    return hashlib.sha256(handle.encode()).hexdigest()


def password_fingerprint(user: User) -> str:
    """SHA-256 (hex) of the user's password hash: changes with the password."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()


def start(
    user: User,
    *,
    remote_addr: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> str:
    """Start a session for *user* and return its handle (for the cookie only).

    Sessions that have ended by time are purged on the way.
    """
    now = now or utcnow()
    _delete_expired(now)
    handle = secrets.token_urlsafe(_HANDLE_BYTES)
    db.session.add(
        ConsoleSession(
            handle_hash=hash_handle(handle),
            user_id=user.id,
            password_fingerprint=password_fingerprint(user),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=MAX_SECONDS),
            remote_addr=remote_addr[:64] if remote_addr else None,
            user_agent=user_agent[:255] if user_agent else None,
        )
    )
    db.session.commit()
    return handle


def check_session(console_session: ConsoleSession, now: datetime) -> bool:
    """Whether *console_session* is still valid at *now*: not past its
    absolute limit, not idle too long, and its user still has the password
    they logged in with.
    """
    user = console_session.user
    return (
        now < console_session.expires_at
        and now < console_session.last_seen_at + timedelta(seconds=IDLE_SECONDS)
        and user.password_hash is not None
        and hmac.compare_digest(console_session.password_fingerprint, password_fingerprint(user))
    )


def lookup(handle: object, *, now: datetime | None = None) -> ConsoleSession | None:
    """The valid session with *handle*, or ``None``.

    A session found but no longer valid (see :func:`check_session`) is
    deleted, so that its handle can never work again.
    """
    if not isinstance(handle, str) or not handle or len(handle) > _MAX_HANDLE_LENGTH:
        return None
    now = now or utcnow()
    found: ConsoleSession | None = db.session.execute(
        db.select(ConsoleSession)
        .where(ConsoleSession.handle_hash == hash_handle(handle))
        .options(joinedload(ConsoleSession.user))
    ).scalar_one_or_none()
    if found is None:
        return None
    if not check_session(found, now):
        _delete(ConsoleSession.id == found.id)
        db.session.commit()
        return None
    return found


def touch(console_session: ConsoleSession, *, now: datetime | None = None) -> bool:
    """Record activity on *console_session*, at most once per
    :data:`TOUCH_INTERVAL_SECONDS` (so that most requests write nothing).

    :returns: whether ``last_seen_at`` was written.
    """
    now = now or utcnow()
    if now - console_session.last_seen_at < timedelta(seconds=TOUCH_INTERVAL_SECONDS):
        return False
    # a statement, not a flush: the row may have been deleted meanwhile (logout elsewhere)
    db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == console_session.id)
        .values(last_seen_at=now)
    )
    db.session.commit()
    return True


def end(handle: object) -> bool:
    """End the session with *handle* (logout); whether there was one."""
    if not isinstance(handle, str) or not handle or len(handle) > _MAX_HANDLE_LENGTH:
        return False
    ended = _delete(ConsoleSession.handle_hash == hash_handle(handle))
    db.session.commit()
    return ended > 0


def end_all(user: User, ctx: audit.AuditContext) -> int:
    """End every session of *user* ("log out everywhere", or an operator's
    revocation), audited as :data:`REVOKED_ALL` in the same transaction.

    :returns: how many sessions ended.
    """
    ended = _delete(ConsoleSession.user_id == user.id)
    audit.record(ctx, REVOKED_ALL, target=user.email, details={"sessions": ended})
    db.session.commit()
    return ended


def purge(*, now: datetime | None = None) -> int:
    """Delete every session that has ended by time; how many were deleted."""
    ended = _delete_expired(now or utcnow())
    db.session.commit()
    return ended


def _delete_expired(now: datetime) -> int:
    return _delete(
        or_(
            ConsoleSession.expires_at <= now,
            ConsoleSession.last_seen_at <= now - timedelta(seconds=IDLE_SECONDS),
        )
    )


def _delete(condition: ColumnElement[bool]) -> int:
    """Delete the sessions matching *condition* (in the current transaction);
    how many there were.
    """
    result = db.session.execute(delete(ConsoleSession).where(condition))
    return int(getattr(result, "rowcount", 0) or 0)
