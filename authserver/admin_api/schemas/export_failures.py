"""Failed-export reports of the Export service."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ...models.export_failure import EXPORT_ID_MAX, REASON_CODE_MAX, REASON_MAX
from .events import EventQuerySchema
from .fields import Text, teccom_id_field


class ExportFailureReportSchema(ma.Schema):
    """A failed export, as the Export service reports it."""

    client_id = Text(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the API client whose export failed"},
    )
    organization = teccom_id_field(required=True)
    export_id = Text(
        required=True,
        validate=validate.Length(min=1, max=EXPORT_ID_MAX),
        metadata={"description": "the Export service's own id of the export"},
    )
    failed_at = fields.AwareDateTime(
        required=True,
        format="iso",
        metadata={
            "description": "RFC 3339 date-time with an offset",
            "example": "2026-12-06T10:00:00Z",
        },
    )
    reason = Text(
        required=True,
        validate=validate.Length(min=1, max=REASON_MAX),
        metadata={"description": "human-readable text; only ever in a mail's body"},
    )
    reason_code = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=REASON_CODE_MAX),
        metadata={"description": "a machine-readable code, if the Export service has one"},
    )


class ExportFailureSchema(ma.Schema):
    id = fields.Integer(required=True)
    client_id = fields.String(required=True)
    organization = fields.String(required=True)
    export_id = fields.String(required=True)
    failed_at = fields.DateTime(required=True)
    reason = fields.String(required=True)
    reason_code = fields.String(required=True, allow_none=True)
    received_at = fields.DateTime(required=True)
    notified = fields.Boolean(
        required=True,
        metadata={"description": "whether a mail goes to the organization's notification e-mails"},
    )


class ExportFailureQuerySchema(EventQuerySchema):
    pass


class ExportFailurePageSchema(ma.Schema):
    export_failures = fields.List(fields.Nested(ExportFailureSchema), required=True)
    next_before = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "pass as before for the next page; null on the last"},
    )
