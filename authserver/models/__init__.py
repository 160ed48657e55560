"""All models, imported here so that Alembic sees every table."""

from .audit import AuditEvent
from .client import (
    KIND_GATEWAY,
    KIND_PARTNER,
    Assignment,
    Client,
    ClientAdministrator,
    ClientSecret,
)
from .client_key import ClientKey
from .console_session import ConsoleSession
from .export_failure import ExportFailure
from .organization import Organization
from .outbox import OutboxMessage
from .revoked_token import RevokedToken
from .signing_key import SigningKey
from .used_assertion import UsedAssertion
from .user import OrganizationAdmin, User, normalize_email

__all__ = [
    "AuditEvent",
    "Client",
    "ClientAdministrator",
    "ClientKey",
    "Assignment",
    "ClientSecret",
    "ConsoleSession",
    "ExportFailure",
    "KIND_GATEWAY",
    "KIND_PARTNER",
    "Organization",
    "OrganizationAdmin",
    "OutboxMessage",
    "RevokedToken",
    "SigningKey",
    "UsedAssertion",
    "User",
    "normalize_email",
]
