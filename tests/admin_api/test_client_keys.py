"""``/api/v1/clients/{id}/keys``, ``/secret-authentication``, ``/jwks-uri``:
registering public keys for ``private_key_jwt`` through the admin API."""

from __future__ import annotations

import json

import pytest
from support.assertions import assertion_form, key_pair, sign

from authserver.extensions import db
from authserver.models import AuditEvent
from authserver.services import audit, clients

ISSUER = "https://auth.example.test"


@pytest.fixture
def anna(directory, login):
    directory.user("anna@example.com", admin_of=("400100",))
    return login("anna@example.com")


@pytest.fixture
def client_id(anna, directory):
    from authserver.models import User

    user = db.session.execute(db.select(User).where(User.email == "anna@example.com")).scalar_one()
    return clients.create_client(user, "400100", audit.CLI).client.client_id


def actions(client_id: str) -> list[str]:
    return list(
        db.session.execute(
            db.select(AuditEvent.action)
            .where(AuditEvent.client_id == client_id)
            .order_by(AuditEvent.id)
        ).scalars()
    )


def test_add_list_use_and_remove_a_key(http, anna, client_id):
    pair = key_pair("EC")
    response = http.post(
        f"/api/v1/clients/{client_id}/keys",
        json={"key": pair.public_pem, "label": "ERP 2026"},
        headers=anna,
    )
    assert response.status_code == 201, response.json
    added = response.json
    assert set(added) == {
        "thumbprint",
        "kid",
        "label",
        "kty",
        "algorithms",
        "public_jwk",
        "created_at",
    }
    assert added["label"] == "ERP 2026"
    assert added["kty"] == "EC"
    assert added["algorithms"] == ["ES256"]
    assert "d" not in added["public_jwk"]
    assert response.headers["Location"].endswith(f"/keys/{added['thumbprint']}")
    listed = http.get(f"/api/v1/clients/{client_id}/keys", headers=anna)
    assert listed.status_code == 200
    assert [k["thumbprint"] for k in listed.json] == [added["thumbprint"]]

    token = http.post(
        "/oauth2/token",
        data=assertion_form(sign(pair, client_id, ISSUER), grant_type="client_credentials"),
    )
    assert token.status_code == 200

    removed = http.delete(f"/api/v1/clients/{client_id}/keys/{added['thumbprint']}", headers=anna)
    assert removed.status_code == 204
    again = http.post(
        "/oauth2/token",
        data=assertion_form(sign(pair, client_id, ISSUER), grant_type="client_credentials"),
    )
    assert again.status_code == 401
    assert actions(client_id)[-2:] == ["client.key_added", "client.key_removed"]


def test_a_jwk_keeps_its_kid(http, anna, client_id):
    jwk = key_pair("OKP").public_jwk(kid="partner-2026-01")
    response = http.post(
        f"/api/v1/clients/{client_id}/keys", json={"key": json.dumps(jwk)}, headers=anna
    )
    assert response.status_code == 201
    assert response.json["kid"] == "partner-2026-01"
    assert response.json["algorithms"] == ["EdDSA"]
    assert response.json["label"] == ""


@pytest.mark.parametrize(
    "key, detail",
    [
        ("", "key: Length must be between 1 and 2000."),
        ("hello", "The text is neither a JWK nor a PEM public key."),
        ("{", "The JWK is not valid JSON."),
        ('{"keys": []}', "Paste one key (a JWK), not a JWK Set."),
        (
            '{"kty": "oct", "k": "c2VjcmV0"}',
            "This is a private or symmetric key: paste only the public key.",
        ),
        ("PRIVATE", "This is a private key: paste only the public key."),
        ("RSA1024", "RSA keys must have at least 2048 bits."),
    ],
)
def test_unacceptable_keys_are_422(http, anna, client_id, key, detail):
    if key == "PRIVATE":
        key = key_pair("EC").private_pem
    elif key == "RSA1024":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = (
            rsa.generate_private_key(public_exponent=65537, key_size=1024)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
    response = http.post(f"/api/v1/clients/{client_id}/keys", json={"key": key}, headers=anna)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["field"] == "key"
    assert response.json["detail"] == detail


def test_at_most_three_keys_and_no_duplicates(http, anna, client_id):
    pairs = [key_pair("EC") for _ in range(4)]
    for pair in pairs[:3]:
        response = http.post(
            f"/api/v1/clients/{client_id}/keys", json={"key": pair.public_pem}, headers=anna
        )
        assert response.status_code == 201
    response = http.post(
        f"/api/v1/clients/{client_id}/keys", json={"key": pairs[0].public_pem}, headers=anna
    )
    assert response.status_code == 409
    assert response.json["title"] == "Key already registered"
    response = http.post(
        f"/api/v1/clients/{client_id}/keys", json={"key": pairs[3].public_pem}, headers=anna
    )
    assert response.status_code == 409
    assert response.json["detail"] == "A client has at most 3 keys: remove one first."


def test_removing_an_unknown_key_is_404(http, anna, client_id):
    response = http.delete(f"/api/v1/clients/{client_id}/keys/nope", headers=anna)
    assert response.status_code == 404
    assert response.json["title"] == "Key not found"


def test_secret_authentication_off_needs_a_key_and_keeps_the_last_one(http, anna, client_id):
    url = f"/api/v1/clients/{client_id}/secret-authentication"
    response = http.put(url, json={"enabled": False}, headers=anna)
    assert response.status_code == 409
    assert response.json["title"] == "Last credential"
    pair = key_pair("EC")
    key = http.post(
        f"/api/v1/clients/{client_id}/keys", json={"key": pair.public_pem}, headers=anna
    ).json
    response = http.put(url, json={"enabled": False}, headers=anna)
    assert response.status_code == 200
    assert response.json == {"client_id": client_id, "enabled": False}
    assert (
        http.get(f"/api/v1/clients/{client_id}", headers=anna).json["secret_auth_enabled"] is False
    )
    response = http.delete(f"/api/v1/clients/{client_id}/keys/{key['thumbprint']}", headers=anna)
    assert response.status_code == 409
    assert http.put(url, json={"enabled": True}, headers=anna).status_code == 200
    assert "client.secret_auth_disabled" in actions(client_id)
    assert actions(client_id)[-1] == "client.secret_auth_enabled"


@pytest.mark.parametrize("body", [{}, {"enabled": "no"}, {"enabled": 0}, {"enabled": True, "x": 1}])
def test_secret_authentication_takes_a_boolean(http, anna, client_id, body):
    response = http.put(
        f"/api/v1/clients/{client_id}/secret-authentication", json=body, headers=anna
    )
    assert response.status_code == 422


def test_jwks_uri_must_be_https(http, anna, client_id, app):
    app.config["JWKS_URI_ALLOW_LOCAL"] = False
    url = f"/api/v1/clients/{client_id}/jwks-uri"
    response = http.put(url, json={"jwks_uri": "http://partner.example/jwks"}, headers=anna)
    assert response.status_code == 422
    assert response.json["field"] == "jwks_uri"
    response = http.put(url, json={"jwks_uri": "https://partner.example/jwks"}, headers=anna)
    assert response.status_code == 200
    assert response.json == {"client_id": client_id, "jwks_uri": "https://partner.example/jwks"}
    response = http.put(url, json={"jwks_uri": None}, headers=anna)
    assert response.json == {"client_id": client_id, "jwks_uri": None}
    assert actions(client_id)[-2:] == ["client.jwks_uri_set", "client.jwks_uri_removed"]
