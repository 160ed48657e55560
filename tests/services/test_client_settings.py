"""A client's name, description, technical contacts and access-token
lifetime, at the service level (no HTTP)."""

from __future__ import annotations

import pytest

from authserver.errors import ClientNotFound, ValidationError
from authserver.extensions import db
from authserver.models import AuditEvent, Client
from authserver.services import audit, client_profile, client_settings, clients

CTX = audit.AuditContext(actor="anna@example.com", remote_addr="192.0.2.1", request_id="req-1")
MAX = 3600


@pytest.fixture
def anna(directory):
    directory.organization("400100", "Acme Parts GmbH")
    return directory.user("anna@example.com", admin_of=("400100",))


@pytest.fixture
def client_id(anna):
    return clients.create_client(anna, "400100", CTX).client.client_id


def _events(action):
    return [
        e.details
        for e in db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    ]


def test_a_new_client_is_named_after_its_organization_unless_named(anna, directory):
    first = clients.create_client(anna, "400100", CTX).client
    assert (first.name, first.description, first.contacts) == ("Acme Parts GmbH API client", "", [])
    directory.organization("400200", "Acme Shop")
    anna_too = directory.user("anna2@example.com", admin_of=("400200",))
    named = clients.create_client(
        anna_too,
        "400200",
        CTX,
        name="  ERP production ",
        description="The ERP in Hamburg.",
        contacts=["Ops@Example.com", "ops@example.com", "it@example.com"],
    ).client
    assert (named.name, named.description) == ("ERP production", "The ERP in Hamburg.")
    assert named.contacts == ["Ops@example.com", "it@example.com"]
    assert _events("client.created")[-1] == {
        "administrator": "anna2@example.com",
        "name": "ERP production",
    }


def test_create_refuses_a_bad_name_before_anything_is_written(anna):
    with pytest.raises(ValidationError) as info:
        clients.create_client(anna, "400100", CTX, name="x" * 101)
    assert info.value.errors == [
        {"field": "name", "message": "name must be 1 to 100 characters long."}
    ]
    assert db.session.execute(db.select(Client)).first() is None


def test_update_changes_the_settings_and_audits_each_change(anna, client_id):
    client = client_settings.update_client(
        anna,
        client_id,
        CTX,
        {
            "name": "Shop",
            "description": "Web shop",
            "contacts": ["dev@example.com"],
            "access_token_lifetime": 1800,
        },
        max_token_lifetime=MAX,
    )
    assert (client.name, client.description, client.contacts, client.access_token_lifetime) == (
        "Shop",
        "Web shop",
        ["dev@example.com"],
        1800,
    )
    assert _events("client.updated") == [
        {
            "changes": {
                "name": ["Acme Parts GmbH API client", "Shop"],
                "description": ["", "Web shop"],
                "contacts": [[], ["dev@example.com"]],
                "access_token_lifetime": [None, 1800],
            }
        }
    ]
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "client.updated")
    ).scalar_one()
    assert (event.actor, event.client_id, event.remote_addr) == (
        "anna@example.com",
        client_id,
        "192.0.2.1",
    )


def test_update_back_to_the_default_lifetime_and_no_change_is_no_event(anna, client_id):
    settings = {"access_token_lifetime": 60}
    client_settings.update_client(anna, client_id, CTX, settings, max_token_lifetime=MAX)
    client_settings.update_client(anna, client_id, CTX, settings, max_token_lifetime=MAX)
    client_settings.update_client(
        anna, client_id, CTX, {"access_token_lifetime": None}, max_token_lifetime=MAX
    )
    assert _events("client.updated") == [
        {"changes": {"access_token_lifetime": [None, 60]}},
        {"changes": {"access_token_lifetime": [60, None]}},
    ]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"name": ""}, [("name", "name must be 1 to 100 characters long.")]),
        ({"name": "   "}, [("name", "name must be 1 to 100 characters long.")]),
        ({"name": "a\nb"}, [("name", "name must be text on one line.")]),
        ({"name": 7}, [("name", "name must be text on one line.")]),
        (
            {"description": "d" * 501},
            [("description", "description must be at most 500 characters long.")],
        ),
        (
            {"contacts": "a@example.com"},
            [("contacts", "contacts must be a list of e-mail addresses.")],
        ),
        (
            {"contacts": [f"c{i}@example.com" for i in range(6)]},
            [("contacts", "contacts may hold at most 5 addresses.")],
        ),
        (
            {"access_token_lifetime": 59},
            [
                (
                    "access_token_lifetime",
                    "access_token_lifetime must be null (the default) or a number of seconds "
                    "from 60 to 3600.",
                )
            ],
        ),
        ({"access_token_lifetime": 3601}, [("access_token_lifetime", None)]),
        ({"access_token_lifetime": True}, [("access_token_lifetime", None)]),
        ({"secret": "x"}, [("secret", "Unknown field.")]),
    ],
)
def test_update_refuses_bad_values_and_changes_nothing(anna, client_id, changes, errors):
    with pytest.raises(ValidationError) as info:
        client_settings.update_client(anna, client_id, CTX, changes, max_token_lifetime=MAX)
    got = [(e["field"], e["message"]) for e in info.value.errors]
    assert [field for field, _ in got] == [field for field, _ in errors]
    for (_, message), (_, expected) in zip(got, errors, strict=True):
        if expected is not None:
            assert message == expected
    assert _events("client.updated") == []


def test_every_bad_contact_and_field_is_listed(anna, client_id):
    with pytest.raises(ValidationError) as info:
        client_settings.update_client(
            anna,
            client_id,
            CTX,
            {"name": "", "contacts": ["ok@example.com", "nope", "also nope"]},
            max_token_lifetime=MAX,
        )
    assert [e["field"] for e in info.value.errors] == ["name", "contacts.1", "contacts.2"]
    assert info.value.field == "name"


def test_only_an_administrator_of_the_client_may_edit_it(anna, client_id, directory):
    mallory = directory.user("mallory@example.com", admin_of=("400100",))
    with pytest.raises(ClientNotFound):
        client_settings.update_client(
            mallory, client_id, CTX, {"name": "Mine"}, max_token_lifetime=MAX
        )
    assert db.session.execute(db.select(Client.name)).scalar_one() == "Acme Parts GmbH API client"
    assert _events("authorization.denied") == [
        {"operation": "client.update", "reason": "not_client_administrator"}
    ]


def test_the_default_name_fits_the_limit():
    assert client_profile.default_name("Acme") == "Acme API client"
    assert len(client_profile.default_name("A" * 300)) == client_profile.MAX_NAME_LENGTH
