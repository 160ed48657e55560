"""The Credentials tab without a browser: keys and the secret-authentication
switch go through the same service (and rules) as the admin API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from support.assertions import key_pair

from authserver.extensions import db
from authserver.models import AuditEvent, Client, User
from authserver.services import audit, clients

from .conftest import form_token, login


@pytest.fixture
def client_id(directory: Any) -> str:
    anna = directory.user("anna@example.com", admin_of=("400100",))
    directory.user("ben@example.com", admin_of=("400300",))
    return clients.create_client(anna, "400100", audit.CLI).client.client_id


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_add_a_key_turn_secrets_off_and_back_on(http: FlaskClient, client_id: str) -> None:
    token = login(http, "anna@example.com")
    pair = key_pair("EC")
    url = f"/clients/{client_id}/credentials"
    response = http.post(
        url + "/keys",
        data={"key": pair.public_pem, "label": "ERP 2026", "csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Key ERP 2026 added: the client may sign with it now." in text(response)
    assert "ERP 2026" in text(response)

    response = http.post(
        url + "/secret-authentication",
        data={"enabled": "off", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Secret authentication is off: the client authenticates with its keys only." in text(
        response
    )
    assert "off: keys only" in text(response)
    client = db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()
    assert client.secret_auth_enabled is False

    # the last key stays while secrets are off
    thumbprint = re.search(r'data-thumbprint="([^"]+)"', response.get_data(as_text=True)).group(1)
    response = http.post(
        url + "/keys/remove",
        data={"thumbprint": thumbprint, "csrf_token": token},
        follow_redirects=True,
    )
    assert "Secret authentication is off for this client: register another key" in text(response)

    http.post(url + "/secret-authentication", data={"enabled": "on", "csrf_token": token})
    response = http.post(url + "/keys/remove", data={"thumbprint": thumbprint, "csrf_token": token})
    assert response.status_code == 303
    actions = (
        db.session.execute(
            db.select(AuditEvent.action)
            .where(AuditEvent.client_id == client_id)
            .order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert actions[-4:] == [
        "client.key_added",
        "client.secret_auth_disabled",
        "client.secret_auth_enabled",
        "client.key_removed",
    ]


def test_a_bad_key_is_refused_with_the_reason(http: FlaskClient, client_id: str) -> None:
    token = login(http, "anna@example.com")
    response = http.post(
        f"/clients/{client_id}/credentials/keys",
        data={"key": "not a key", "label": "", "csrf_token": token},
        follow_redirects=True,
    )
    assert "The text is neither a JWK nor a PEM public key." in text(response)


def test_another_administrators_client_is_404(http: FlaskClient, client_id: str) -> None:
    token = login(http, "ben@example.com")
    assert http.get(f"/clients/{client_id}/credentials").status_code == 404
    response = http.post(
        f"/clients/{client_id}/credentials/keys",
        data={"key": key_pair("EC").public_pem, "label": "", "csrf_token": token},
    )
    assert response.status_code == 404
    assert db.session.execute(db.select(User).where(User.email == "ben@example.com")).scalar_one()


def test_forms_need_the_csrf_token(http: FlaskClient, client_id: str) -> None:
    login(http, "anna@example.com")
    response = http.post(
        f"/clients/{client_id}/credentials/secret-authentication", data={"enabled": "off"}
    )
    assert response.status_code in (400, 403)
    page = http.get(f"/clients/{client_id}/credentials")
    assert form_token(page)
