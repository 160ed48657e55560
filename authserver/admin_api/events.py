"""``GET /api/v1/clients/{id}/events``: the audit trail (docs/rules.md, rule 8)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..services import events
from .base import PREFIX, Blueprint, current_user
from .schemas import EventPageSchema, EventQuerySchema

blp = Blueprint(
    "events",
    __name__,
    url_prefix=PREFIX + "/clients/<client_id>/events",
    description="Audit trail of a client",
)


@blp.route("", methods=["GET"])
@blp.arguments(EventQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, EventPageSchema)
@blp.refusals(401, 404)
def list_events(query: dict[str, Any], client_id: str) -> dict[str, Any]:
    """Events newest first, a page at a time: pass ``next_before`` as
    ``before`` for the next page."""
    page = events.list_events(
        current_user(), client_id, limit=query["limit"], before=query.get("before")
    )
    return {"events": page.events, "next_before": page.next_before}
