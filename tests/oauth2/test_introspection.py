"""POST /oauth2/introspect (RFC 7662): who may ask, and the live state of a token."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import jwt
import pytest
from support.oauth import (
    assert_oauth_error,
    basic,
    delete_client,
    endpoint_request,
    gateway,
    get_token,
    partner,
    set_enabled,
)

from authserver import tokens
from authserver.extensions import db
from authserver.models import Assignment, Client, RevokedToken
from authserver.oauth2.endpoints import EXTENSION
from authserver.services import audit, secret_rotation

URL = "/oauth2/introspect"
INACTIVE = {"active": False}
ORGS = ("400100", "400200")


def introspect(http, creds, token, method="basic"):
    response = endpoint_request(http, URL, creds, token, method)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    return response.get_json()


@pytest.fixture
def setup(http, directory):
    creds = partner(directory, *ORGS)
    return creds, gateway(), get_token(http, creds)


def test_gateway_sees_an_active_token(http, setup):
    creds, gw, token = setup
    body = introspect(http, gw, token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert body == {
        "active": True,
        "client_id": creds.client_id,
        "client_name": "Org 400100 API client",
        "sub": creds.client_id,
        "scope": "export subscription org:400100 org:400200",
        "iss": "https://auth.example.test",
        "aud": "export-subscription-api",
        "iat": claims["iat"],
        "exp": claims["exp"],
        "jti": claims["jti"],
        "token_type": "Bearer",
        "organizations": ["400100", "400200"],
    }


def test_post_authentication_works_too(http, setup):
    creds, gw, token = setup
    assert introspect(http, gw, token, method="post")["active"] is True


def test_a_client_may_introspect_its_own_token(http, setup):
    creds, gw, token = setup
    assert introspect(http, creds, token)["active"] is True


def test_a_client_may_not_introspect_another_clients_token(http, directory, setup):
    creds, gw, token = setup
    other = partner(directory, "400300", email="other@example.com")
    assert introspect(http, other, token) == INACTIVE


def test_caller_must_authenticate(http, setup):
    creds, gw, token = setup
    response = http.post(URL, data={"token": token})
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    gw.client_secret = "wrong"
    assert_oauth_error(endpoint_request(http, URL, gw, token), 401, "invalid_client")


def test_missing_or_repeated_token_is_invalid_request(http, setup):
    creds, gw, token = setup
    auth = {"Authorization": basic(gw.client_id, gw.client_secret)}
    assert_oauth_error(
        http.post(URL, data={"token_type_hint": "access_token"}, headers=auth),
        400,
        "invalid_request",
    )
    assert_oauth_error(
        http.post(
            URL,
            data=f"token={token}&token={token}",
            content_type="application/x-www-form-urlencoded",
            headers=auth,
        ),
        400,
        "invalid_request",
    )
    assert_oauth_error(http.post(URL, json={"token": token}, headers=auth), 400, "invalid_request")


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "nonsense"])
def test_token_type_hint_is_ignored(http, setup, hint):
    creds, gw, token = setup
    auth = {"Authorization": basic(gw.client_id, gw.client_secret)}
    response = http.post(URL, data={"token": token, "token_type_hint": hint}, headers=auth)
    assert response.status_code == 200
    assert response.get_json()["active"] is True


def test_get_is_405(http):
    assert_oauth_error(http.get(URL), 405, "invalid_request")


@pytest.mark.parametrize("garbage", ["x", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", " ", "ü" * 10])
def test_garbage_is_inactive(http, setup, garbage):
    creds, gw, token = setup
    assert introspect(http, gw, garbage) == INACTIVE


def test_bad_signature_is_inactive(http, setup):
    creds, gw, token = setup
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert introspect(http, gw, f"{head}.{payload}.{flipped}") == INACTIVE


def _server_token(app, creds, *, now, lifetime=300, organizations=ORGS):
    key = app.extensions[EXTENSION].keys.signing_key()
    return tokens.issue(
        key,
        issuer="https://auth.example.test",
        audience="export-subscription-api",
        client_id=creds.client_id,
        api_scopes=["export"],
        organizations=organizations,
        lifetime=lifetime,
        now=now,
    ).access_token


def test_expired_token_is_inactive(app, http, setup):
    creds, gw, _ = setup
    expired = _server_token(app, creds, now=time.time() - 301)
    assert introspect(http, gw, expired) == INACTIVE
    alive = _server_token(app, creds, now=time.time() - 200)
    assert introspect(http, gw, alive)["active"] is True


def test_revoked_jti_is_inactive(http, setup):
    creds, gw, token = setup
    claims = jwt.decode(token, options={"verify_signature": False})
    db.session.add(
        RevokedToken(
            jti=claims["jti"],
            client_id=creds.client_id,
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    )
    db.session.commit()
    assert introspect(http, gw, token) == INACTIVE


def _client(creds):
    return db.session.execute(
        db.select(Client).where(Client.client_id == creds.client_id)
    ).scalar_one()


def test_rotation_that_revokes_tokens_makes_them_inactive_at_once(http, setup):
    creds, gw, token = setup
    rotated = secret_rotation.rotate_client_secret(_client(creds), audit.CLI, revoke_tokens=True)
    assert introspect(http, gw, token) == INACTIVE
    creds.client_secret = rotated.client_secret
    assert introspect(http, creds, token) == INACTIVE


def test_a_token_of_the_new_secret_is_active_right_after_a_revoking_rotation(http, setup):
    """The rotation returns once the revocation's second is over, so a token
    the partner gets at once with its new secret is never taken for revoked."""
    creds, gw, _ = setup
    rotated = secret_rotation.rotate_client_secret(_client(creds), audit.CLI, revoke_tokens=True)
    revoked_at = _client(creds).tokens_invalid_before.timestamp()
    assert time.time() >= math.floor(revoked_at) + 1
    creds.client_secret = rotated.client_secret
    fresh = get_token(http, creds)
    assert introspect(http, gw, fresh)["active"] is True


def test_rotation_without_revocation_keeps_tokens_active(http, setup):
    creds, gw, token = setup
    secret_rotation.rotate_client_secret(_client(creds), audit.CLI)
    assert introspect(http, gw, token)["active"] is True


def test_token_from_the_same_second_as_the_revocation_counts_as_revoked(app, http, setup):
    creds, gw, _ = setup
    iat = int(time.time()) - 10
    token = _server_token(app, creds, now=iat)
    client = _client(creds)
    client.tokens_invalid_before = datetime.fromtimestamp(iat + 0.5, UTC)
    db.session.commit()
    assert introspect(http, gw, token) == INACTIVE
    assert introspect(http, gw, _server_token(app, creds, now=iat + 1))["active"] is True


def test_deleted_client_token_is_inactive(http, setup):
    creds, gw, token = setup
    delete_client(creds.client_id)
    assert introspect(http, gw, token) == INACTIVE


def test_disabled_organization_drops_out_of_the_answer(http, setup):
    creds, gw, token = setup
    set_enabled(creds.client_id, "400200", False)
    body = introspect(http, gw, token)
    assert body["active"] is True
    assert body["organizations"] == ["400100"]
    assert body["scope"] == "export subscription org:400100"
    set_enabled(creds.client_id, "400100", False)
    assert introspect(http, gw, token) == INACTIVE
    set_enabled(creds.client_id, "400100", True)
    assert introspect(http, gw, token)["organizations"] == ["400100"]


def test_unassigned_organization_drops_out(http, setup):
    creds, gw, token = setup
    row = db.session.execute(
        db.select(Assignment).where(Assignment.teccom_id == "400100")
    ).scalar_one()
    db.session.delete(row)
    db.session.commit()
    assert introspect(http, gw, token)["organizations"] == ["400200"]


def test_token_narrowed_to_one_organization_only_reports_it(http, setup):
    creds, gw, _ = setup
    narrowed = get_token(http, creds, scope="org:400200 subscription")
    body = introspect(http, gw, narrowed)
    assert body["organizations"] == ["400200"]
    assert body["scope"] == "subscription org:400200"
    set_enabled(creds.client_id, "400200", False)
    assert introspect(http, gw, narrowed) == INACTIVE


def test_token_of_a_rotated_out_signing_key_stays_active_until_it_expires(app, http, runner, setup):
    creds, gw, token = setup
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    server = app.extensions[EXTENSION]
    server.keys.refresh()
    later = get_token(http, creds)
    assert jwt.get_unverified_header(later)["kid"] != jwt.get_unverified_header(token)["kid"]
    assert introspect(http, gw, token)["active"] is True
    assert introspect(http, gw, later)["active"] is True


def test_the_answer_names_the_client_as_it_is_called_now(http, setup):
    from authserver.services import client_settings

    creds, gw, token = setup
    owner = db.session.execute(
        db.select(Client).where(Client.client_id == creds.client_id)
    ).scalar_one()
    admin = owner.administrators[0].user
    client_settings.update_client(
        admin, creds.client_id, audit.CLI, {"name": "ERP production"}, max_token_lifetime=3600
    )
    assert introspect(http, gw, token)["client_name"] == "ERP production"
    assert introspect(http, creds, token)["client_name"] == "ERP production"
