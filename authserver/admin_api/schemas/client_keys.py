"""Public keys, ``jwks_uri`` and the secret-authentication switch of a client."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ...public_keys import MAX_KEY_TEXT
from ...services.client_keys import MAX_LABEL
from .fields import StrictBoolean, Text


class ClientKeyCreateSchema(ma.Schema):
    key = Text(
        required=True,
        validate=validate.Length(min=1, max=MAX_KEY_TEXT),
        metadata={
            "description": "the public key: a JWK (JSON text) or a PEM public key; "
            "RSA of 2048 bits or more, EC P-256/P-384 or Ed25519",
            "example": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----",
        },
    )
    label = Text(
        load_default="",
        validate=validate.Length(max=MAX_LABEL),
        metadata={"description": "what the key is for, e.g. where it lives", "example": "ERP 2026"},
    )


class ClientKeySchema(ma.Schema):
    thumbprint = fields.String(
        required=True,
        metadata={"description": "RFC 7638 SHA-256 thumbprint: names the key in this API"},
    )
    kid = fields.String(
        required=True,
        metadata={"description": "the key id an assertion's header may name"},
    )
    label = fields.String(required=True)
    kty = fields.String(required=True, metadata={"example": "EC"})
    algorithms = fields.List(
        fields.String(), required=True, metadata={"description": "what it may sign with"}
    )
    public_jwk = fields.Dict(required=True, metadata={"description": "the public key as a JWK"})
    created_at = fields.DateTime(required=True)


class SecretAuthenticationSchema(ma.Schema):
    enabled = StrictBoolean(
        required=True,
        metadata={"description": "false: client_secret_basic/post are refused for this client"},
    )


class SecretAuthenticationStateSchema(ma.Schema):
    client_id = fields.String(required=True)
    enabled = fields.Boolean(required=True)


class JwksUriSchema(ma.Schema):
    jwks_uri = Text(
        required=True,
        allow_none=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "https URL of the client's JWK Set; null removes it"},
    )


class JwksUriStateSchema(ma.Schema):
    client_id = fields.String(required=True)
    jwks_uri = fields.String(required=True, allow_none=True)
