"""``private_key_jwt`` end to end: a real gunicorn server, Authlib's client
with ``PrivateKeyJWT``, and the README's partner example run as written.

Runs on SQLite and (with AUTHSERVER_TEST_DATABASE_URL) on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from conftest import Directory
from joserfc.jwk import ECKey, RSAKey
from support.assertions import assertion_form, key_pair, keyed_partner, sign

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example(name: str) -> str:
    """The Python block after ``<!-- example: name -->`` in the README, dedented."""
    text = README.read_text()
    found = re.search(
        rf"<!-- example: {re.escape(name)} -->\n *```python\n(.*?)\n *```", text, re.DOTALL
    )
    assert found, name
    return textwrap.dedent(found.group(1))


def register(teccom_id: str, public_key: str) -> str:
    """A new client for *teccom_id* with *public_key* registered; its client id."""
    return keyed_partner(Directory(), teccom_id, public_key, label="e2e")


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(
            auth.client_secret, auth.client_id, token_endpoint, alg=self.alg, expires_in=60
        )


@pytest.mark.parametrize("kind", ["EC", "RSA"])
def test_authlib_private_key_jwt_client_gets_tokens(server, data, kind):
    pair = key_pair(kind)
    client_id = register("610100" if kind == "EC" else "610200", pair.public_pem)
    key = (ECKey if kind == "EC" else RSAKey).import_key(pair.private_pem)
    token_endpoint = server.url + "/oauth2/token"
    session = OAuth2Session(client_id, key, token_endpoint_auth_method="private_key_jwt")
    session.register_client_auth_method(ShortLivedPrivateKeyJWT(token_endpoint, alg=pair.alg))
    for _ in range(2):  # a fresh jti each time
        token = session.fetch_token(token_endpoint, grant_type="client_credentials")
        claims = jwt.decode(token["access_token"], options={"verify_signature": False})
        assert claims["client_id"] == client_id
    session.close()


def test_authlib_default_hour_long_assertion_is_refused(server, data):
    """Authlib signs for an hour by default; the server takes at most 5 minutes."""
    pair = key_pair("EC")
    client_id = register("610300", pair.public_pem)
    token_endpoint = server.url + "/oauth2/token"
    session = OAuth2Session(
        client_id, ECKey.import_key(pair.private_pem), token_endpoint_auth_method="private_key_jwt"
    )
    session.register_client_auth_method(PrivateKeyJWT(token_endpoint, alg="ES256"))
    response = session.post(
        token_endpoint,
        data={"grant_type": "client_credentials"},
        withhold_token=True,
        auth=session.client_auth,
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    session.close()


def test_the_readme_example_runs_as_written(server, data, tmp_path):
    env = {**os.environ, "TOKEN_ENDPOINT": server.url + "/oauth2/token"}
    made = subprocess.run(
        [sys.executable, "-c", readme_example("make-key-pair")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    client_id = register("610400", (tmp_path / "partner-key.pub.pem").read_text())
    got = subprocess.run(
        [sys.executable, "-c", readme_example("get-token")],
        cwd=tmp_path,
        env={**env, "CLIENT_ID": client_id},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert got.returncode == 0, got.stderr
    claims = jwt.decode(got.stdout.strip(), options={"verify_signature": False})
    assert claims["client_id"] == client_id
    assert claims["organizations"] == ["610400"]


def test_a_replayed_assertion_is_refused_by_every_worker(server, data):
    pair = key_pair("EC")
    client_id = register("610500", pair.public_pem)
    assertion = sign(pair, client_id, server.url)
    form = assertion_form(assertion, grant_type="client_credentials")
    statuses = [
        requests.post(server.url + "/oauth2/token", data=form, timeout=10).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 401, 401, 401]
