"""The rules of client keys, without HTTP: at most 3 keys, no duplicates, a
client without secret authentication keeps a key, rights checked, audited."""

from __future__ import annotations

import json

import pytest
from support.assertions import key_pair

from authserver.errors import (
    ClientNotFound,
    DuplicateKey,
    KeyNotFound,
    LastCredential,
    TooManyKeys,
    ValidationError,
)
from authserver.extensions import db
from authserver.models import AuditEvent, Client, ClientKey
from authserver.services import audit, client_keys, clients


@pytest.fixture
def setup(directory):
    anna = directory.user("anna@example.com", admin_of=("400100",))
    ben = directory.user("ben@example.com", admin_of=("400300",))
    client_id = clients.create_client(anna, "400100", audit.CLI).client.client_id
    return anna, ben, client_id


def actions(client_id):
    return list(
        db.session.execute(
            db.select(AuditEvent.action)
            .where(AuditEvent.client_id == client_id)
            .order_by(AuditEvent.id)
        ).scalars()
    )


def test_a_key_is_stored_public_only_and_audited(setup):
    anna, _, client_id = setup
    pair = key_pair("RSA")
    key = client_keys.add_key(anna, client_id, audit.CLI, key=pair.public_pem, label=" ERP ")
    stored = json.loads(key.public_jwk)
    assert stored["kty"] == "RSA" and "d" not in stored
    assert key.label == "ERP"
    assert key.kid == key.thumbprint
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "client.key_added")
    ).scalar_one()
    assert event.target == key.thumbprint
    assert event.details == {"kid": key.kid, "label": "ERP", "kty": "RSA"}


def test_at_most_three_keys(setup):
    anna, _, client_id = setup
    for _ in range(3):
        client_keys.add_key(anna, client_id, audit.CLI, key=key_pair("EC").public_pem)
    with pytest.raises(TooManyKeys):
        client_keys.add_key(anna, client_id, audit.CLI, key=key_pair("EC").public_pem)
    assert len(client_keys.list_keys(anna, client_id)) == 3


def test_the_same_key_twice_is_refused_whatever_its_form(setup):
    anna, _, client_id = setup
    pair = key_pair("EC")
    client_keys.add_key(anna, client_id, audit.CLI, key=pair.public_pem)
    with pytest.raises(DuplicateKey):
        client_keys.add_key(anna, client_id, audit.CLI, key=json.dumps(pair.public_jwk()))


def test_only_its_administrators_manage_a_clients_keys(setup):
    anna, ben, client_id = setup
    pem = key_pair("EC").public_pem
    with pytest.raises(ClientNotFound):
        client_keys.add_key(ben, client_id, audit.CLI, key=pem)
    with pytest.raises(ClientNotFound):
        client_keys.list_keys(ben, client_id)
    key = client_keys.add_key(anna, client_id, audit.CLI, key=pem)
    with pytest.raises(ClientNotFound):
        client_keys.remove_key(ben, client_id, key.thumbprint, audit.CLI)
    with pytest.raises(ClientNotFound):
        client_keys.set_secret_authentication(ben, client_id, audit.CLI, enabled=False)
    # the right comes before the URL's checks: someone else's client is never a 422
    for uri in ("https://partner.example/jwks", "ftp://partner.example/jwks", None):
        with pytest.raises(ClientNotFound):
            client_keys.set_jwks_uri(ben, client_id, audit.CLI, uri)
    assert db.session.execute(db.select(ClientKey)).scalar_one()


def test_secrets_off_needs_a_key_and_the_last_key_stays(setup):
    anna, _, client_id = setup
    with pytest.raises(LastCredential):
        client_keys.set_secret_authentication(anna, client_id, audit.CLI, enabled=False)
    key = client_keys.add_key(anna, client_id, audit.CLI, key=key_pair("OKP").public_pem)
    client = client_keys.set_secret_authentication(anna, client_id, audit.CLI, enabled=False)
    assert client.secret_auth_enabled is False
    with pytest.raises(LastCredential):
        client_keys.remove_key(anna, client_id, key.thumbprint, audit.CLI)
    with pytest.raises(KeyNotFound):
        client_keys.remove_key(anna, client_id, "no-such-thumbprint", audit.CLI)
    assert actions(client_id)[-2:] == ["client.key_added", "client.secret_auth_disabled"]


def test_a_jwks_uri_counts_as_a_key(setup):
    anna, _, client_id = setup
    client_keys.set_jwks_uri(anna, client_id, audit.CLI, "https://partner.example/jwks")
    client_keys.set_secret_authentication(anna, client_id, audit.CLI, enabled=False)
    with pytest.raises(LastCredential):
        client_keys.set_jwks_uri(anna, client_id, audit.CLI, None)


def keys_version(client_id):
    return db.session.execute(
        db.select(Client.keys_version).where(Client.client_id == client_id)
    ).scalar_one()


def test_every_change_of_the_keys_raises_the_keys_version(setup):
    """The token path keeps a client's keys until this number changes."""
    anna, _, client_id = setup
    assert keys_version(client_id) == 0
    key = client_keys.add_key(anna, client_id, audit.CLI, key=key_pair("EC").public_pem)
    assert keys_version(client_id) == 1
    client_keys.set_jwks_uri(anna, client_id, audit.CLI, "https://partner.example/jwks")
    assert keys_version(client_id) == 2
    client_keys.set_jwks_uri(anna, client_id, audit.CLI, "https://partner.example/jwks")
    assert keys_version(client_id) == 2  # no change, no new version
    client_keys.remove_key(anna, client_id, key.thumbprint, audit.CLI)
    assert keys_version(client_id) == 3
    client_keys.set_jwks_uri(anna, client_id, audit.CLI, None)
    assert keys_version(client_id) == 4
    with pytest.raises(DuplicateKey):
        pem = key_pair("EC").public_pem
        client_keys.add_key(anna, client_id, audit.CLI, key=pem)
        client_keys.add_key(anna, client_id, audit.CLI, key=pem)
    assert keys_version(client_id) == 5  # the refused one changed nothing


@pytest.mark.parametrize("label", ["x" * 101, "tab\there", 7])
def test_bad_labels_are_refused(setup, label):
    anna, _, client_id = setup
    with pytest.raises(ValidationError) as refused:
        client_keys.add_key(anna, client_id, audit.CLI, key=key_pair("EC").public_pem, label=label)
    assert refused.value.field == "label"


@pytest.mark.parametrize(
    "uri",
    [
        "http://partner.example/jwks",
        "ftp://partner.example/",
        "https://",
        "not a url",
        # urlsplit would drop these and fetch another URL than the one stored
        "https://partner.exa\nmple/jwks",
        "https://partner.example/jw\tks",
        " https://partner.example/jwks",
        "https://partner.example/jwks\x00",
    ],
)
def test_a_jwks_uri_must_be_https(setup, uri):
    anna, _, client_id = setup
    with pytest.raises(ValidationError):
        client_keys.set_jwks_uri(anna, client_id, audit.CLI, uri)
