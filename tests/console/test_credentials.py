"""The Credentials tab without a browser: keys and the secret-authentication
switch go through the same service (and rules) as the admin API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.assertions import key_pair

from authserver.extensions import db
from authserver.models import AuditEvent, Client, OutboxMessage, User
from authserver.services import audit, clients

from .conftest import form_token, login
from .test_pages import flashed


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


# -- the key set URL (jwks_uri) ------------------------------------------------------


def jwks_uri_of(client_id: str) -> str | None:
    client = db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()
    db.session.refresh(client)
    return client.jwks_uri


def audit_actions(client_id: str) -> list[str]:
    return list(
        db.session.execute(
            db.select(AuditEvent.action)
            .where(AuditEvent.client_id == client_id)
            .order_by(AuditEvent.id)
        ).scalars()
    )


def notice_kinds(client_id: str) -> list[str]:
    return list(
        db.session.execute(
            db.select(OutboxMessage.kind)
            .where(OutboxMessage.client_id == client_id)
            .order_by(OutboxMessage.id)
        ).scalars()
    )


def errors_shown(page: Any) -> list[str]:
    """The error messages at the top of *page* (as a refused key is shown)."""
    return re.findall(
        r'<div class="alert alert-error" role="alert">\s*<svg.*?</svg><span>(.*?)</span>',
        page.get_data(as_text=True),
        re.S,
    )


def saved(http: FlaskClient, url: str, token: str) -> None:
    """Set the jwks_uri https://erp.example.com/jwks and read the page it answers."""
    response = http.post(
        url + "/jwks-uri", data={"jwks_uri": "https://erp.example.com/jwks", "csrf_token": token}
    )
    assert flashed(http, response) == [
        "Key set URL saved: the keys are fetched from https://erp.example.com/jwks."
    ]


