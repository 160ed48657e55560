"""The audit trail: who changed what, when, from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime, utcnow


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    """One state change (or refused attempt). Never holds a secret.

    ``client_id`` is a plain string, not a foreign key, so that the trail of
    a deleted client survives it.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_client_id_id", "client_id", "id"),
        #: export and retention select by age
        Index("ix_audit_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: e-mail of the acting user, or ``cli`` / ``system``
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    #: what was acted on, e.g. a TecCom ID or an e-mail
    target: Mapped[str | None] = mapped_column(String(320))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
