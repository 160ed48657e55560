"""Clients, their secrets and their settings."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ...services.client_profile import (
    MAX_CONTACTS,
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    MIN_ACCESS_TOKEN_LIFETIME,
)
from ...services.secret_rotation import MAX_GRACE_PERIOD_SECONDS
from .assignments import AssignmentSchema
from .fields import StrictBoolean, Text, teccom_id_field


class SecretSchema(ma.Schema):
    """A live secret of a client (never the secret itself)."""

    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "null for the current secret; else the end of its grace period"},
    )
    last_used_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={
            "description": "when it last got a token, to about a minute (null: not since it "
            "was made)"
        },
    )


class ClientSchema(ma.Schema):
    client_id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    contacts = fields.List(
        fields.String(), required=True, metadata={"description": "technical contacts (e-mail)"}
    )
    access_token_lifetime = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "seconds; null: the server's default"},
    )
    created_at = fields.DateTime(required=True)
    secrets = fields.List(
        fields.Nested(SecretSchema),
        required=True,
        metadata={"description": "the live secrets: the current one, and one in its grace period"},
    )
    secret_created_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "when the current secret was made"}
    )
    previous_secret_expires_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "end of the grace period of the previous secret, if any"},
    )
    tokens_invalid_before = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "tokens issued before this instant were revoked"},
    )
    secret_auth_enabled = fields.Boolean(
        required=True, metadata={"description": "false: the client authenticates with keys only"}
    )
    jwks_uri = fields.String(
        required=True, allow_none=True, metadata={"description": "where the client's keys are"}
    )
    organizations = fields.List(fields.Nested(AssignmentSchema), required=True)


def _name(description: str = "what its administrators call it") -> fields.String:
    return Text(
        validate=validate.Length(min=1, max=MAX_NAME_LENGTH),
        metadata={"description": description, "example": "ERP production"},
    )


def _description(**kwargs: Any) -> fields.String:
    return Text(validate=validate.Length(max=MAX_DESCRIPTION_LENGTH), **kwargs)


def _contacts(**kwargs: Any) -> fields.List[Any]:
    return fields.List(
        Text(validate=validate.Length(max=320)),
        validate=validate.Length(max=MAX_CONTACTS),
        metadata={"description": "technical contacts: e-mail addresses"},
        **kwargs,
    )


class ClientCreateSchema(ma.Schema):
    teccom_id = teccom_id_field(required=True)
    name = _name('what its administrators call it; default: "<organization name> API client"')
    description = _description(load_default="")
    contacts = _contacts(load_default=list)


class ClientUpdateSchema(ma.Schema):
    """The settings to change; a field left out keeps its value."""

    name = _name()
    description = _description()
    contacts = _contacts()
    access_token_lifetime = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=MIN_ACCESS_TOKEN_LIFETIME),
        metadata={
            "description": "seconds, up to the server's maximum (AUTHSERVER_TOKEN_LIFETIME's "
            "upper bound, 3600 by default); null: the server's default"
        },
    )


class ClientCreatedSchema(ClientSchema):
    client_secret = fields.String(
        required=True, metadata={"description": "shown once, store it now"}
    )


class RotateSecretSchema(ma.Schema):
    grace_period_seconds = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, max=MAX_GRACE_PERIOD_SECONDS),
        metadata={
            "description": "how long the previous secret keeps working (0: it stops at once)"
        },
    )
    revoke_tokens = StrictBoolean(
        load_default=False, metadata={"description": "also revoke every token issued so far"}
    )


#: what a rotation does to older secrets (docs/rules.md, rule 3), said in the
#: rotation endpoint's description and in its answer's schema
AT_MOST_TWO_SECRETS = (
    "At most two secrets are live: the new one and the one it replaces. A new "
    "rotation drops at once any older secret that is still in its grace period."
)


class RotatedSecretSchema(ma.Schema):
    class Meta:
        description = f"A new secret of the client, shown this once. {AT_MOST_TWO_SECRETS}"

    client_id = fields.String(required=True)
    client_secret = fields.String(
        required=True, metadata={"description": "shown once, store it now"}
    )
    previous_secret_expires_at = fields.DateTime(
        required=True,
        allow_none=True,
        metadata={
            "description": "end of the grace period of the replaced secret (null: it stopped "
            "at once); a secret replaced earlier no longer works"
        },
    )
    tokens_revoked = fields.Boolean(required=True)
