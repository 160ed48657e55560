"""One parametrized test walks every admin route (STYLE.md habit 3):
401 without a token, 401 with a client access token, 404 for a client the
caller does not administer (never 403: its existence is not revealed).
"""

from __future__ import annotations

import json

import pytest

from authserver.extensions import db
from authserver.models import Assignment, AuditEvent, Client, ClientAdministrator
from authserver.services import audit, clients

#: an EC P-256 public key (the private half was thrown away)
PUBLIC_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfD3BWIunp2QK+lmrW09bH3WBTTCW\n"
    "ayzSUZ23qsvzQuRMJMsqARx2rb4C4sUbUMChyHOPWmJ3++fbyIySm9ta/A==\n"
    "-----END PUBLIC KEY-----\n"
)

#: (method, path, JSON body) of every route that needs a token; {id} is a client
ROUTES = [
    ("GET", "/api/v1/me", None),
    ("GET", "/api/v1/users?email=anna@example.com", None),
    ("GET", "/api/v1/clients", None),
    ("POST", "/api/v1/clients", {"teccom_id": "400100"}),
    ("GET", "/api/v1/clients/{id}", None),
    ("PATCH", "/api/v1/clients/{id}", {"name": "Shop"}),
    ("DELETE", "/api/v1/clients/{id}", None),
    ("POST", "/api/v1/clients/{id}/secret", {"grace_period_seconds": 60}),
    ("GET", "/api/v1/clients/{id}/organizations", None),
    ("POST", "/api/v1/clients/{id}/organizations", {"teccom_id": "400200"}),
    ("PATCH", "/api/v1/clients/{id}/organizations/400100", {"enabled": False}),
    ("DELETE", "/api/v1/clients/{id}/organizations/400100", None),
    ("GET", "/api/v1/clients/{id}/administrators", None),
    ("POST", "/api/v1/clients/{id}/administrators", {"email": "mallory@example.com"}),
    ("DELETE", "/api/v1/clients/{id}/administrators/anna@example.com", None),
    ("GET", "/api/v1/clients/{id}/events", None),
    ("GET", "/api/v1/clients/{id}/export-failures", None),
    ("GET", "/api/v1/clients/{id}/keys", None),
    ("POST", "/api/v1/clients/{id}/keys", {"key": PUBLIC_PEM, "label": ""}),
    ("DELETE", "/api/v1/clients/{id}/keys/AAAA", None),
    ("PUT", "/api/v1/clients/{id}/secret-authentication", {"enabled": True}),
    ("PUT", "/api/v1/clients/{id}/jwks-uri", {"jwks_uri": None}),
]
CLIENT_ROUTES = [r for r in ROUTES if "{id}" in r[1]]


@pytest.fixture
def client_id(directory):
    anna = directory.user("anna@example.com", admin_of=("400100", "400200"))
    directory.user("mallory@example.com", admin_of=("400100", "400200"))
    return clients.create_client(
        anna, "400100", audit.AuditContext(actor="anna@example.com")
    ).client.client_id


def _send(http, method, path, body, client_id, headers=None):
    return http.open(
        path.replace("{id}", client_id), method=method, json=body, headers=headers or {}
    )


def test_every_admin_route_is_walked(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    walked = {
        (
            method,
            path.split("?")[0]
            .replace("{id}", "<client_id>")
            .replace("/400100", "/<teccom_id>")
            .replace("/anna@example.com", "/<email>")
            .replace("/keys/AAAA", "/keys/<thumbprint>"),
        )
        for method, path, _ in ROUTES
    }
    public = {("POST", "/api/v1/auth/login"), ("GET", "/api/v1/openapi.json")}
    # API gateway credentials (HTTP Basic): tests/admin_api/test_export_failures.py
    public.add(("POST", "/api/v1/export-failures"))
    assert routes == walked | public


@pytest.mark.parametrize("method, path, body", ROUTES)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_without_a_token_401_with_a_bearer_challenge(
    http, client_id, method, path, body, content_type
):
    # authentication comes first: a body of the wrong type is 401 too, not 415
    response = http.open(
        path.replace("{id}", client_id),
        method=method,
        data="{}" if body is None else json.dumps(body),
        content_type=content_type,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="authserver-admin"'
    assert response.mimetype == "application/problem+json"
    assert response.json == {
        "type": "https://auth.example.test/problems/unauthorized",
        "title": "Authentication required",
        "status": 401,
        "detail": "A bearer token from /api/v1/auth/login is required.",
    }


@pytest.mark.parametrize("method, path, body", ROUTES)
@pytest.mark.parametrize(
    "authorization",
    ["Bearer {access_token}", "Bearer not-a-token", "Basic YW5uYTpwdw==", "Bearer "],
)
def test_client_access_tokens_and_other_credentials_are_refused(
    http, client_id, client_access_token, method, path, body, authorization
):
    headers = {"Authorization": authorization.format(access_token=client_access_token)}
    response = _send(http, method, path, body, client_id, headers)
    assert response.status_code == 401
    assert (
        response.headers["WWW-Authenticate"]
        == 'Bearer realm="authserver-admin", error="invalid_token"'
    )
    assert response.json["detail"] == "The bearer token is invalid or expired."


@pytest.mark.parametrize("method, path, body", CLIENT_ROUTES)
def test_a_client_you_do_not_administer_is_404_like_one_that_does_not_exist(
    http, login, client_id, method, path, body
):
    mallory = login("mallory@example.com")
    before = db.session.execute(db.select(Client.id, Assignment.enabled).join(Assignment)).all()
    theirs = _send(http, method, path, body, client_id, mallory)
    missing = _send(http, method, path, body, "cl_does_not_exist", mallory)
    assert theirs.status_code == missing.status_code == 404
    assert (
        theirs.json
        == missing.json
        == {
            "type": "https://auth.example.test/problems/client-not-found",
            "title": "Client not found",
            "status": 404,
            "detail": "Client not found.",
        }
    )
    db.session.expire_all()
    assert (
        db.session.execute(db.select(Client.id, Assignment.enabled).join(Assignment)).all()
        == before
    )
    assert db.session.execute(db.select(ClientAdministrator.user_id)).scalars().all() != []
    if method != "GET":  # attempted changes are audited as failed authorizations
        denied = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "authorization.denied")
        ).scalar_one()
        assert (denied.actor, denied.client_id, denied.details["reason"]) == (
            "mallory@example.com",
            client_id,
            "not_client_administrator",
        )
