"""Building clients and OAuth requests for tests (no mocks: real services, real argon2)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from authserver import credentials
from authserver.extensions import db
from authserver.models import Assignment, Client, ClientSecret, Organization
from authserver.services import audit, clients


@dataclass
class Creds:
    client_id: str
    client_secret: str


def partner(directory: Any, *teccom_ids: str, email: str | None = None) -> Creds:
    """A partner client for the first organization, the others assigned and enabled too."""
    first, *more = teccom_ids or ("400100",)
    user = directory.user(email or f"admin-{first}@example.com", admin_of=(first, *more))
    issued = clients.create_client(user, first, audit.CLI)
    for teccom_id in more:
        db.session.add(
            Assignment(
                client_pk=issued.client.id,
                teccom_id=teccom_id,
                enabled=True,
                notification_emails=[],
            )
        )
    db.session.commit()
    return Creds(issued.client.client_id, issued.client_secret)


def gateway(name: str = "gw") -> Creds:
    issued = clients.create_gateway(name, audit.CLI)
    return Creds(issued.client.client_id, issued.client_secret)


def custom_client(client_id: str, secret: str, *teccom_ids: str) -> Creds:
    """A partner client with a chosen id and secret (for encoding tests)."""
    client = Client(client_id=client_id, kind="partner", name="custom")
    client.secrets.append(ClientSecret(secret_hash=credentials.hash_secret(secret)))
    for teccom_id in teccom_ids:
        if db.session.get(Organization, teccom_id) is None:
            db.session.add(Organization(teccom_id=teccom_id, name=teccom_id, kind="supplier"))
        client.organizations.append(
            Assignment(teccom_id=teccom_id, enabled=True, notification_emails=[])
        )
    db.session.add(client)
    db.session.commit()
    return Creds(client_id, secret)


def set_enabled(client_id: str, teccom_id: str, enabled: bool) -> None:
    row = db.session.execute(
        db.select(Assignment)
        .join(Client)
        .where(Client.client_id == client_id, Assignment.teccom_id == teccom_id)
    ).scalar_one()
    row.enabled = enabled
    db.session.commit()


def delete_client(client_id: str) -> None:
    client = db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()
    db.session.delete(client)
    db.session.commit()


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode id and secret, then HTTP Basic (RFC 7617)."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def token_request(
    http: FlaskClient,
    creds: Creds | None,
    *,
    method: str = "basic",
    remote_addr: str = "127.0.0.1",
    **params: str,
) -> TestResponse:
    data = {"grant_type": "client_credentials", **params}
    headers = {}
    if creds is not None and method == "basic":
        headers["Authorization"] = basic(creds.client_id, creds.client_secret)
    elif creds is not None:
        data.update(client_id=creds.client_id, client_secret=creds.client_secret)
    return http.post(
        "/oauth2/token", data=data, headers=headers, environ_base={"REMOTE_ADDR": remote_addr}
    )


def get_token(http: FlaskClient, creds: Creds, **params: str) -> str:
    response = token_request(http, creds, **params)
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["access_token"])


def endpoint_request(
    http: FlaskClient, path: str, creds: Creds, token: str, method: str = "basic"
) -> TestResponse:
    data = {"token": token}
    headers = {}
    if method == "basic":
        headers["Authorization"] = basic(creds.client_id, creds.client_secret)
    else:
        data.update(client_id=creds.client_id, client_secret=creds.client_secret)
    return http.post(path, data=data, headers=headers)


def assert_oauth_error(response: TestResponse, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == error
    assert set(body) <= {"error", "error_description"}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.mimetype == "application/json"
    return dict(body)
