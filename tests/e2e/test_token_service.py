"""End to end: a real gunicorn server, real OAuth client libraries, real JWT verification.

Runs on SQLite and (with AUTHSERVER_TEST_DATABASE_URL) on a fresh PostgreSQL
database named after the test database plus ``_e2e``.
"""

from __future__ import annotations

import base64
import itertools
from urllib.parse import quote_plus

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from conftest import Directory
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session
from support.oauth import Creds, custom_client, delete_client, gateway, partner, set_enabled

from authserver.extensions import db
from authserver.models import Client
from authserver.services import audit, secret_rotation

pytestmark = pytest.mark.e2e

AUDIENCE = "export-subscription-api"
_ids = itertools.count(500000, 1000)


def new_partner(*extra: int) -> tuple[Creds, list[str]]:
    first = str(next(_ids))
    orgs = [first] + [str(int(first) + n) for n in extra]
    return partner(Directory(), *orgs, email=f"admin-{first}@example.com"), orgs


def post_token(server, creds: Creds, **params: str) -> requests.Response:
    auth = f"{quote_plus(creds.client_id)}:{quote_plus(creds.client_secret)}"
    return requests.post(
        server.url + "/oauth2/token",
        data={"grant_type": "client_credentials", **params},
        headers={"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()},
        timeout=10,
    )


def call(server, path: str, creds: Creds, token: str) -> requests.Response:
    return requests.post(
        server.url + path,
        data={"token": token},
        auth=(creds.client_id, creds.client_secret),
        timeout=10,
    )


def verify(server, token: str) -> dict:
    """Verify like an API gateway would: PyJWT's PyJWKClient against the server's JWKS."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    signing_key = jwt.PyJWKClient(server.url + "/oauth2/jwks").get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        signing_key,
        algorithms=[header["alg"]],
        audience=AUDIENCE,
        issuer=server.url,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )


def test_metadata_issuer_is_the_server(server):
    metadata = requests.get(
        server.url + "/.well-known/oauth-authorization-server", timeout=10
    ).json()
    assert metadata["issuer"] == server.url
    assert metadata["token_endpoint"] == server.url + "/oauth2/token"
    assert metadata["jwks_uri"] == server.url + "/oauth2/jwks"


@pytest.mark.parametrize("include_client_id", [False, True], ids=["basic", "post"])
def test_requests_oauthlib_backend_application_client(server, data, monkeypatch, include_client_id):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback
    creds, orgs = new_partner(1)
    session = OAuth2Session(client=BackendApplicationClient(client_id=creds.client_id))
    token = session.fetch_token(
        server.url + "/oauth2/token",
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        include_client_id=include_client_id,
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 300
    claims = verify(server, token["access_token"])
    assert claims["organizations"] == sorted(orgs)
    assert claims["client_id"] == claims["sub"] == creds.client_id
    assert claims["exp"] - claims["iat"] == 300


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_oauth2_session(server, data, method):
    creds, orgs = new_partner()
    with AuthlibSession(
        creds.client_id, creds.client_secret, token_endpoint_auth_method=method, scope="export"
    ) as session:
        token = session.fetch_token(server.url + "/oauth2/token", grant_type="client_credentials")
    assert token["scope"] == f"export org:{orgs[0]}"
    claims = verify(server, token["access_token"])
    assert claims["scope"] == f"export org:{orgs[0]}"
    assert claims["organizations"] == orgs


def test_introspect_revoke_introspect(server, data):
    creds, orgs = new_partner()
    gw = gateway(f"gw-{orgs[0]}")
    token = post_token(server, creds).json()["access_token"]
    active = call(server, "/oauth2/introspect", gw, token)
    assert active.status_code == 200
    assert active.headers["Cache-Control"] == "no-store"
    body = active.json()
    assert body["active"] is True and body["client_id"] == creds.client_id
    assert body["organizations"] == orgs and body["token_type"] == "Bearer"
    revoked = call(server, "/oauth2/revoke", creds, token)
    assert revoked.status_code == 200 and revoked.json() == {}
    assert call(server, "/oauth2/introspect", gw, token).json() == {"active": False}


def test_special_characters_in_basic_credentials(server, data):
    creds = custom_client(f"cl:ü +%/{next(_ids)}", "s3cr:t +%&=/?#ü", str(next(_ids)))
    assert post_token(server, creds).status_code == 200
    url_safe = custom_client(
        f"cl_urlsafe{next(_ids)}",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        str(next(_ids)),
    )
    assert post_token(server, url_safe).status_code == 200
    response = requests.post(
        server.url + "/oauth2/token",
        timeout=10,
        data={
            "grant_type": "client_credentials",
            "client_id": url_safe.client_id,
            "client_secret": url_safe.client_secret,
        },
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic %%%not-base64%%%",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic ",
        "Basic",
    ],
)
def test_malformed_basic_headers(server, authorization):
    response = requests.post(
        server.url + "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": authorization},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_bad_requests_get_exact_errors_and_never_500(server, data):
    creds, _ = new_partner()
    url = server.url + "/oauth2/token"
    cases = [
        (
            requests.post(
                url,
                json={"grant_type": "client_credentials"},
                auth=(creds.client_id, creds.client_secret),
                timeout=10,
            ),
            400,
            "invalid_request",
        ),
        (post_token(server, Creds("cl_nobody", "x" * 43)), 401, "invalid_client"),
        (post_token(server, Creds(creds.client_id, "wrong")), 401, "invalid_client"),
        (post_token(server, Creds(creds.client_id, "")), 401, "invalid_client"),
        (post_token(server, creds, scope="template"), 400, "invalid_scope"),
        (post_token(server, creds, grant_type="password"), 400, "unsupported_grant_type"),
        (
            requests.post(
                url,
                data={"grant_type": "client_credentials", "pad": "x" * 20000},
                auth=(creds.client_id, creds.client_secret),
                timeout=10,
            ),
            413,
            "invalid_request",
        ),
        (requests.get(url, timeout=10), 405, "invalid_request"),
    ]
    for response, status, error in cases:
        assert (response.status_code, response.json()["error"]) == (status, error)
        assert response.headers["Cache-Control"] == "no-store"


def _client(creds: Creds) -> Client:
    return db.session.execute(
        db.select(Client).where(Client.client_id == creds.client_id)
    ).scalar_one()


def test_changes_take_effect_at_once_in_every_worker(server, data):
    creds, orgs = new_partner(1)
    gw = gateway(f"gw-{orgs[0]}")
    token = post_token(server, creds).json()["access_token"]
    for _ in range(4):  # both workers have verified (and cached) the secret by now
        assert post_token(server, creds).status_code == 200
    set_enabled(creds.client_id, orgs[1], False)
    for _ in range(4):
        assert call(server, "/oauth2/introspect", gw, token).json()["organizations"] == [orgs[0]]
        assert post_token(server, creds).json()["scope"] == f"export subscription org:{orgs[0]}"
    rotated = secret_rotation.rotate_client_secret(_client(creds), audit.CLI, revoke_tokens=True)
    for _ in range(4):
        assert post_token(server, creds).status_code == 401
        assert call(server, "/oauth2/introspect", gw, token).json() == {"active": False}
    creds.client_secret = rotated.client_secret
    assert post_token(server, creds).status_code == 200
    delete_client(creds.client_id)
    for _ in range(4):
        assert post_token(server, creds).status_code == 401


def test_key_rotation_keeps_tokens_in_flight_valid(server, data):
    creds, _ = new_partner()
    gw = gateway(f"gw-rot-{creds.client_id}")
    before = post_token(server, creds).json()["access_token"]
    result = server.cli("keys", "rotate")
    assert result.returncode == 0, result.stderr
    jwks = requests.get(server.url + "/oauth2/jwks", timeout=10).json()
    assert len(jwks["keys"]) >= 2
    assert jwt.get_unverified_header(before)["kid"] in {key["kid"] for key in jwks["keys"]}
    assert verify(server, before)["client_id"] == creds.client_id
    assert call(server, "/oauth2/introspect", gw, before).json()["active"] is True
    after = post_token(server, creds).json()["access_token"]
    assert verify(server, after)["client_id"] == creds.client_id
    listing = server.cli("keys", "list")
    assert listing.returncode == 0 and "active" in listing.stdout and "retiring" in listing.stdout
