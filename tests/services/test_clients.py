"""DESIGN.md rules 1-3 at the service level (no HTTP)."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from authserver import credentials
from authserver.errors import NotOrganizationAdmin, OrganizationAlreadyAssigned, ValidationError
from authserver.extensions import db
from authserver.models import AuditEvent, Client, ClientSecret
from authserver.services import audit, clients

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
        "anna@example.com", "client.created", issued.client.client_id, "400100")
    assert (event.remote_addr, event.request_id) == ("192.0.2.1", "req-1")
    assert issued.client_secret not in repr(event.details)


def test_rotation_without_grace_keeps_only_the_new_secret(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    rotated = clients.rotate_client_secret(issued.client, CTX)
    hashes = db.session.execute(db.select(ClientSecret)).scalars().all()
    assert len(hashes) == 1 and hashes[0].expires_at is None
    assert credentials.check_secret(hashes[0].secret_hash, rotated.client_secret)
    assert not credentials.check_secret(hashes[0].secret_hash, issued.client_secret)
    assert rotated.previous_expires_at is None


def test_rotation_with_grace_keeps_two_live_secrets_at_most(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    first = clients.rotate_client_secret(issued.client, CTX, grace_period_seconds=3600)
    second = clients.rotate_client_secret(issued.client, CTX, grace_period_seconds=60)
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
        clients.rotate_client_secret(issued.client, CTX, grace_period_seconds=grace)
    assert info.value.field == "grace_period_seconds"


def test_rotation_can_revoke_issued_tokens(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", CTX)
    assert issued.client.tokens_invalid_before is None
    clients.rotate_client_secret(issued.client, CTX, revoke_tokens=True)
    assert db.session.get(Client, issued.client.id).tokens_invalid_before is not None
