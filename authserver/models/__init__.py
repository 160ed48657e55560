"""All models, imported here so that Alembic sees every table."""

from .audit import AuditEvent
from .client import (
    KIND_GATEWAY,
    KIND_PARTNER,
    Client,
    ClientAdministrator,
    ClientOrganization,
    ClientSecret,
)
from .console_session import ConsoleSession
from .export_failure import ExportFailure
from .organization import Organization
from .outbox import OutboxMessage
from .signing_key import SigningKey
from .token import RevokedToken
from .user import OrganizationAdmin, User

__all__ = [
    "AuditEvent",
    "Client",
    "ClientAdministrator",
    "ClientOrganization",
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
    "User",
]
