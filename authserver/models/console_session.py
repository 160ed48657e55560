"""Login sessions of the browser console (OWASP Session Management).

The browser holds a random session handle in its cookie; the server keeps
only the handle's SHA-256, so that a copy of this table logs nobody in.
Deleting the row ends the session on the server, whatever cookie is left.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import UTCDateTime, utcnow
from .user import User


class ConsoleSession(db.Model):  # type: ignore[name-defined,misc]
    """One logged-in browser; never holds the handle itself."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 (hex) of the 256-bit random handle in the session cookie
    handle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 (hex) of the user's password hash at login: a new password ends the session
    password_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: last request seen, recorded at most once a minute (the idle limit counts from here)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: the absolute limit, however active the session is
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: where the login came from, for an operator looking at the table
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()
