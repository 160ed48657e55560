"""Organizations assigned to a client (docs/rules.md, rule 4).

Assigning, editing and removing an assignment need two rights, checked on
every call against the current directory: administrator of the client AND
administrator of the organization. An organization belongs to at most one
client; the unique constraint on ``client_organizations.teccom_id`` decides
races with other assignments and with the creation of a client.
"""

from __future__ import annotations

from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError

from ..errors import (
    NotOrganizationAdmin,
    OrganizationAlreadyAssigned,
    OrganizationNotFound,
    ValidationError,
)
from ..extensions import db
from ..models import Assignment, Client, Organization, OrganizationAdmin, User
from . import audit, notices
from .clients import (
    get_client,
    lock_administered_client,
    organization_client,
    validate_organization_admin,
    write_transaction,
)

#: notification addresses per assignment
MAX_NOTIFICATION_EMAILS = 20


def validate_notification_emails(emails: object) -> list[str]:
    """Return the addresses normalized (RFC 5321/5322 syntax, no DNS look-up),
    without duplicates, in the given order.

    :raises ValidationError: not a list of valid addresses; ``field`` names
        the first one at fault (``notification_emails.1``), ``errors`` every one.
    """
    if isinstance(emails, (str, bytes)) or not isinstance(emails, Iterable):
        raise ValidationError(
            "notification_emails must be a list of e-mail addresses.", field="notification_emails"
        )
    addresses = list(emails)
    if len(addresses) > MAX_NOTIFICATION_EMAILS:
        raise ValidationError(
            f"notification_emails may hold at most {MAX_NOTIFICATION_EMAILS} addresses.",
            field="notification_emails",
        )
    result: list[str] = []
    seen: set[str] = set()
    problems: list[dict[str, str]] = []
    for index, address in enumerate(addresses):
        field = f"notification_emails.{index}"
        if not isinstance(address, str):
            problems.append({"field": field, "message": "Not a valid e-mail address."})
            continue
        try:
            normalized = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError as error:
            problems.append({"field": field, "message": f"Not a valid e-mail address: {error}"})
            continue
        if normalized.lower() not in seen:
            seen.add(normalized.lower())
            result.append(normalized)
    if problems:
        first = problems[0]
        raise ValidationError(first["message"], field=first["field"], errors=problems)
    return result


def _validate_enabled(enabled: object) -> bool:
    if not isinstance(enabled, bool):
        raise ValidationError("enabled must be true or false.", field="enabled")
    return enabled


def _validate_organization_rights(
    user: User, client: Client, teccom_id: str, ctx: audit.AuditContext, operation: str
) -> Organization:
    """The second right of rule 4; a refusal is audited on the client."""
    try:
        return validate_organization_admin(user, teccom_id)
    except NotOrganizationAdmin:
        audit.record_denial(
            ctx,
            operation,
            reason="not_organization_administrator",
            client_id=client.client_id,
            target=teccom_id,
        )
        raise


