"""Request and response schemas of the admin API (marshmallow).

They validate what comes in (unknown fields are refused: no mass assignment)
and generate the OpenAPI document; the services check the business rules.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ..models.export_failure import EXPORT_ID_MAX, REASON_CODE_MAX, REASON_MAX
from ..public_keys import MAX_KEY_TEXT
from ..services.assignments import MAX_NOTIFICATION_EMAILS
from ..services.client_keys import MAX_LABEL
from ..services.client_profile import (
    MAX_CONTACTS,
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    MIN_ACCESS_TOKEN_LIFETIME,
)
from ..services.events import MAX_CURSOR, MAX_PAGE_SIZE
from ..services.secret_rotation import MAX_GRACE_PERIOD_SECONDS


class StrictBoolean(fields.Boolean):
    """JSON ``true`` or ``false`` only (marshmallow also takes ``"yes"``, ``1``, ...)."""

    default_error_messages = {"invalid": "Not a valid boolean: use true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Text(fields.String):
    """A string that a database column can hold: no NUL characters, and no
    lone UTF-16 surrogates (JSON can spell ``"\\ud800"``, UTF-8 cannot encode it).
    """

    default_error_messages = {
        "nul": "Must not contain NUL characters.",
        "surrogate": "Must be valid Unicode text (no lone surrogates).",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.make_error("surrogate") from None
        return text


def _email(**kwargs: Any) -> fields.String:
    return Text(validate=validate.Length(min=1, max=320), **kwargs)


def _teccom_id(**kwargs: Any) -> fields.String:
    return Text(
        validate=validate.Length(min=1, max=32),
        metadata={"description": "TecCom ID of the organization", "example": "400100"},
        **kwargs,
    )


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


class LoginSchema(ma.Schema):
    email = _email(required=True)
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
    email = _email(required=True)


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


class AssignmentSchema(ma.Schema):
    teccom_id = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "name of the organization"})
    enabled = fields.Boolean(required=True)
    notification_emails = fields.List(fields.String(), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


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
    teccom_id = _teccom_id(required=True)
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


#: shared by the notification_emails fields (keyword arguments of fields.List)
_notification_emails: dict[str, Any] = {
    "validate": validate.Length(max=MAX_NOTIFICATION_EMAILS),
    "metadata": {"description": "addresses told about failed exports"},
}


class AssignmentCreateSchema(ma.Schema):
    teccom_id = _teccom_id(required=True)
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
    email = _email(required=True)


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


class ExportFailureReportSchema(ma.Schema):
    """A failed export, as the Export service reports it."""

    client_id = Text(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the API client whose export failed"},
    )
    organization = _teccom_id(required=True)
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
