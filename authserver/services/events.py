"""Reading the audit trail of a client (docs/rules.md, rule 8).

Pages go newest first and are keyed by the event id (keyset pagination on
the ``(client_id, id)`` index): a page stays correct while new events arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationError
from ..extensions import db
from ..models import AuditEvent, User
from .clients import get_client

#: the largest page a caller may ask for
MAX_PAGE_SIZE = 200
#: the largest cursor: event ids are 32-bit integers (``audit_events.id`` is
#: an Integer column; PostgreSQL refuses to compare it with a larger number)
MAX_CURSOR = 2**31 - 1


@dataclass(frozen=True)
class EventPage:
    """Events newest first; ``next_before`` is the cursor of the next (older)
    page (pass it as *before*), or ``None`` on the last page.
    """

    events: list[AuditEvent]
    next_before: int | None


def list_events(
    user: User, client_id: str, *, limit: int = 50, before: int | None = None
) -> EventPage:
    """One page of the audit trail of a client *user* administers.

    :param limit: events per page, 1 to :data:`MAX_PAGE_SIZE`.
    :param before: only events older than this cursor (an event id).
    :raises ClientNotFound: no such client, or *user* is not its administrator.
    :raises ValidationError: a bad *limit* or *before*.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}.", field="limit")
    if before is not None and (
        isinstance(before, bool) or not isinstance(before, int) or not 1 <= before <= MAX_CURSOR
    ):
        raise ValidationError("before must be a positive integer cursor.", field="before")
    client = get_client(user, client_id)
    query = db.select(AuditEvent).where(AuditEvent.client_id == client.client_id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    rows = list(db.session.execute(query.order_by(AuditEvent.id.desc()).limit(limit + 1)).scalars())
    if len(rows) > limit:
        return EventPage(rows[:limit], rows[limit - 1].id)
    return EventPage(rows, None)
