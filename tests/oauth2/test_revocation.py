"""POST /oauth2/revoke (RFC 7009)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from support.oauth import assert_oauth_error, basic, endpoint_request, gateway, get_token, partner

from authserver import tokens
from authserver.extensions import db
from authserver.models import AuditEvent, RevokedToken
from authserver.models._base import utcnow
from authserver.oauth2.endpoints import EXTENSION

URL = "/oauth2/revoke"


def revoke(http, creds, token, method="basic"):
    return endpoint_request(http, URL, creds, token, method)


def introspect(http, creds, token):
    return endpoint_request(http, "/oauth2/introspect", creds, token).get_json()


def revoked_rows():
    db.session.expire_all()
    return db.session.execute(db.select(RevokedToken)).scalars().all()


@pytest.fixture
def setup(http, directory):
    creds = partner(directory, "400100")
    return creds, gateway(), get_token(http, creds)


@pytest.mark.parametrize("method", ["basic", "post"])
def test_a_client_revokes_its_own_token(http, setup, method):
    creds, gw, token = setup
    response = revoke(http, creds, token, method)
    assert response.status_code == 200
    assert response.get_json() == {}
    assert response.headers["Cache-Control"] == "no-store"
    assert introspect(http, gw, token) == {"active": False}
    claims = jwt.decode(token, options={"verify_signature": False})
    [row] = revoked_rows()
    assert row.jti == claims["jti"] and row.client_id == creds.client_id
    assert row.expires_at == datetime.fromtimestamp(claims["exp"], UTC)
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "token.revoked")
    ).scalar_one()
    assert event.actor == f"client:{creds.client_id}" and event.target == claims["jti"]


def test_other_tokens_of_the_client_stay_active(http, setup):
    creds, gw, token = setup
    second = get_token(http, creds)
    assert revoke(http, creds, token).status_code == 200
    assert introspect(http, gw, second)["active"] is True


def test_revoking_twice_is_fine(http, setup):
    creds, gw, token = setup
    assert revoke(http, creds, token).status_code == 200
    assert revoke(http, creds, token).status_code == 200
    assert len(revoked_rows()) == 1


@pytest.mark.parametrize("garbage", ["x", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_invalid_tokens_get_200(http, setup, garbage):
    creds, gw, token = setup
    response = revoke(http, creds, garbage)
    assert response.status_code == 200 and response.get_json() == {}
    assert revoked_rows() == []


def test_expired_token_gets_200_and_no_record(app, http, setup):
    creds, gw, _ = setup
    key = app.extensions[EXTENSION].keys.signing_key()
    expired = tokens.issue(
        key,
        issuer="https://auth.example.test",
        audience="export-subscription-api",
        client_id=creds.client_id,
        api_scopes=["export"],
        organizations=["400100"],
        lifetime=300,
        now=time.time() - 400,
    ).access_token
    assert revoke(http, creds, expired).status_code == 200
    assert revoked_rows() == []


def test_another_clients_token_is_refused(http, directory, setup):
    creds, gw, token = setup
    other = partner(directory, "400200", email="other@example.com")
    body = assert_oauth_error(revoke(http, other, token), 400, "unauthorized_client")
    assert body["error_description"] == "The client may not revoke this token."
    assert introspect(http, gw, token)["active"] is True


def test_gateway_may_not_revoke(http, setup):
    creds, gw, token = setup
    assert_oauth_error(revoke(http, gw, token), 400, "unauthorized_client")
    assert_oauth_error(revoke(http, gw, "garbage"), 400, "unauthorized_client")
    assert introspect(http, gw, token)["active"] is True


def test_caller_must_authenticate(http, setup):
    creds, gw, token = setup
    assert_oauth_error(http.post(URL, data={"token": token}), 401, "invalid_client")
    creds.client_secret = "wrong"
    assert_oauth_error(revoke(http, creds, token), 401, "invalid_client")


def test_missing_token_is_invalid_request(http, setup):
    creds, gw, token = setup
    auth = {"Authorization": basic(creds.client_id, creds.client_secret)}
    assert_oauth_error(http.post(URL, data={}, headers=auth), 400, "invalid_request")
    assert_oauth_error(http.post(URL, data={"token": ""}, headers=auth), 400, "invalid_request")


@pytest.mark.parametrize("hint", ["refresh_token", "nonsense"])
def test_token_type_hint_is_ignored(http, setup, hint):
    creds, gw, token = setup
    auth = {"Authorization": basic(creds.client_id, creds.client_secret)}
    assert (
        http.post(URL, data={"token": token, "token_type_hint": hint}, headers=auth).status_code
        == 200
    )
    assert introspect(http, gw, token) == {"active": False}


def test_expired_revocation_records_are_purged(http, setup):
    creds, gw, token = setup
    db.session.add(
        RevokedToken(
            jti="old-jti", client_id=creds.client_id, expires_at=utcnow() - timedelta(seconds=1)
        )
    )
    db.session.commit()
    assert revoke(http, creds, token).status_code == 200
    assert [row.jti for row in revoked_rows()] != [] and "old-jti" not in [
        row.jti for row in revoked_rows()
    ]
