"""Login, the caller and users."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from .fields import Text, email_field


class LoginSchema(ma.Schema):
    email = email_field(required=True)
    password = Text(required=True, validate=validate.Length(max=1024), load_only=True)


class AdminTokenSchema(ma.Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class UserSchema(ma.Schema):
    email = fields.String(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)


class UserQuerySchema(ma.Schema):
    email = email_field(required=True)


class MyOrganizationSchema(ma.Schema):
    teccom_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    client_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the client it is assigned to, or null"},
    )


class MeSchema(UserSchema):
    organizations = fields.List(fields.Nested(MyOrganizationSchema), required=True)
