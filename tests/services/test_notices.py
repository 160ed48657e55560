"""Credential notices: every administrator of a client hears of changes to
its credentials, in the transaction of the change, never with a secret."""

from __future__ import annotations

import json

import pytest
from support.assertions import key_pair

from authserver.errors import LastAdministrator
from authserver.extensions import db
from authserver.mail.render import render
from authserver.models import OutboxMessage
from authserver.services import (
    administrators,
    assignments,
    audit,
    client_keys,
    clients,
    secret_rotation,
)

CTX = audit.AuditContext(actor="anna@example.com")


@pytest.fixture
def setup(directory):
    anna = directory.user("anna@example.com", admin_of=("400100", "400200"))
    directory.user("bob@example.com")
    client_id = clients.create_client(anna, "400100", CTX, name="Acme ERP").client.client_id
    administrators.add_administrator(anna, client_id, "bob@example.com", CTX)
    db.session.execute(db.delete(OutboxMessage))
    db.session.commit()
    return anna, client_id


def notices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        db.select(OutboxMessage).order_by(OutboxMessage.kind, OutboxMessage.recipient)
    ).scalars()
    return [(row.kind, row.recipient) for row in rows]


def both(kind: str) -> list[tuple[str, str]]:
    return [(kind, "anna@example.com"), (kind, "bob@example.com")]


def test_a_rotation_tells_every_administrator_the_grace_end_and_who_never_the_secret(setup):
    anna, client_id = setup
    rotated = secret_rotation.rotate_secret(anna, client_id, CTX, grace_period_seconds=3600)
    assert notices() == both("secret_rotated")
    row = db.session.execute(db.select(OutboxMessage)).scalars().first()
    assert row.params["grace_end"] == rotated.previous_expires_at.isoformat()
    assert rotated.client_secret not in json.dumps(row.params)
    mail = render(row.kind, {**row.params, "client_id": client_id, "activity_url": "https://x/"})
    assert mail.subject == "Secret rotated: API client Acme ERP"
    assert "anna@example.com rotated the client secret" in mail.text
    assert rotated.previous_expires_at.strftime("%Y-%m-%d %H:%M:%S UTC") in mail.text
    assert rotated.client_secret not in mail.text + mail.html


def test_administrator_changes_tell_every_administrator_and_the_one_removed(setup, directory):
    anna, client_id = setup
    directory.user("carl@example.com")
    administrators.add_administrator(anna, client_id, "carl@example.com", CTX)
    assert notices() == [*both("administrator_added"), ("administrator_added", "carl@example.com")]
    db.session.execute(db.delete(OutboxMessage))
    administrators.remove_administrator(anna, client_id, "bob@example.com", CTX)
    assert sorted(notices()) == [
        ("administrator_removed", "anna@example.com"),
        ("administrator_removed", "bob@example.com"),
        ("administrator_removed", "carl@example.com"),
    ]


def test_organization_changes_tell_every_administrator(setup):
    anna, client_id = setup
    assignments.assign_organization(anna, client_id, "400200", CTX)
    assignments.update_assignment(anna, client_id, "400200", CTX, enabled=False)
    assignments.update_assignment(anna, client_id, "400200", CTX, enabled=True)
    assignments.update_assignment(anna, client_id, "400200", CTX, notification_emails=[])
    assignments.unassign_organization(anna, client_id, "400200", CTX)
    assert notices() == [
        *both("organization_assigned"),
        *both("organization_disabled"),
        *both("organization_enabled"),
        *both("organization_unassigned"),
    ]


def test_a_deleted_client_s_administrators_are_told_after_it_is_gone(setup):
    anna, client_id = setup
    clients.delete_client(anna, client_id, CTX)
    assert notices() == both("client_deleted")
    row = db.session.execute(db.select(OutboxMessage)).scalars().first()
    assert (row.client_id, row.params["organizations"]) == (client_id, ["400100"])


def test_a_refused_change_tells_nobody(setup):
    anna, client_id = setup
    administrators.remove_administrator(anna, client_id, "bob@example.com", CTX)
    db.session.execute(db.delete(OutboxMessage))
    db.session.commit()
    with pytest.raises(LastAdministrator):
        administrators.remove_administrator(anna, client_id, "anna@example.com", CTX)
    assert notices() == []


def test_key_changes_tell_every_administrator(setup):
    anna, client_id = setup
    pair = key_pair("EC")
    key = client_keys.add_key(anna, client_id, CTX, key=pair.public_pem, label="ERP 2027")
    client_keys.set_secret_authentication(anna, client_id, CTX, enabled=False)
    client_keys.set_secret_authentication(anna, client_id, CTX, enabled=True)
    client_keys.set_jwks_uri(anna, client_id, CTX, "https://partner.example/jwks")
    client_keys.set_jwks_uri(anna, client_id, CTX, None)
    client_keys.remove_key(anna, client_id, key.thumbprint, CTX)
    assert notices() == [
        *both("jwks_uri_removed"),
        *both("jwks_uri_set"),
        *both("key_added"),
        *both("key_removed"),
        *both("secret_auth_disabled"),
        *both("secret_auth_enabled"),
    ]
    added = (
        db.session.execute(db.select(OutboxMessage).where(OutboxMessage.kind == "key_added"))
        .scalars()
        .first()
    )
    mail = render(
        added.kind, {**added.params, "client_id": client_id, "activity_url": "https://x/"}
    )
    assert mail.subject == "Public key added: API client Acme ERP"
    assert f"anna@example.com registered a public key (ERP 2027, thumbprint {key.thumbprint})" in (
        mail.text
    )
