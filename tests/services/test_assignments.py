"""docs/rules.md, rule 4 (assigning organizations) at the service level (no HTTP)."""

from __future__ import annotations

import pytest

from authserver.errors import (
    ClientNotFound,
    NotOrganizationAdmin,
    OrganizationAlreadyAssigned,
    OrganizationNotFound,
    ValidationError,
)
from authserver.extensions import db
from authserver.models import Assignment, AuditEvent, OrganizationAdmin
from authserver.services import assignments, audit, clients

CTX = audit.AuditContext(actor="anna@example.com", remote_addr="192.0.2.1", request_id="req-1")


@pytest.fixture
def anna(directory):
    return directory.user("anna@example.com", admin_of=("400100", "400200", "400300"))


@pytest.fixture
def client_id(anna):
    return clients.create_client(anna, "400100", CTX).client.client_id


def _events(action=None):
    query = db.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.execute(query).scalars())


def test_assign_with_both_rights(anna, client_id):
    assignment = assignments.assign_organization(
        anna,
        client_id,
        "400200",
        CTX,
        enabled=False,
        notification_emails=["ops@example.com", "Alerts@Example.COM"],
    )
    assert (assignment.teccom_id, assignment.enabled) == ("400200", False)
    assert assignment.notification_emails == ["ops@example.com", "Alerts@example.com"]
    assert [(a.teccom_id, a.enabled) for a in assignments.list_assignments(anna, client_id)] == [
        ("400100", True),
        ("400200", False),
    ]
    (event,) = _events("organization.assigned")
    assert (event.client_id, event.target, event.details) == (
        client_id,
        "400200",
        {"enabled": False, "notification_emails": ["ops@example.com", "Alerts@example.com"]},
    )
    assert (event.actor, event.remote_addr, event.request_id) == (
        "anna@example.com",
        "192.0.2.1",
        "req-1",
    )


def test_assign_needs_admin_of_the_organization_and_is_audited_as_denied(
    directory, anna, client_id
):
    directory.organization("900900")
    with pytest.raises(NotOrganizationAdmin) as info:
        assignments.assign_organization(anna, client_id, "900900", CTX)
    assert info.value.code == 403
    assert (
        db.session.execute(db.select(Assignment).where(Assignment.teccom_id == "900900")).first()
        is None
    )
    (event,) = _events("authorization.denied")
    assert (event.client_id, event.target, event.details) == (
        client_id,
        "900900",
        {"operation": "organization.assign", "reason": "not_organization_administrator"},
    )


def test_assign_needs_admin_of_the_client(directory, anna, client_id):
    ben = directory.user("ben@example.com", admin_of=("400200",))
    with pytest.raises(ClientNotFound):
        assignments.assign_organization(ben, client_id, "400200", CTX)
    assert _events("organization.assigned") == []


def test_an_unknown_organization_is_refused_like_one_not_administered(directory, anna, client_id):
    directory.organization("400900")
    with pytest.raises(NotOrganizationAdmin) as unknown:
        assignments.assign_organization(anna, client_id, "999999", CTX)
    with pytest.raises(NotOrganizationAdmin) as foreign:
        assignments.assign_organization(anna, client_id, "400900", CTX)
    assert unknown.value.code == foreign.value.code == 403
    assert str(unknown.value) == "You are not an administrator of organization 999999."
    assert str(foreign.value) == "You are not an administrator of organization 400900."
    assert [e.target for e in _events("authorization.denied")] == ["999999", "400900"]


def test_an_organization_belongs_to_at_most_one_client(directory, anna, client_id):
    with pytest.raises(OrganizationAlreadyAssigned) as same:
        assignments.assign_organization(anna, client_id, "400100", CTX)
    assert same.value.detail == "Organization 400100 is already assigned to this client."
    other = clients.create_client(anna, "400300", CTX).client.client_id
    with pytest.raises(OrganizationAlreadyAssigned) as info:
        assignments.assign_organization(anna, other, "400100", CTX)
    assert info.value.code == 409
    assert info.value.detail == "Organization 400100 is already assigned to another client."


def test_the_unique_constraint_decides_when_the_check_is_raced(anna, client_id):
    # a row another transaction committed after our check: only the constraint sees it
    other = clients.create_client(anna, "400300", CTX).client
    db.session.add(
        Assignment(client_pk=other.id, teccom_id="400200", enabled=True, notification_emails=[])
    )
    db.session.commit()
    db.session.execute(db.delete(Assignment).where(Assignment.teccom_id == "400200"))
    db.session.commit()
    assert assignments.assign_organization(anna, client_id, "400200", CTX).teccom_id == "400200"
    with pytest.raises(OrganizationAlreadyAssigned):
        assignments.assign_organization(anna, other.client_id, "400200", CTX)


