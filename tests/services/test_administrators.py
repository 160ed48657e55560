"""docs/rules.md, rule 5 (client administrators) at the service level (no HTTP)."""

from __future__ import annotations

import pytest

from authserver.errors import (
    AdministratorNotFound,
    AlreadyAdministrator,
    ClientNotFound,
    LastAdministrator,
    NotClientAdministrator,
    UserNotFound,
)
from authserver.extensions import db
from authserver.models import AuditEvent, ClientAdministrator
from authserver.services import administrators, audit, clients

CTX = audit.AuditContext(actor="anna@example.com", remote_addr="192.0.2.1", request_id="req-1")


@pytest.fixture
def anna(directory):
    return directory.user(
        "anna@example.com", first_name="Anna", last_name="Berg", admin_of=("400100",)
    )


@pytest.fixture
def ben(directory):
    return directory.user("ben@example.com", first_name="Ben", last_name="Olsen")


@pytest.fixture
def client_id(anna):
    return clients.create_client(anna, "400100", CTX).client.client_id


def _admins(client_id, user):
    return [u.email for u in administrators.list_administrators(user, client_id)]


def test_find_user_by_email_in_any_case(anna, ben):
    found = administrators.find_user("  BEN@example.com ")
    assert (found.email, found.first_name, found.last_name) == ("ben@example.com", "Ben", "Olsen")


def test_find_unknown_user(anna):
    with pytest.raises(UserNotFound) as info:
        administrators.find_user("nobody@example.com")
    assert info.value.detail == "user not found"
    assert info.value.code == 404


def test_a_client_administrator_looks_users_up(anna, ben, client_id):
    assert administrators.look_up_user(anna, "Ben@Example.com") is ben
    with pytest.raises(UserNotFound):
        administrators.look_up_user(anna, "nobody@example.com")


def test_someone_who_administers_no_client_may_not_look_users_up(anna, ben):
    # anna administers organization 400100 but no client: rule 5 does not apply to her
    for email in ("ben@example.com", "nobody@example.com"):
        with pytest.raises(NotClientAdministrator) as info:
            administrators.look_up_user(anna, email)
        assert (info.value.code, info.value.type_suffix) == (403, "not-client-administrator")


def test_add_administrator_and_audit(anna, ben, client_id):
    added = administrators.add_administrator(anna, client_id, "Ben@Example.com", CTX)
    assert added.email == "ben@example.com"
    assert _admins(client_id, anna) == ["anna@example.com", "ben@example.com"]
    assert _admins(client_id, ben) == ["anna@example.com", "ben@example.com"]
    event = (
        db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
    )
    assert (event.action, event.client_id, event.target, event.actor) == (
        "administrator.added",
        client_id,
        "ben@example.com",
        "anna@example.com",
    )


def test_add_unknown_user(anna, client_id):
    with pytest.raises(UserNotFound):
        administrators.add_administrator(anna, client_id, "nobody@example.com", CTX)


def test_add_twice_is_a_conflict(anna, ben, client_id):
    administrators.add_administrator(anna, client_id, "ben@example.com", CTX)
    with pytest.raises(AlreadyAdministrator) as info:
        administrators.add_administrator(anna, client_id, "ben@example.com", CTX)
    assert info.value.code == 409
    assert info.value.detail == "ben@example.com is already an administrator of this client."


def test_only_administrators_manage_administrators(anna, ben, client_id):
    with pytest.raises(ClientNotFound):
        administrators.add_administrator(ben, client_id, "ben@example.com", CTX)
    with pytest.raises(ClientNotFound):
        administrators.remove_administrator(ben, client_id, "anna@example.com", CTX)
    with pytest.raises(ClientNotFound):
        administrators.list_administrators(ben, client_id)
    assert _admins(client_id, anna) == ["anna@example.com"]


def test_the_last_administrator_cannot_be_removed(anna, client_id):
    with pytest.raises(LastAdministrator) as info:
        administrators.remove_administrator(anna, client_id, "anna@example.com", CTX)
    assert info.value.code == 409
    assert info.value.detail == (
        "A client must keep at least one administrator: add another administrator first, then remove this one."
    )
    assert _admins(client_id, anna) == ["anna@example.com"]


def test_remove_yourself_after_adding_another(anna, ben, client_id):
    administrators.add_administrator(anna, client_id, "ben@example.com", CTX)
    administrators.remove_administrator(anna, client_id, "anna@example.com", CTX)
    assert _admins(client_id, ben) == ["ben@example.com"]
    with pytest.raises(ClientNotFound):
        clients.get_client(anna, client_id)
    with pytest.raises(LastAdministrator):
        administrators.remove_administrator(ben, client_id, "ben@example.com", CTX)
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "administrator.removed")
    ).scalar_one()
    assert (event.target, event.actor) == ("anna@example.com", "anna@example.com")


def test_remove_someone_who_is_not_an_administrator(anna, ben, client_id):
    with pytest.raises(AdministratorNotFound) as info:
        administrators.remove_administrator(anna, client_id, "ben@example.com", CTX)
    assert info.value.code == 404
    with pytest.raises(UserNotFound):
        administrators.remove_administrator(anna, client_id, "nobody@example.com", CTX)


def test_a_removed_administrator_loses_the_rights_at_once(anna, ben, client_id):
    administrators.add_administrator(anna, client_id, "ben@example.com", CTX)
    administrators.remove_administrator(ben, client_id, "anna@example.com", CTX)
    with pytest.raises(ClientNotFound):
        administrators.add_administrator(anna, client_id, "anna@example.com", CTX)
    assert db.session.execute(db.select(ClientAdministrator.user_id)).scalars().all() == [ben.id]
