"""Admin tokens and client access tokens never pass for each other, and admin
changes take effect at once at the token endpoint and at introspection."""

from __future__ import annotations

import base64

import pytest


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def setup(http, directory, login):
    from authserver.services import audit, clients

    directory.user("anna@example.com", admin_of=("400100", "400200"))
    anna = login("anna@example.com")
    created = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna).json
    gateway = clients.create_gateway("edge", audit.CLI)
    return {
        "anna": anna,
        "client_id": created["client_id"],
        "secret": created["client_secret"],
        "gateway": _basic(gateway.client.client_id, gateway.client_secret),
    }


def _token(http, client_id, secret):
    return http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(client_id, secret),
    )


def _introspect(http, setup, token):
    response = http.post("/oauth2/introspect", data={"token": token}, headers=setup["gateway"])
    assert response.status_code == 200
    return response.json


def test_a_client_access_token_is_refused_by_the_admin_api(http, setup):
    access_token = _token(http, setup["client_id"], setup["secret"]).json["access_token"]
    response = http.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 401
    assert response.json["detail"] == "The bearer token is invalid or expired."


def test_an_admin_token_is_refused_at_introspection(http, setup):
    admin_token = setup["anna"]["Authorization"].split(" ", 1)[1]
    assert _introspect(http, setup, admin_token) == {"active": False}


def test_deleting_a_client_takes_effect_at_once(http, setup):
    access_token = _token(http, setup["client_id"], setup["secret"]).json["access_token"]
    assert _introspect(http, setup, access_token)["active"] is True
    assert (
        http.delete(f"/api/v1/clients/{setup['client_id']}", headers=setup["anna"]).status_code
        == 204
    )
    assert _token(http, setup["client_id"], setup["secret"]).status_code == 401
    assert _introspect(http, setup, access_token) == {"active": False}


def test_disabling_and_unassigning_take_effect_at_once(http, setup):
    base = f"/api/v1/clients/{setup['client_id']}/organizations"
    assert http.post(base, json={"teccom_id": "400200"}, headers=setup["anna"]).status_code == 201
    access_token = _token(http, setup["client_id"], setup["secret"]).json["access_token"]
    assert _introspect(http, setup, access_token)["organizations"] == ["400100", "400200"]
    assert (
        http.patch(f"{base}/400200", json={"enabled": False}, headers=setup["anna"]).status_code
        == 200
    )
    assert _introspect(http, setup, access_token)["organizations"] == ["400100"]
    assert http.delete(f"{base}/400100", headers=setup["anna"]).status_code == 204
    refused = _token(http, setup["client_id"], setup["secret"])
    assert (refused.status_code, refused.json["error"]) == (400, "invalid_scope")


def test_rotation_with_revocation_ends_issued_tokens(http, setup):
    access_token = _token(http, setup["client_id"], setup["secret"]).json["access_token"]
    rotated = http.post(
        f"/api/v1/clients/{setup['client_id']}/secret",
        json={"revoke_tokens": True},
        headers=setup["anna"],
    )
    assert rotated.status_code == 200
    assert _introspect(http, setup, access_token) == {"active": False}
    assert _token(http, setup["client_id"], setup["secret"]).status_code == 401
    assert _token(http, setup["client_id"], rotated.json["client_secret"]).status_code == 200
