"""Fixtures of the admin API tests: log in over HTTP, a real client access token."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from authserver.services import audit, clients

PASSWORD = "correct horse battery staple"


@pytest.fixture
def login(http: FlaskClient) -> Callable[..., dict[str, str]]:
    """``login(email)`` -> the Authorization header of an admin token got from
    ``POST /api/v1/auth/login``."""

    def login(email: str, password: str = PASSWORD) -> dict[str, str]:
        response = http.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return login


@pytest.fixture
def client_access_token(http: FlaskClient, directory: Any) -> str:
    """A real client access token from ``POST /oauth2/token`` (RFC 9068:
    ``typ at+jwt``), for a client of another organization."""
    owner = directory.user("owner@example.com", admin_of=("999001",))
    issued = clients.create_client(owner, "999001", audit.CLI)
    basic = base64.b64encode(f"{issued.client.client_id}:{issued.client_secret}".encode()).decode()
    response = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.json
    token: str = response.json["access_token"]
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    return token
