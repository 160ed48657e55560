"""docs/rules.md, rules 1-3 and the client services of the admin API at the service level (no HTTP)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError

from authserver import credentials
from authserver.errors import (
    ClientNotFound,
    NotOrganizationAdmin,
    OrganizationAlreadyAssigned,
    ValidationError,
)
from authserver.extensions import db
from authserver.models import (
    Assignment,
    AuditEvent,
    Client,
    ClientAdministrator,
    ClientSecret,
    OrganizationAdmin,
)
from authserver.services import audit, clients, secret_rotation

CTX = audit.AuditContext(actor="anna@example.com", remote_addr="192.0.2.1", request_id="req-1")


def test_org_admin_creates_client_with_org_assigned_and_creator_as_admin(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    client = db.session.get(Client, issued.client.id)
    assert [(a.teccom_id, a.enabled) for a in client.organizations] == [("400100", True)]
    assert [a.user.email for a in client.administrators] == ["anna@example.com"]
    assert client.kind == "partner"


def test_secret_is_256_bits_and_only_its_argon2id_hash_is_stored(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    assert len(issued.client_secret) == 43  # 32 bytes, base64url without padding
    (stored,) = db.session.execute(db.select(ClientSecret.secret_hash)).scalars()
    assert stored.startswith("$argon2id$")
    assert issued.client_secret not in stored
    assert credentials.check_secret(stored, issued.client_secret)
    assert PasswordHasher().verify(stored, issued.client_secret)


def test_non_admin_cannot_create_client(directory):
    directory.organization("400100")
    ben = directory.user("ben@example.com", admin_of=())
    with pytest.raises(NotOrganizationAdmin):
        clients.create_client(ben, "400100", CTX)
    assert db.session.execute(db.select(Client)).first() is None


def test_organization_already_assigned_is_refused(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    clients.create_client(anna, "400100", CTX)
    with pytest.raises(OrganizationAlreadyAssigned):
        clients.create_client(anna, "400100", CTX)
    assert len(db.session.execute(db.select(Client)).all()) == 1


def test_creation_is_audited_without_the_secret(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    (event,) = db.session.execute(db.select(AuditEvent)).scalars()
    assert (event.actor, event.action, event.client_id, event.target) == (
        "anna@example.com",
        "client.created",
        issued.client.client_id,
        "400100",
    )
    assert (event.remote_addr, event.request_id) == ("192.0.2.1", "req-1")
    assert issued.client_secret not in repr(event.details)


def test_rotation_without_grace_keeps_only_the_new_secret(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    rotated = secret_rotation.rotate_client_secret(issued.client, CTX)
    hashes = db.session.execute(db.select(ClientSecret)).scalars().all()
    assert len(hashes) == 1 and hashes[0].expires_at is None
    assert credentials.check_secret(hashes[0].secret_hash, rotated.client_secret)
    assert not credentials.check_secret(hashes[0].secret_hash, issued.client_secret)
    assert rotated.previous_expires_at is None


def test_rotation_with_grace_keeps_two_live_secrets_at_most(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    first = secret_rotation.rotate_client_secret(issued.client, CTX, grace_period_seconds=3600)
    second = secret_rotation.rotate_client_secret(issued.client, CTX, grace_period_seconds=60)
    rows = db.session.execute(db.select(ClientSecret).order_by(ClientSecret.id)).scalars().all()
    assert len(rows) == 2
    assert credentials.check_secret(rows[0].secret_hash, first.client_secret)
    assert rows[0].expires_at == second.previous_expires_at
    assert rows[1].expires_at is None


@pytest.mark.parametrize("grace", [-1, 604801, "60", True, 1.5])
def test_rotation_refuses_bad_grace_period(directory, grace):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    with pytest.raises(ValidationError) as info:
        secret_rotation.rotate_client_secret(issued.client, CTX, grace_period_seconds=grace)
    assert info.value.field == "grace_period_seconds"


def test_rotation_can_revoke_issued_tokens(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    assert issued.client.tokens_invalid_before is None
    secret_rotation.rotate_client_secret(issued.client, CTX, revoke_tokens=True)
    assert db.session.get(Client, issued.client.id).tokens_invalid_before is not None


# -- acting for a user: listing, reading, deleting, rotating -------------------


def _denials():
    return [
        (e.actor, e.client_id, e.details["operation"], e.details["reason"])
        for e in db.session.execute(
            db.select(AuditEvent)
            .where(AuditEvent.action == "authorization.denied")
            .order_by(AuditEvent.id)
        ).scalars()
    ]


def test_list_clients_shows_only_the_clients_the_user_administers(directory):
    anna = directory.user("anna@example.com", admin_of=("400100", "400200"))
    ben = directory.user("ben@example.com", admin_of=("500100",))
    first = clients.create_client(anna, "400100", CTX).client.client_id
    second = clients.create_client(anna, "400200", CTX).client.client_id
    bens = clients.create_client(ben, "500100", CTX).client.client_id
    assert [c.client_id for c in clients.list_clients(anna)] == [first, second]
    assert [c.client_id for c in clients.list_clients(ben)] == [bens]
    assert [o.teccom_id for o in clients.list_clients(anna)[0].organizations] == ["400100"]


def test_get_client_is_not_found_for_a_non_administrator_exactly_as_for_no_client(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    ben = directory.user("ben@example.com", admin_of=("400100",))
    client_id = clients.create_client(anna, "400100", CTX).client.client_id
    assert clients.get_client(anna, client_id).client_id == client_id
    with pytest.raises(ClientNotFound) as theirs:
        clients.get_client(ben, client_id)
    with pytest.raises(ClientNotFound) as missing:
        clients.get_client(ben, "cl_does_not_exist")
    assert theirs.value.detail == missing.value.detail == "Client not found."
    assert theirs.value.code == 404


def test_gateways_are_not_clients_of_anyone(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    gateway = clients.create_gateway("edge", CTX).client
    db.session.add(ClientAdministrator(client_pk=gateway.id, user_id=anna.id))
    db.session.commit()
    with pytest.raises(ClientNotFound):
        clients.get_client(anna, gateway.client_id)
    assert clients.list_clients(anna) == []


def test_delete_client_removes_it_with_its_assignments_and_audits(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    client_id = clients.create_client(anna, "400100", CTX).client.client_id
    clients.delete_client(anna, client_id, CTX)
    assert db.session.execute(db.select(Client)).first() is None
    assert db.session.execute(db.select(Assignment)).first() is None
    assert db.session.execute(db.select(ClientSecret)).first() is None
    assert db.session.execute(db.select(ClientAdministrator)).first() is None
    event = (
        db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
    )
    assert (event.action, event.client_id, event.details) == (
        "client.deleted",
        client_id,
        {"organizations": ["400100"]},
    )
    # the organization is free again
    assert clients.create_client(anna, "400100", CTX).client.client_id != client_id


def test_delete_by_a_non_administrator_is_not_found_and_audited_as_denied(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    mallory = directory.user("mallory@example.com", admin_of=("400100",))
    client_id = clients.create_client(anna, "400100", CTX).client.client_id
    other = audit.AuditContext(
        actor="mallory@example.com", remote_addr="203.0.113.9", request_id="r-9"
    )
    with pytest.raises(ClientNotFound):
        clients.delete_client(mallory, client_id, other)
    assert db.session.execute(db.select(Client)).scalar_one().client_id == client_id
    assert _denials() == [
        ("mallory@example.com", client_id, "client.delete", "not_client_administrator")
    ]


def test_create_by_a_non_org_admin_is_audited_as_denied(directory):
    directory.organization("400100")
    ben = directory.user("ben@example.com")
    with pytest.raises(NotOrganizationAdmin):
        clients.create_client(ben, "400100", audit.AuditContext(actor="ben@example.com"))
    assert _denials() == [
        ("ben@example.com", None, "client.create", "not_organization_administrator")
    ]


def test_rotate_secret_checks_rights_then_rotates(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    ben = directory.user("ben@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    with pytest.raises(ClientNotFound):
        secret_rotation.rotate_secret(ben, issued.client.client_id, CTX)
    rotated = secret_rotation.rotate_secret(
        anna, issued.client.client_id, CTX, grace_period_seconds=600
    )
    rows = db.session.execute(db.select(ClientSecret).order_by(ClientSecret.id)).scalars().all()
    assert [credentials.check_secret(r.secret_hash, issued.client_secret) for r in rows] == [
        True,
        False,
    ]
    assert [credentials.check_secret(r.secret_hash, rotated.client_secret) for r in rows] == [
        False,
        True,
    ]
    assert rows[0].expires_at == rotated.previous_expires_at
    assert 599 <= (rotated.previous_expires_at - rows[1].created_at).total_seconds() <= 600
    event = (
        db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
    )
    assert event.action == "client.secret_rotated"
    assert rotated.client_secret not in repr(event.details) and issued.client_secret not in repr(
        event.details
    )


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"grace_period_seconds": 604801}, "grace_period_seconds"),
        ({"grace_period_seconds": "0"}, "grace_period_seconds"),
        ({"revoke_tokens": "yes"}, "revoke_tokens"),
    ],
)
def test_rotate_secret_refuses_bad_values(directory, kwargs, field):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    with pytest.raises(ValidationError) as info:
        secret_rotation.rotate_secret(anna, issued.client.client_id, CTX, **kwargs)
    assert info.value.field == field


def test_there_is_never_more_than_one_current_secret_in_the_database(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    db.session.add(ClientSecret(client_pk=issued.client.id, secret_hash="$argon2id$x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_my_organizations_lists_each_with_its_client_or_none(directory):
    directory.organization("100000")
    anna = directory.user("anna@example.com", admin_of=("400100", "400200"))
    client_id = clients.create_client(anna, "400100", CTX).client.client_id
    assert [(o.teccom_id, cid) for o, cid in clients.my_organizations(anna)] == [
        ("400100", client_id),
        ("400200", None),
    ]


def test_rights_are_checked_against_the_current_directory(directory):
    anna = directory.user("anna@example.com", admin_of=("400100", "400200"))
    assert [o.teccom_id for o, _ in clients.my_organizations(anna)] == ["400100", "400200"]
    db.session.execute(db.delete(OrganizationAdmin).where(OrganizationAdmin.teccom_id == "400200"))
    db.session.commit()
    with pytest.raises(NotOrganizationAdmin):
        clients.create_client(anna, "400200", CTX)
