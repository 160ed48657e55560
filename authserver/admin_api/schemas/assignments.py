"""Organizations assigned to a client (assignments) and its administrators."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ...services.assignments import MAX_NOTIFICATION_EMAILS
from .fields import StrictBoolean, Text, email_field, teccom_id_field


class AssignmentSchema(ma.Schema):
    teccom_id = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "name of the organization"})
    enabled = fields.Boolean(required=True)
    notification_emails = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


#: shared by the notification_emails fields (keyword arguments of fields.List)
_notification_emails: dict[str, Any] = {
    "validate": validate.Length(max=MAX_NOTIFICATION_EMAILS),
    "metadata": {"description": "addresses told about failed exports"},
}


class AssignmentCreateSchema(ma.Schema):
    teccom_id = teccom_id_field(required=True)
    enabled = StrictBoolean(load_default=True)
    notification_emails = fields.List(
        Text(validate=validate.Length(max=320)), load_default=list, **_notification_emails
    )


class AssignmentUpdateSchema(ma.Schema):
    enabled = StrictBoolean()
    notification_emails = fields.List(
        Text(validate=validate.Length(max=320)), **_notification_emails
    )


class AdministratorAddSchema(ma.Schema):
    email = email_field(required=True)
