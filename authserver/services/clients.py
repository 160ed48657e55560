"""Clients: creation (docs/rules.md, rule 1), gateway credentials, the clients a
user administers, and deletion. Secret rotation (rule 3) is
:mod:`.secret_rotation`.

Every function that acts for a user checks the rights against the current
directory and client administrators on each call. A client that the user does
not administer is :class:`~authserver.errors.ClientNotFound`, exactly as one
that does not exist: its existence is not revealed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import credentials
from ..errors import (
    ClientNotFound,
    NotOrganizationAdmin,
    OrganizationAlreadyAssigned,
)
from ..extensions import db
from ..models import (
    KIND_GATEWAY,
    KIND_PARTNER,
    Assignment,
    Client,
    ClientAdministrator,
    ClientSecret,
    Organization,
    OrganizationAdmin,
    User,
)
from . import audit, client_profile, notices

P = ParamSpec("P")
R = TypeVar("R")

#: the one answer for a client that does not exist or is not the caller's
CLIENT_NOT_FOUND = "Client not found."


def write_transaction(function: Callable[P, R]) -> Callable[P, R]:
    """Roll the session back when *function* raises, so that a refused change
    never leaves a half-made change or a held row lock behind.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


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

    The rights are checked first, so a TecCom ID that is not in the directory
    is refused exactly like one that *user* does not administer: the answer
    never tells whether an organization exists.

    :raises NotOrganizationAdmin: *user* is not its administrator (or no such
        TecCom ID is in the directory).
    """
    organization = db.session.get(Organization, teccom_id)
    if organization is None or not is_organization_admin(user, teccom_id):
        raise NotOrganizationAdmin(f"You are not an administrator of organization {teccom_id}.")
    return organization


def organization_client(teccom_id: str) -> Client | None:
    """The client that *teccom_id* is assigned to, if any."""
    return db.session.execute(
        db.select(Client).join(Assignment).where(Assignment.teccom_id == teccom_id)
    ).scalar_one_or_none()


@write_transaction
def create_client(
    creator: User,
    teccom_id: str,
    ctx: audit.AuditContext,
    *,
    name: str | None = None,
    description: str = "",
    contacts: list[str] | None = None,
) -> IssuedCredentials:
    """Create a client for *teccom_id* (docs/rules.md, rule 1).

    The organization is assigned (enabled) and *creator* becomes the first
    administrator. The unique constraint on the assignment decides a race.
    Without a *name* (``None`` or empty), the client is called after the
    organization (:func:`~.client_profile.default_name`).

    :raises NotOrganizationAdmin: *creator* does not administer *teccom_id*.
    :raises OrganizationAlreadyAssigned: *teccom_id* belongs to a client.
    :raises ValidationError: a bad name, description or contact.
    """
    profile = {
        "description": client_profile.validate_description(description),
        "contacts": client_profile.validate_contacts(contacts or []),
    }
    if name:
        profile["name"] = client_profile.validate_name(name)
    try:
        organization = validate_organization_admin(creator, teccom_id)
    except NotOrganizationAdmin:
        audit.record_denial(
            ctx, "client.create", reason="not_organization_administrator", target=teccom_id
        )
        raise
    if organization_client(teccom_id) is not None:
        raise OrganizationAlreadyAssigned(
            f"Organization {teccom_id} is already assigned to a client."
        )
    secret = credentials.generate_secret()
    client = Client(
        client_id=credentials.generate_client_id(),
        kind=KIND_PARTNER,
        name=profile.pop("name", None) or client_profile.default_name(organization.name),
        **profile,
    )
    client.secrets.append(ClientSecret(secret_hash=credentials.hash_secret(secret)))
    client.organizations.append(
        Assignment(teccom_id=teccom_id, enabled=True, notification_emails=[])
    )
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
        ctx,
        "client.created",
        client_id=client.client_id,
        target=teccom_id,
        details={"administrator": creator.email, "name": client.name},
    )
    db.session.commit()
    return IssuedCredentials(client, secret)


def create_gateway(name: str, ctx: audit.AuditContext) -> IssuedCredentials:
    """Credentials for an API gateway: introspection only, never a token."""
    secret = credentials.generate_secret()
    client_id = credentials.generate_client_id().replace("cl_", "gw_", 1)
    gateway = Client(client_id=client_id, kind=KIND_GATEWAY, name=name)
    gateway.secrets.append(ClientSecret(secret_hash=credentials.hash_secret(secret)))
    db.session.add(gateway)
    db.session.flush()
    audit.record(ctx, "gateway.created", client_id=gateway.client_id, target=name)
    db.session.commit()
    return IssuedCredentials(gateway, secret)


def lock_client(client_pk: int) -> Client:
    """Load a client with a row lock, so that concurrent changes to it are
    serialized until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite has no row locks: a no-op
    ``UPDATE`` takes the database write lock instead (its transactions begin
    at the first write), which serializes the same way.

    :raises ClientNotFound: the client was deleted meanwhile.
    """
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("UPDATE clients SET id = id WHERE id = :pk"), {"pk": client_pk})
    client: Client | None = db.session.execute(
        db.select(Client)
        .where(Client.id == client_pk)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if client is None:
        raise ClientNotFound(CLIENT_NOT_FOUND)
    return client


# -- acting for a user --------------------------------------------------------


def is_client_administrator(user: User, client_pk: int) -> bool:
    """Whether *user* administers the client now (a fresh read, never cached)."""
    return (
        db.session.execute(
            db.select(ClientAdministrator.user_id).where(
                ClientAdministrator.client_pk == client_pk, ClientAdministrator.user_id == user.id
            )
        ).first()
        is not None
    )


def _find_client(client_id: str) -> Client | None:
    if not isinstance(client_id, str):
        return None
    return db.session.execute(
        db.select(Client).where(Client.client_id == client_id, Client.kind == KIND_PARTNER)
    ).scalar_one_or_none()


def get_client(user: User, client_id: str) -> Client:
    """The client *client_id*, if *user* administers it.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    client: Client | None = db.session.execute(
        db.select(Client)
        .join(ClientAdministrator)
        .where(
            Client.client_id == client_id,
            Client.kind == KIND_PARTNER,
            ClientAdministrator.user_id == user.id,
        )
        .options(selectinload(Client.organizations), selectinload(Client.secrets))
    ).scalar_one_or_none()
    if client is None:
        raise ClientNotFound(CLIENT_NOT_FOUND)
    return client


