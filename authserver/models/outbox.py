"""The mail outbox: mails written in the transaction of the change that
causes them, delivered later by the mail worker (the transactional outbox
pattern).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime, utcnow

#: waiting for its time (``next_attempt_at``)
PENDING = "pending"
#: claimed by a worker until ``lease_until``
SENDING = "sending"
#: accepted by the SMTP server (or written as a file)
SENT = "sent"
#: refused for good (5xx) or given up after the last attempt
FAILED = "failed"

#: a digest of failed exports of one assignment
KIND_EXPORT_FAILURES = "export_failures"
#: a test mail asked for in the console
KIND_TEST = "test"


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """One mail to one recipient.

    The text is rendered when the mail is sent, from ``kind`` and
    ``params`` (and, for a digest, every failure of its ``batch``), so a
    digest lists the failures that joined it after it was written. The
    ``message_id`` is made once: a retry sends the same ``Message-ID``.
    ``client_id`` is a plain string, not a foreign key: the notice that a
    client was deleted outlives the client.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_mail_outbox_client_id_teccom_id", "client_id", "teccom_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str | None] = mapped_column(String(64))
    teccom_id: Mapped[str | None] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(320))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: rows of one mail to several recipients (a digest) share it
    batch: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: when the mail was first due (the daily cap counts digests by it)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: the worker's claim: a random token and when it lapses
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the last SMTP answer or error, never the message body
    last_error: Mapped[str | None] = mapped_column(String(500))