def _assignment(client: Client, teccom_id: str) -> Assignment:
    assignment: Assignment | None = db.session.execute(
        db.select(Assignment)
        .where(Assignment.client_pk == client.id, Assignment.teccom_id == teccom_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if assignment is None:
        raise OrganizationNotFound(f"Organization {teccom_id} is not assigned to this client.")
    return assignment


def list_assignments(user: User, client_id: str) -> list[Assignment]:
    """The organizations assigned to a client *user* administers, by TecCom ID.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    client = get_client(user, client_id)
    return list(
        db.session.execute(
            db.select(Assignment)
            .where(Assignment.client_pk == client.id)
            .order_by(Assignment.teccom_id)
        ).scalars()
    )


def assignable_organizations(user: User) -> list[Organization]:
    """The organizations *user* administers that no client has yet."""
    assigned = db.select(Assignment.teccom_id).where(Assignment.teccom_id == Organization.teccom_id)
    return list(
        db.session.execute(
            db.select(Organization)
            .join(OrganizationAdmin, OrganizationAdmin.teccom_id == Organization.teccom_id)
            .where(OrganizationAdmin.user_id == user.id, ~assigned.exists())
            .order_by(Organization.teccom_id)
        ).scalars()
    )


@write_transaction
def assign_organization(
    user: User,
    client_id: str,
    teccom_id: str,
    ctx: audit.AuditContext,
    *,
    enabled: bool = True,
    notification_emails: Iterable[str] = (),
) -> Assignment:
    """Assign organization *teccom_id* to a client (docs/rules.md, rule 4).

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    :raises NotOrganizationAdmin: *user* does not administer *teccom_id* (or
        no such organization is in the directory: its existence is not told).
    :raises OrganizationAlreadyAssigned: *teccom_id* belongs to a client
        (also when another request assigned it a moment ago).
    :raises ValidationError: a bad ``enabled`` or notification address.
    """
    _validate_enabled(enabled)
    emails = validate_notification_emails(notification_emails)
    client = lock_administered_client(user, client_id, ctx, "organization.assign")
    organization = _validate_organization_rights(
        user, client, teccom_id, ctx, "organization.assign"
    )
    owner = organization_client(teccom_id)
    if owner is not None:
        where = "this client" if owner.id == client.id else "another client"
        raise OrganizationAlreadyAssigned(
            f"Organization {teccom_id} is already assigned to {where}."
        )
    assignment = Assignment(
        client_pk=client.id, teccom_id=teccom_id, enabled=enabled, notification_emails=emails
    )
    db.session.add(assignment)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise OrganizationAlreadyAssigned(
            f"Organization {teccom_id} is already assigned to another client."
        ) from None
    audit.record(
        ctx,
        "organization.assigned",
        client_id=client.client_id,
        target=teccom_id,
        details={"enabled": enabled, "notification_emails": emails},
    )
    notices.organization_assigned(client, ctx.actor, teccom_id, organization.name, enabled=enabled)
    db.session.commit()
    return assignment


@write_transaction
def update_assignment(
    user: User,
    client_id: str,
    teccom_id: str,
    ctx: audit.AuditContext,
    *,
    enabled: bool | None = None,
    notification_emails: Iterable[str] | None = None,
) -> Assignment:
    """Edit an assignment; ``None`` leaves a value as it is (docs/rules.md, rule 4).

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    :raises OrganizationNotFound: *teccom_id* is not assigned to this client.
    :raises NotOrganizationAdmin: *user* does not administer *teccom_id*.
    :raises ValidationError: a bad ``enabled`` or notification address.
    """
    if enabled is not None:
        _validate_enabled(enabled)
    emails = (
        None if notification_emails is None else validate_notification_emails(notification_emails)
    )
    client = lock_administered_client(user, client_id, ctx, "organization.update")
    assignment = _assignment(client, teccom_id)
    _validate_organization_rights(user, client, teccom_id, ctx, "organization.update")
    changes: dict[str, list[object]] = {}
    if enabled is not None and enabled != assignment.enabled:
        changes["enabled"] = [assignment.enabled, enabled]
        assignment.enabled = enabled
    if emails is not None and emails != list(assignment.notification_emails):
        changes["notification_emails"] = [list(assignment.notification_emails), emails]
        assignment.notification_emails = emails
    if changes:
        audit.record(
            ctx,
            "organization.updated",
            client_id=client.client_id,
            target=teccom_id,
            details={"changes": changes},
        )
    if "enabled" in changes:
        notices.organization_switched(
            client, ctx.actor, teccom_id, assignment.organization.name, enabled=assignment.enabled
        )
    db.session.commit()
    return assignment


@write_transaction
def unassign_organization(
    user: User, client_id: str, teccom_id: str, ctx: audit.AuditContext
) -> None:
    """Remove an assignment: the organization is in no token from now on.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    :raises OrganizationNotFound: *teccom_id* is not assigned to this client.
    :raises NotOrganizationAdmin: *user* does not administer *teccom_id*.
    """
    client = lock_administered_client(user, client_id, ctx, "organization.unassign")
    assignment = _assignment(client, teccom_id)
    _validate_organization_rights(user, client, teccom_id, ctx, "organization.unassign")
    name = assignment.organization.name
    db.session.delete(assignment)
    audit.record(ctx, "organization.unassigned", client_id=client.client_id, target=teccom_id)
    notices.organization_unassigned(client, ctx.actor, teccom_id, name)
    db.session.commit()
