"""Fixtures of the admin API tests: log in over HTTP, a client access token."""
from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

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
def client_access_token(app: Flask) -> str:
    """A token shaped like a client access token (RFC 9068: ``typ at+jwt``,
    ES256), signed by a key of its own."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    return jwt.encode(
        {"iss": app.config["ISSUER"], "sub": "cl_x", "client_id": "cl_x", "aud": app.config["AUDIENCE"],
         "iat": now, "exp": now + 300, "jti": "j1", "scope": "export", "organizations": ["400100"]},
        key, algorithm="ES256", headers={"typ": "at+jwt", "kid": "k1"},
    )
