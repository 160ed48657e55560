"""The error bodies: RFC 9457 problem details, and the field errors of a 422."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class ProblemSchema(ma.Schema):
    """An error (RFC 9457 problem details, ``application/problem+json``)."""

    class Meta:
        unknown = ma.INCLUDE  # problem types may add members (RFC 9457 §3.2)

    type = fields.String(required=True, metadata={"description": "URI of the kind of problem"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    field = fields.String(
        metadata={"description": "the request field at fault, for validation errors"}
    )
    errors = fields.List(
        fields.Nested(lambda: FieldErrorSchema()),
        metadata={
            "description": "validation errors (422) only, and always there: every field at "
            "fault, each with a message"
        },
    )


class FieldErrorSchema(ma.Schema):
    """One field at fault in a validation error (422)."""

    field = fields.String(
        required=True,
        metadata={
            "description": "dotted path of the field (notification_emails.1); json for the "
            "body as a whole; empty when no single field is at fault",
            "example": "notification_emails.1",
        },
    )
    message = fields.String(required=True, metadata={"example": "Not a valid e-mail address."})
