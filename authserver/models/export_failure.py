"""Failed exports reported by the Export service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime, utcnow
from .organization import TECCOM_ID_MAX

#: the longest export id of the Export service
EXPORT_ID_MAX = 200
#: the longest reason text
REASON_MAX = 2000
#: the longest reason code
REASON_CODE_MAX = 100


class ExportFailure(db.Model):  # type: ignore[name-defined,misc]
    """One failed export of an organization assigned to a client.

    A report is idempotent on (client, organization, ``export_id``): the
    unique constraint decides a race between two identical reports. The
    report is deleted with its client. ``batch`` names the digest mail
    (the outbox rows with the same ``batch``) that lists it.
    """

    __tablename__ = "export_failures"
    __table_args__ = (
        UniqueConstraint(
            "client_pk", "teccom_id", "export_id", name="uq_export_failures_client_pk"
        ),
        Index("ix_export_failures_client_pk_id", "client_pk", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    teccom_id: Mapped[str] = mapped_column(String(TECCOM_ID_MAX))
    export_id: Mapped[str] = mapped_column(String(EXPORT_ID_MAX))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(REASON_CODE_MAX))
    #: the gateway (resource server) client id that reported it
    reported_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: the digest mail that lists it; ``None`` when no address was set
    batch: Mapped[str | None] = mapped_column(String(32), index=True)
