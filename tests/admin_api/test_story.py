"""The whole story of a client administrator, through HTTP only.

Anna (administrator of 400100 and 400200) creates a client for 400100,
rotates its secret, adds 400200 disabled with two notification e-mails,
enables it, adds Ben as administrator after looking him up, tries to remove
herself while she is the last administrator (refused), and removes herself
after Ben is added. At each step a token for the client lists exactly the
enabled organizations (POST /oauth2/token, RFC 6749 §4.4).
"""

from __future__ import annotations

import base64

import jwt

PASSWORD = "correct horse battery staple"


def _token_organizations(http, client_id: str, client_secret: str) -> list[str] | None:
    """The organizations in a fresh token for the client (None: no token)."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    response = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    if response.status_code != 200:
        return None
    token = response.json["access_token"]
    jwks = jwt.PyJWKSet.from_dict(http.get("/oauth2/jwks").json)
    key = next(k for k in jwks.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    claims = jwt.decode(
        token, key, algorithms=[key.algorithm_name], audience="export-subscription-api"
    )
    assert claims["client_id"] == client_id
    return list(claims["organizations"])


def test_anna_and_ben(http, directory, login):
    directory.user(
        "anna@example.com", first_name="Anna", last_name="Berg", admin_of=("400100", "400200")
    )
    directory.user("ben@example.com", first_name="Ben", last_name="Olsen")
    anna = login("anna@example.com")

    # Anna creates a client for 400100: the answer shows its secret
    created = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna)
    assert created.status_code == 201
    client_id, first_secret = created.json["client_id"], created.json["client_secret"]
    assert _token_organizations(http, client_id, first_secret) == ["400100"]

    # she rotates the secret: the old one stops working at once
    rotated = http.post(f"/api/v1/clients/{client_id}/secret", json={}, headers=anna)
    assert rotated.status_code == 200
    secret = rotated.json["client_secret"]
    assert _token_organizations(http, client_id, first_secret) is None
    assert _token_organizations(http, client_id, secret) == ["400100"]

    # she adds 400200 disabled, with two notification e-mails
    base = f"/api/v1/clients/{client_id}/organizations"
    added = http.post(
        base,
        json={
            "teccom_id": "400200",
            "enabled": False,
            "notification_emails": ["erp@example.com", "it@example.com"],
        },
        headers=anna,
    )
    assert added.status_code == 201
    assert added.json["notification_emails"] == ["erp@example.com", "it@example.com"]
    assert _token_organizations(http, client_id, secret) == ["400100"]

    # she enables it
    enabled = http.patch(f"{base}/400200", json={"enabled": True}, headers=anna)
    assert (enabled.status_code, enabled.json["enabled"]) == (200, True)
    assert _token_organizations(http, client_id, secret) == ["400100", "400200"]

    # she tries to remove herself while she is the last administrator
    admins = f"/api/v1/clients/{client_id}/administrators"
    refused = http.delete(f"{admins}/anna@example.com", headers=anna)
    assert refused.status_code == 409
    assert refused.json["detail"] == (
        "A client must keep at least one administrator: add another administrator first, then remove this one."
    )

    # she looks Ben up and adds him
    found = http.get("/api/v1/users", query_string={"email": "ben@example.com"}, headers=anna)
    assert found.json == {"email": "ben@example.com", "first_name": "Ben", "last_name": "Olsen"}
    assert http.post(admins, json={"email": "ben@example.com"}, headers=anna).status_code == 201
    assert _token_organizations(http, client_id, secret) == ["400100", "400200"]

    # now she can remove herself; the client is Ben's, and no longer hers to see
    assert http.delete(f"{admins}/anna@example.com", headers=anna).status_code == 204
    assert http.get(f"/api/v1/clients/{client_id}", headers=anna).status_code == 404
    ben = login("ben@example.com")
    assert [a["email"] for a in http.get(admins, headers=ben).json] == ["ben@example.com"]
    assert _token_organizations(http, client_id, secret) == ["400100", "400200"]

    # the trail tells the story, newest first
    trail = http.get(f"/api/v1/clients/{client_id}/events", headers=ben).json["events"]
    assert [e["action"] for e in trail] == [
        "administrator.removed",
        "administrator.added",
        "organization.updated",
        "organization.assigned",
        "client.secret_rotated",
        "client.created",
    ]
