"""Clients: creation (DESIGN.md rule 1) and gateway credentials."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from .. import credentials
from ..errors import (
    NotOrganizationAdmin,
    OrganizationAlreadyAssigned,
    OrganizationNotFound,
    ValidationError,
)
from ..extensions import db
from ..models import (
    KIND_GATEWAY,
    KIND_PARTNER,
    Client,
    ClientAdministrator,
    ClientOrganization,
    ClientSecret,
    Organization,
    OrganizationAdmin,
    User,
)
from ..models._base import utcnow
from . import audit


@dataclass(frozen=True)
class IssuedCredentials:
    """A client and its plaintext secret, shown once to whoever asked."""

    client: Client
    client_secret: str


def is_organization_admin(user: User, teccom_id: str) -> bool:
    """Whether the directory currently makes *user* an administrator of *teccom_id*."""
    return db.session.get(OrganizationAdmin, (user.id, teccom_id)) is not None


def validate_organization_admin(user: User, teccom_id: str) -> Organization:
    """Return the organization, or raise when *user* may not act for it.

    :raises OrganizationNotFound: no such TecCom ID in the directory.
    :raises NotOrganizationAdmin: *user* is not its administrator.
    """
    organization = db.session.get(Organization, teccom_id)
    if organization is None:
        raise OrganizationNotFound(f"Organization {teccom_id} is not in the directory.", field="teccom_id")
    if not is_organization_admin(user, teccom_id):
        raise NotOrganizationAdmin(f"You are not an administrator of organization {teccom_id}.")
    return organization


def organization_client(teccom_id: str) -> Client | None:
    """The client that *teccom_id* is assigned to, if any."""
    return db.session.execute(
        db.select(Client).join(ClientOrganization).where(ClientOrganization.teccom_id == teccom_id)
    ).scalar_one_or_none()


def create_client(
    creator: User, teccom_id: str, ctx: audit.AuditContext, *, name: str = ""
) -> IssuedCredentials:
    """Create a client for *teccom_id* (DESIGN.md rule 1).

    The organization is assigned (enabled) and *creator* becomes the first
    administrator. The unique constraint on the assignment decides a race.

    :raises NotOrganizationAdmin: *creator* does not administer *teccom_id*.
    :raises OrganizationAlreadyAssigned: *teccom_id* belongs to a client.
    """
    organization = validate_organization_admin(creator, teccom_id)
    if organization_client(teccom_id) is not None:
        raise OrganizationAlreadyAssigned(f"Organization {teccom_id} is already assigned to a client.")
    secret = credentials.generate_secret()
    client = Client(
        client_id=credentials.generate_client_id(),
        kind=KIND_PARTNER,
        name=name or organization.name,
    )
    client.secrets.append(ClientSecret(secret_hash=credentials.hash_secret(secret)))
    client.organizations.append(ClientOrganization(teccom_id=teccom_id, enabled=True, notification_emails=[]))
    client.administrators.append(ClientAdministrator(user_id=creator.id))
    db.session.add(client)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise OrganizationAlreadyAssigned(
            f"Organization {teccom_id} is already assigned to a client."
        ) from None
    audit.record(
        ctx, "client.created", client_id=client.client_id, target=teccom_id,
        details={"administrator": creator.email},
    )
    db.session.commit()
    return IssuedCredentials(client, secret)


def create_gateway(name: str, ctx: audit.AuditContext) -> IssuedCredentials:
    """Credentials for an API gateway: introspection only, never a token."""
    secret = credentials.generate_secret()
    gateway = Client(client_id=credentials.generate_client_id().replace("cl_", "gw_", 1), kind=KIND_GATEWAY, name=name)
    gateway.secrets.append(ClientSecret(secret_hash=credentials.hash_secret(secret)))
    db.session.add(gateway)
    db.session.flush()
    audit.record(ctx, "gateway.created", client_id=gateway.client_id, target=name)
    db.session.commit()
    return IssuedCredentials(gateway, secret)


#: the longest grace period a rotated-out secret may keep working (DESIGN.md rule 2)
MAX_GRACE_PERIOD_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class RotatedSecret:
    """The new secret (shown once) and when the previous one stops working."""

    client: Client
    client_secret: str
    previous_expires_at: datetime | None


def lock_client(client_pk: int) -> Client:
    """Load a client with a row lock (``SELECT ... FOR UPDATE`` on PostgreSQL),
    so that concurrent changes to it are serialized.
    """
    client = db.session.execute(
        db.select(Client).where(Client.id == client_pk).with_for_update()
    ).scalar_one()
    return client


def rotate_client_secret(
    client: Client, ctx: audit.AuditContext, *, grace_period_seconds: int = 0, revoke_tokens: bool = False
) -> RotatedSecret:
    """Give *client* a new secret (DESIGN.md rule 3), without a rights check:
    callers (the admin API, the demo start) check rights first.

    The previous current secret keeps working for *grace_period_seconds*
    (0: it stops at once); any older secret is dropped, so at most two are
    ever live. With *revoke_tokens*, every token issued so far stops working.

    :raises ValidationError: the grace period is out of range.
    """
    if isinstance(grace_period_seconds, bool) or not isinstance(grace_period_seconds, int) or not (
        0 <= grace_period_seconds <= MAX_GRACE_PERIOD_SECONDS
    ):
        raise ValidationError(
            f"grace_period_seconds must be an integer from 0 to {MAX_GRACE_PERIOD_SECONDS}.",
            field="grace_period_seconds",
        )
    client = lock_client(client.id)
    now = utcnow()
    previous_expires_at: datetime | None = None
    for old in list(client.secrets):
        if old.expires_at is None and grace_period_seconds > 0:
            old.expires_at = previous_expires_at = now + timedelta(seconds=grace_period_seconds)
        else:
            client.secrets.remove(old)
    secret = credentials.generate_secret()
    client.secrets.append(ClientSecret(secret_hash=credentials.hash_secret(secret), created_at=now))
    if revoke_tokens:
        client.tokens_invalid_before = now
    audit.record(
        ctx, "client.secret_rotated", client_id=client.client_id,
        details={
            "grace_period_seconds": grace_period_seconds,
            "previous_expires_at": previous_expires_at.isoformat() if previous_expires_at else None,
            "revoke_tokens": revoke_tokens,
        },
    )
    db.session.commit()
    return RotatedSecret(client, secret, previous_expires_at)
