"""The audit trail, in pages."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ...services.events import MAX_CURSOR, MAX_PAGE_SIZE


class EventQuerySchema(ma.Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    before = fields.Integer(
        validate=validate.Range(min=1, max=MAX_CURSOR),
        metadata={"description": "cursor: next_before of the previous page"},
    )


class EventSchema(ma.Schema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    client_id = fields.String(required=True, allow_none=True)
    target = fields.String(required=True, allow_none=True)
    details = fields.Dict(required=True)
    remote_addr = fields.String(required=True, allow_none=True)
    request_id = fields.String(required=True, allow_none=True)


class EventPageSchema(ma.Schema):
    events = fields.List(fields.Nested(EventSchema), required=True)
    next_before = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "pass as before for the next page; null on the last"},
    )