def test_set_replace_and_remove_the_jwks_uri(http: FlaskClient, client_id: str) -> None:
    token = login(http, "anna@example.com")
    url = f"/clients/{client_id}/credentials"
    page = text(http.get(url))
    assert "No key set URL: only the keys registered above are accepted." in page
    assert "Save URL" in page
    assert "Remove URL" not in page

    response = http.post(
        url + "/jwks-uri", data={"jwks_uri": " https://erp.example.com/jwks ", "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == url
    assert flashed(http, response) == [
        "Key set URL saved: the keys are fetched from https://erp.example.com/jwks."
    ]
    assert jwks_uri_of(client_id) == "https://erp.example.com/jwks"
    page = text(http.get(url))
    assert 'Current: <span class="mono">https://erp.example.com/jwks</span>' in page
    assert 'value="https://erp.example.com/jwks"' in page
    assert "Replace URL" in page
    assert "Remove URL" in page

    response = http.post(
        url + "/jwks-uri", data={"jwks_uri": "https://erp.example.com/v2/jwks", "csrf_token": token}
    )
    assert flashed(http, response) == [
        "Key set URL saved: the keys are fetched from https://erp.example.com/v2/jwks."
    ]
    assert jwks_uri_of(client_id) == "https://erp.example.com/v2/jwks"

    # without JavaScript, the remove button opens the dialog as a page
    page = text(http.get(url + "?dialog=remove-jwks-uri"))
    assert 'id="remove-jwks-uri"' in page and " open data-autoshow" in page
    assert (
        'The URL <span class="mono">https://erp.example.com/v2/jwks</span> will be removed' in page
    )

    response = http.post(url + "/jwks-uri/remove", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == url
    assert flashed(http, response) == [
        "Key set URL removed: keys published there are refused from now on."
    ]
    assert jwks_uri_of(client_id) is None
    assert "No key set URL: only the keys registered above are accepted." in text(http.get(url))

    # each change is audited and told to the administrators, in its own transaction
    assert audit_actions(client_id)[-3:] == [
        "client.jwks_uri_set",
        "client.jwks_uri_set",
        "client.jwks_uri_removed",
    ]
    assert notice_kinds(client_id)[-3:] == ["jwks_uri_set", "jwks_uri_set", "jwks_uri_removed"]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://erp.example.com/jwks", "jwks_uri must be an https URL."),
        ("ftp://erp.example.com/jwks", "jwks_uri must be an https URL."),
        ("not a url", "jwks_uri must be an https URL."),
        ("https://", "jwks_uri must be an https URL."),
        ("", "Enter the URL of the key set."),
        ("   ", "Enter the URL of the key set."),
        ("https://erp.example.com/" + "x" * 2000, "At most 2000 characters."),
    ],
)
def test_a_bad_jwks_uri_is_refused_with_the_reason_and_changes_nothing(
    http: FlaskClient, client_id: str, app: Flask, uri: str, message: str
) -> None:
    app.config["JWKS_URI_ALLOW_LOCAL"] = False  # as in production
    token = login(http, "anna@example.com")
    url = f"/clients/{client_id}/credentials"
    saved(http, url, token)
    before = (audit_actions(client_id), notice_kinds(client_id))

    response = http.post(url + "/jwks-uri", data={"jwks_uri": uri, "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == url
    page = http.get(response.headers["Location"])
    assert page.status_code == 200
    assert errors_shown(page) == [message]
    assert 'Current: <span class="mono">https://erp.example.com/jwks</span>' in text(page)
    assert jwks_uri_of(client_id) == "https://erp.example.com/jwks"
    assert (audit_actions(client_id), notice_kinds(client_id)) == before


def test_plain_http_is_accepted_where_local_uris_are_allowed(
    http: FlaskClient, client_id: str, app: Flask
) -> None:
    app.config["JWKS_URI_ALLOW_LOCAL"] = True  # development and tests, never production
    token = login(http, "anna@example.com")
    response = http.post(
        f"/clients/{client_id}/credentials/jwks-uri",
        data={"jwks_uri": "http://127.0.0.1:8099/jwks", "csrf_token": token},
    )
    assert flashed(http, response) == [
        "Key set URL saved: the keys are fetched from http://127.0.0.1:8099/jwks."
    ]
    assert jwks_uri_of(client_id) == "http://127.0.0.1:8099/jwks"


def test_the_jwks_uri_of_a_keys_only_client_stays(http: FlaskClient, client_id: str) -> None:
    token = login(http, "anna@example.com")
    url = f"/clients/{client_id}/credentials"
    saved(http, url, token)
    response = http.post(
        url + "/secret-authentication", data={"enabled": "off", "csrf_token": token}
    )
    assert flashed(http, response) == [
        "Secret authentication is off: the client authenticates with its keys only."
    ]
    response = http.post(url + "/jwks-uri/remove", data={"csrf_token": token})
    assert flashed(http, response) == [
        "Secret authentication is off for this client: register another key or turn "
        "secret authentication on first."
    ]
    assert jwks_uri_of(client_id) == "https://erp.example.com/jwks"


def test_only_the_client_administrators_may_change_the_jwks_uri(
    http: FlaskClient, client_id: str
) -> None:
    anna = login(http, "anna@example.com")
    url = f"/clients/{client_id}/credentials"
    saved(http, url, anna)
    http.post("/logout", data={"csrf_token": anna})
    before = audit_actions(client_id)

    ben = login(http, "ben@example.com")
    for path, data in (
        ("/jwks-uri", {"jwks_uri": "https://evil.example/jwks"}),
        ("/jwks-uri", {"jwks_uri": "ftp://evil.example/jwks"}),
        ("/jwks-uri", {"jwks_uri": ""}),
        ("/jwks-uri/remove", {}),
    ):
        response = http.post(url + path, data={**data, "csrf_token": ben})
        assert response.status_code == 404, (path, data)
        assert '<h1 id="error-title">Client not found</h1>' in text(response)
    assert jwks_uri_of(client_id) == "https://erp.example.com/jwks"
    # a refusal by the service is audited as a denial (a bad URL too: the right is
    # checked first); an empty form never reaches it, as with the key form
    assert audit_actions(client_id) == [*before, *["authorization.denied"] * 3]


def test_the_jwks_uri_forms_need_the_csrf_token(http: FlaskClient, client_id: str) -> None:
    token = login(http, "anna@example.com")
    url = f"/clients/{client_id}/credentials"
    saved(http, url, token)
    before = audit_actions(client_id)
    for path, data in (
        ("/jwks-uri", {"jwks_uri": "https://evil.example/jwks"}),
        ("/jwks-uri", {"jwks_uri": "https://evil.example/jwks", "csrf_token": "forged"}),
        ("/jwks-uri/remove", {}),
    ):
        response = http.post(url + path, data=data)
        assert response.status_code == 400, path
        assert "The form has expired" in text(response)
    assert jwks_uri_of(client_id) == "https://erp.example.com/jwks"
    assert audit_actions(client_id) == before
