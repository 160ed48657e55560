"""Client assertions already used (RFC 7523 §3 item 7: a ``jti`` is single use)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime


class UsedAssertion(db.Model):  # type: ignore[name-defined,misc]
    """A used ``jti``, kept until its assertion would have expired anyway.

    ``key`` is the SHA-256 (hex) of the client id and the ``jti``, so that an
    attacker-chosen ``jti`` of any length fits, and two clients' ``jti``
    values never collide.
    """

    __tablename__ = "used_assertions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