@pytest.mark.parametrize(
    "emails, field",
    [
        (["not-an-email"], "notification_emails.0"),
        (["ok@example.com", "two@@example.com"], "notification_emails.1"),
        (["ok@example.com", 7], "notification_emails.1"),
        ("ops@example.com", "notification_emails"),
        ([f"u{n}@example.com" for n in range(21)], "notification_emails"),
    ],
)
def test_bad_notification_emails_are_refused_naming_the_field(anna, client_id, emails, field):
    with pytest.raises(ValidationError) as info:
        assignments.assign_organization(anna, client_id, "400200", CTX, notification_emails=emails)
    assert info.value.field == field
    assert info.value.code == 422
    with pytest.raises(ValidationError):
        assignments.update_assignment(anna, client_id, "400100", CTX, notification_emails=emails)


def test_enabled_must_be_a_boolean(anna, client_id):
    with pytest.raises(ValidationError) as info:
        assignments.assign_organization(anna, client_id, "400200", CTX, enabled="yes")
    assert info.value.field == "enabled"


def test_duplicate_notification_emails_are_kept_once(anna, client_id):
    assignment = assignments.assign_organization(
        anna, client_id, "400200", CTX, notification_emails=["a@example.com", "A@example.com"]
    )
    assert assignment.notification_emails == ["a@example.com"]


def test_update_assignment_changes_only_what_is_given_and_audits_the_change(anna, client_id):
    assignments.assign_organization(
        anna, client_id, "400200", CTX, enabled=False, notification_emails=["a@example.com"]
    )
    updated = assignments.update_assignment(anna, client_id, "400200", CTX, enabled=True)
    assert (updated.enabled, updated.notification_emails) == (True, ["a@example.com"])
    updated = assignments.update_assignment(anna, client_id, "400200", CTX, notification_emails=[])
    assert (updated.enabled, updated.notification_emails) == (True, [])
    assert [e.details for e in _events("organization.updated")] == [
        {"changes": {"enabled": [False, True]}},
        {"changes": {"notification_emails": [["a@example.com"], []]}},
    ]
    assignments.update_assignment(anna, client_id, "400200", CTX, enabled=True)
    assert len(_events("organization.updated")) == 2


def test_update_and_unassign_need_the_organization_right_too(anna, client_id):
    assignments.assign_organization(anna, client_id, "400200", CTX)
    db.session.execute(db.delete(OrganizationAdmin).where(OrganizationAdmin.teccom_id == "400200"))
    db.session.commit()
    with pytest.raises(NotOrganizationAdmin):
        assignments.update_assignment(anna, client_id, "400200", CTX, enabled=False)
    with pytest.raises(NotOrganizationAdmin):
        assignments.unassign_organization(anna, client_id, "400200", CTX)
    assignment = db.session.execute(
        db.select(Assignment).where(Assignment.teccom_id == "400200")
    ).scalar_one()
    assert assignment.enabled is True
    assert [e.details["operation"] for e in _events("authorization.denied")] == [
        "organization.update",
        "organization.unassign",
    ]


def test_update_or_unassign_an_organization_not_assigned_to_the_client(anna, client_id):
    with pytest.raises(OrganizationNotFound) as info:
        assignments.update_assignment(anna, client_id, "400200", CTX, enabled=False)
    assert info.value.code == 404
    with pytest.raises(OrganizationNotFound):
        assignments.unassign_organization(anna, client_id, "400200", CTX)


def test_unassign_removes_the_assignment_and_audits(anna, client_id):
    assignments.assign_organization(anna, client_id, "400200", CTX)
    assignments.unassign_organization(anna, client_id, "400200", CTX)
    assert [a.teccom_id for a in assignments.list_assignments(anna, client_id)] == ["400100"]
    (event,) = _events("organization.unassigned")
    assert (event.client_id, event.target) == (client_id, "400200")


def test_assignable_organizations_are_those_administered_and_free(directory, anna, client_id):
    directory.organization("777777")
    assert [o.teccom_id for o in assignments.assignable_organizations(anna)] == [
        "400200",
        "400300",
    ]
    assignments.assign_organization(anna, client_id, "400200", CTX)
    assert [o.teccom_id for o in assignments.assignable_organizations(anna)] == ["400300"]


def test_list_assignments_of_a_client_not_administered(directory, client_id):
    ben = directory.user("ben@example.com", admin_of=("400100",))
    with pytest.raises(ClientNotFound):
        assignments.list_assignments(ben, client_id)
