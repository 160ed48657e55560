"""The audit trail as a whole, for operators: export it (for a SIEM or an
archive) and delete what is older than the retention period.

Reading one client's trail is :mod:`authserver.services.events`; writing it
is :mod:`authserver.services.audit`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete

from ..errors import ValidationError
from ..extensions import db
from ..models import AuditEvent
from ..models._base import utcnow
from . import audit

#: the shortest retention ``purge`` accepts: a typo must not wipe the trail
MIN_RETENTION = timedelta(days=30)
#: rows read per round trip while exporting
EXPORT_BATCH = 1000


def as_dict(event: AuditEvent) -> dict[str, Any]:
    """An audit event as plain JSON data (the export, the log)."""
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "client_id": event.client_id,
        "target": event.target,
        "details": event.details,
        "remote_addr": event.remote_addr,
        "request_id": event.request_id,
    }


def export(since: datetime, until: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every event from *since* (inclusive) to *until* (exclusive), oldest
    first, read in batches (the whole trail is never in memory)."""
    last_id = 0
    while True:
        query = db.select(AuditEvent).where(AuditEvent.created_at >= since, AuditEvent.id > last_id)
        if until is not None:
            query = query.where(AuditEvent.created_at < until)
        batch = list(
            db.session.execute(query.order_by(AuditEvent.id).limit(EXPORT_BATCH)).scalars()
        )
        for event in batch:
            yield as_dict(event)
        if len(batch) < EXPORT_BATCH:
            return
        last_id = batch[-1].id
        db.session.expunge_all()


def purge(older_than: timedelta, ctx: audit.AuditContext, now: datetime | None = None) -> int:
    """Delete the events older than *older_than*; how many. The purge is
    itself audited (``audit.purged``), in the same transaction.

    :raises ValidationError: *older_than* is shorter than :data:`MIN_RETENTION`.
    """
    if older_than < MIN_RETENTION:
        raise ValidationError(
            f"Keep at least {MIN_RETENTION.days} days of audit trail.", field="older_than"
        )
    cutoff = (now or utcnow()) - older_than
    result = db.session.execute(delete(AuditEvent).where(AuditEvent.created_at < cutoff))
    deleted = int(getattr(result, "rowcount", 0) or 0)
    audit.record(ctx, "audit.purged", details={"before": cutoff.isoformat(), "deleted": deleted})
    db.session.commit()
    return deleted