def lock_administered_client(
    user: User, client_id: str, ctx: audit.AuditContext, operation: str
) -> Client:
    """Lock the client *client_id* for a change by *user*, checking the right
    *after* the lock, so that a concurrent removal of *user* is seen.

    A refusal of an existing client is audited as a failed authorization.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    found = _find_client(client_id)
    if found is None:
        raise ClientNotFound(CLIENT_NOT_FOUND)
    client = lock_client(found.id)
    if not is_client_administrator(user, client.id):
        audit.record_denial(
            ctx, operation, reason="not_client_administrator", client_id=client.client_id
        )
        raise ClientNotFound(CLIENT_NOT_FOUND)
    return client


def list_clients(user: User) -> list[Client]:
    """The clients *user* administers, oldest first."""
    return list(
        db.session.execute(
            db.select(Client)
            .join(ClientAdministrator)
            .where(ClientAdministrator.user_id == user.id, Client.kind == KIND_PARTNER)
            .options(selectinload(Client.organizations), selectinload(Client.secrets))
            .order_by(Client.created_at, Client.id)
        ).scalars()
    )


@write_transaction
def delete_client(user: User, client_id: str, ctx: audit.AuditContext) -> None:
    """Delete a client with its secrets, assignments and administrators: its
    credentials and its tokens stop working at once (the token endpoint and
    introspection look the client up on every request).

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    client = lock_administered_client(user, client_id, ctx, "client.delete")
    teccom_ids = list(
        db.session.execute(
            db.select(Assignment.teccom_id)
            .where(Assignment.client_pk == client.id)
            .order_by(Assignment.teccom_id)
        ).scalars()
    )
    audit.record(
        ctx, "client.deleted", client_id=client.client_id, details={"organizations": teccom_ids}
    )
    notices.client_deleted(client, ctx.actor, teccom_ids)
    db.session.delete(client)
    db.session.commit()


def my_organizations(user: User) -> list[tuple[Organization, str | None]]:
    """The organizations *user* administers, each with the ``client_id`` of
    the client it is assigned to (or ``None``), by TecCom ID.
    """
    rows = db.session.execute(
        db.select(Organization, Client.client_id)
        .join(OrganizationAdmin, OrganizationAdmin.teccom_id == Organization.teccom_id)
        .outerjoin(Assignment, Assignment.teccom_id == Organization.teccom_id)
        .outerjoin(Client, Client.id == Assignment.client_pk)
        .where(OrganizationAdmin.user_id == user.id)
        .order_by(Organization.teccom_id)
    ).all()
    return [(organization, client_id) for organization, client_id in rows]
