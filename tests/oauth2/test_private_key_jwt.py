"""``private_key_jwt`` (RFC 7523 §2.2, §3; RFC 7521 §4.2) at the token,
introspection and revocation endpoints, and the forged-assertion suite:
every refusal is ``invalid_client`` 401 with one fixed description.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import threading
import time

import jwt
import pytest
from conftest import FAST_ARGON2, make_config
from support.assertions import KeyPair, assertion_form, key_pair, sign
from support.oauth import Creds, assert_oauth_error, basic, partner

from authserver import create_app
from authserver.extensions import db
from authserver.jwks_uri import JwksFetcher
from authserver.models import ClientSecret, UsedAssertion, User
from authserver.oauth2.client_record import load_client
from authserver.oauth2.private_key_jwt import ClientKeyReader
from authserver.services import audit, client_keys

REDIS_URL = os.environ.get("AUTHSERVER_TEST_REDIS_URL")
ISSUER = "https://auth.example.test"
TOKEN_ENDPOINT = ISSUER + "/oauth2/token"
FAILED = {"error": "invalid_client", "error_description": "Client authentication failed."}


def admin() -> User:
    """The administrator that ``partner(directory, "400100")`` made."""
    return db.session.execute(
        db.select(User).where(User.email == "admin-400100@example.com")
    ).scalar_one()


@pytest.fixture
def keyed(directory) -> tuple[Creds, KeyPair]:
    """A partner client with one registered EC P-256 key."""
    creds = partner(directory, "400100")
    pair = key_pair("EC")
    client_keys.add_key(admin(), creds.client_id, audit.CLI, key=pair.public_pem, label="ERP 2026")
    return creds, pair


def post_assertion(http, assertion: str, path: str = "/oauth2/token", **params: str):
    data = assertion_form(assertion, **params)
    if path == "/oauth2/token":
        data["grant_type"] = "client_credentials"
    return http.post(path, data=data)


def refused(response) -> None:
    assert_oauth_error(response, 401, "invalid_client")
    assert response.get_json() == FAILED


# -- what works ---------------------------------------------------------------


def test_a_signed_assertion_gets_a_token(http, keyed):
    creds, pair = keyed
    response = post_assertion(http, sign(pair, creds.client_id, TOKEN_ENDPOINT))
    assert response.status_code == 200, response.get_json()
    claims = jwt.decode(response.get_json()["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == creds.client_id
    assert claims["organizations"] == ["400100"]


@pytest.mark.parametrize("audience", [ISSUER, TOKEN_ENDPOINT, [ISSUER], [TOKEN_ENDPOINT]])
def test_aud_is_the_issuer_or_the_token_endpoint(http, keyed, audience):
    creds, pair = keyed
    response = post_assertion(http, sign(pair, creds.client_id, audience))
    assert response.status_code == 200


def test_client_id_parameter_may_name_the_client(http, keyed):
    creds, pair = keyed
    assertion = sign(pair, creds.client_id, ISSUER)
    assert post_assertion(http, assertion, client_id=creds.client_id).status_code == 200


@pytest.mark.parametrize("kind", ["EC", "EC384", "RSA", "PSS", "OKP"])
def test_every_accepted_algorithm_and_key_form(http, directory, kind):
    creds = partner(directory, "400100")
    pair = key_pair(kind)
    user = admin()
    key = json.dumps(pair.public_jwk()) if kind in {"EC384", "OKP"} else pair.public_pem
    client_keys.add_key(user, creds.client_id, audit.CLI, key=key)
    response = post_assertion(http, sign(pair, creds.client_id, ISSUER))
    assert response.status_code == 200, response.get_json()


def test_a_kid_in_the_header_picks_the_key(http, directory):
    creds = partner(directory, "400100")
    user = admin()
    first, second = key_pair("EC"), key_pair("EC")
    client_keys.add_key(user, creds.client_id, audit.CLI, key=json.dumps(first.public_jwk(kid="a")))
    client_keys.add_key(
        user, creds.client_id, audit.CLI, key=json.dumps(second.public_jwk(kid="b"))
    )
    ok = sign(second, creds.client_id, ISSUER, headers={"kid": "b"})
    assert post_assertion(http, ok).status_code == 200
    no_kid = sign(second, creds.client_id, ISSUER)
    assert post_assertion(http, no_kid).status_code == 200
    refused(post_assertion(http, sign(second, creds.client_id, ISSUER, headers={"kid": "a"})))
    refused(post_assertion(http, sign(second, creds.client_id, ISSUER, headers={"kid": "c"})))


def test_introspection_and_revocation_accept_assertions(http, keyed):
    creds, pair = keyed
    token = post_assertion(http, sign(pair, creds.client_id, ISSUER)).get_json()["access_token"]
    response = post_assertion(
        http, sign(pair, creds.client_id, ISSUER), "/oauth2/introspect", token=token
    )
    assert response.status_code == 200
    assert response.get_json()["active"] is True
    response = post_assertion(
        http, sign(pair, creds.client_id, ISSUER), "/oauth2/revoke", token=token
    )
    assert response.status_code == 200
    response = post_assertion(
        http, sign(pair, creds.client_id, ISSUER), "/oauth2/introspect", token=token
    )
    assert response.get_json() == {"active": False}


def test_a_key_only_client_is_found_and_secrets_can_be_turned_off(http, keyed):
    creds, pair = keyed
    user = admin()
    client_keys.set_secret_authentication(user, creds.client_id, audit.CLI, enabled=False)
    for method in ("basic", "post"):
        if method == "basic":
            response = http.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": basic(creds.client_id, creds.client_secret)},
            )
        else:
            response = http.post(
                "/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": creds.client_id,
                    "client_secret": creds.client_secret,
                },
            )
        refused(response)
    assert post_assertion(http, sign(pair, creds.client_id, ISSUER)).status_code == 200
    # no secret row at all: still found by its key
    db.session.execute(db.delete(ClientSecret))
    db.session.commit()
    assert post_assertion(http, sign(pair, creds.client_id, ISSUER)).status_code == 200


def test_a_removed_key_fails_at_the_next_request(http, keyed):
    creds, pair = keyed
    assert post_assertion(http, sign(pair, creds.client_id, ISSUER)).status_code == 200
    user = admin()
    (key,) = client_keys.list_keys(user, creds.client_id)
    client_keys.remove_key(user, creds.client_id, key.thumbprint, audit.CLI)
    refused(post_assertion(http, sign(pair, creds.client_id, ISSUER)))


def test_a_key_added_works_at_the_next_request(http, keyed):
    """The keys kept by the token path give way to the new version at once."""
    creds, pair = keyed
    assert post_assertion(http, sign(pair, creds.client_id, ISSUER)).status_code == 200
    second = key_pair("RSA")
    refused(post_assertion(http, sign(second, creds.client_id, ISSUER)))
    client_keys.add_key(admin(), creds.client_id, audit.CLI, key=second.public_pem)
    assert post_assertion(http, sign(second, creds.client_id, ISSUER)).status_code == 200


def test_the_keys_are_read_once_per_keys_version(keyed):
    """The client read of each request brings ``keys_version``; the key rows
    are read again only when it changed, and kept by client id (SQLite may
    give a deleted client's row id to a new client, never its client id)."""
    creds, _ = keyed
    (registered,) = client_keys.list_keys(admin(), creds.client_id)
    reader = ClientKeyReader(lambda: db.engine, JwksFetcher())
    reads = []
    query = reader._query
    reader._query = lambda *args, **kwargs: reads.append(args) or query(*args, **kwargs)
    record = load_client(db.session.connection(), creds.client_id)
    assert [k.kid for k in reader(record)] == [registered.kid]
    assert [k.kid for k in reader(record)] == [registered.kid]
    assert len(reads) == 1
    assert len(reader(dataclasses.replace(record, keys_version=record.keys_version + 1))) == 1
    assert len(reads) == 2
    assert reader(dataclasses.replace(record, client_id="cl_reused_row_id")) != []
    assert len(reads) == 3
    query.close()


# -- the forged-assertion suite -----------------------------------------------


class FromNow(int):
    """A time claim, in seconds from the moment the test signs (not from collection)."""

    def at(self, now: float) -> int:
        return int(now) + int(self)

    def __repr__(self) -> str:
        return f"now{int(self):+d}s"


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "https://elsewhere.example"},
        {"aud": ISSUER + "/"},
        {"aud": [ISSUER, "https://elsewhere.example"]},
        {"aud": None},
        {"exp": FromNow(-120)},  # expired (beyond the leeway)
        {"exp": FromNow(600)},  # more than 5 minutes ahead
        {"exp": None},
        {"exp": "soon"},
        {"exp": float("nan")},  # json reads NaN: a number no comparison refuses
        {"exp": True},
        {"iat": float("nan")},
        {"iat": FromNow(600)},  # issued in the future
        {"nbf": FromNow(600)},  # not yet valid
        {"jti": None},
        {"jti": ""},
        {"iss": "cl_someone_else"},
        {"sub": "cl_someone_else"},
    ],
    ids=lambda c: ",".join(f"{k}={v!r}" for k, v in c.items()),
)
def test_wrong_claims_are_refused(http, keyed, changes):
    creds, pair = keyed
    claims = {k: v.at(time.time()) if isinstance(v, FromNow) else v for k, v in changes.items()}
    refused(post_assertion(http, sign(pair, creds.client_id, ISSUER, **claims)))


def test_a_replayed_jti_is_refused(http, keyed):
    creds, pair = keyed
    assertion = sign(pair, creds.client_id, ISSUER)
    assert post_assertion(http, assertion).status_code == 200
    refused(post_assertion(http, assertion))
    # a new assertion that reuses the jti, too
    jti = jwt.decode(assertion, options={"verify_signature": False})["jti"]
    refused(post_assertion(http, sign(pair, creds.client_id, ISSUER, jti=jti)))
    # and the store expires the entry with the assertion
    row = db.session.execute(db.select(UsedAssertion)).scalar_one()
    assert row.expires_at.timestamp() <= time.time() + 60 + 30 + 1


def test_an_assertion_signed_with_another_key_is_refused(http, keyed):
    creds, _ = keyed
    refused(post_assertion(http, sign(key_pair("EC"), creds.client_id, ISSUER)))


def test_hmac_with_the_public_key_as_secret_is_refused(http, keyed):
    """Algorithm confusion: HS256 keyed with the registered public key's PEM."""
    creds, pair = keyed
    header = {"alg": "HS256", "typ": "JWT"}
    payload = jwt.decode(sign(pair, creds.client_id, ISSUER), options={"verify_signature": False})
    forged = _hs256(header, payload, pair.public_pem.encode())
    refused(post_assertion(http, forged))


def test_alg_none_is_refused(http, keyed):
    creds, pair = keyed
    payload = jwt.decode(sign(pair, creds.client_id, ISSUER), options={"verify_signature": False})
    unsigned = _b64(json.dumps({"alg": "none"})) + "." + _b64(json.dumps(payload)) + "."
    refused(post_assertion(http, unsigned))


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_key_material_in_the_header_is_refused(http, keyed, member):
    """Even with a good signature: the key must be the registered one."""
    creds, pair = keyed
    value = {
        "jwk": pair.public_jwk(),
        "jku": "https://attacker.example/jwks",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIB"],
    }[member]
    refused(post_assertion(http, sign(pair, creds.client_id, ISSUER, headers={member: value})))


def test_an_oversized_assertion_is_refused(http, keyed):
    creds, pair = keyed
    refused(post_assertion(http, sign(pair, creds.client_id, ISSUER, padding="x" * 5000)))


@pytest.mark.parametrize(
    "garbage",
    ["", "a.b.c", "not-a-jwt", "e30.e30.", "W10.W10.sig", "e30.W10.sig", "e30.e30.sig.x",
     "e30.e30.s\u00e9g", "e30..sig", "%%%.e30.sig"],
)  # fmt: skip
def test_malformed_assertions_are_refused(http, keyed, garbage):
    refused(post_assertion(http, garbage))


def test_an_unknown_assertion_type_is_refused(http, keyed):
    creds, pair = keyed
    data = assertion_form(sign(pair, creds.client_id, ISSUER), grant_type="client_credentials")
    data["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    refused(http.post("/oauth2/token", data=data))


def test_a_client_id_parameter_naming_another_client_is_refused(http, keyed):
    creds, pair = keyed
    refused(post_assertion(http, sign(pair, creds.client_id, ISSUER), client_id="cl_other"))


def test_an_assertion_for_an_unknown_client_is_refused(http, keyed):
    _, pair = keyed
    refused(post_assertion(http, sign(pair, "cl_nobody", ISSUER)))


def test_two_methods_at_once_are_invalid_request(http, keyed):
    creds, pair = keyed
    assertion = sign(pair, creds.client_id, ISSUER)
    response = http.post(
        "/oauth2/token",
        data=assertion_form(assertion, grant_type="client_credentials"),
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    body = assert_oauth_error(response, 400, "invalid_request")
    assert body["error_description"] == (
        "The request uses more than one client authentication method."
    )
    response = post_assertion(
        http, assertion, client_id=creds.client_id, client_secret=creds.client_secret
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_failed_assertions_count_toward_the_failure_throttle(database_url, tmp_path, directory):
    app = create_app(make_config(database_url, tmp_path, AUTH_FAILURE_LIMIT="3/minute"))
    http = app.test_client()
    creds = partner(directory, "400100")
    wrong = key_pair("EC")
    for _ in range(3):
        refused(post_assertion(http, sign(wrong, creds.client_id, ISSUER)))
    response = post_assertion(http, sign(wrong, creds.client_id, ISSUER))
    assert_oauth_error(response, 429, "temporarily_unavailable")
    assert int(response.headers["Retry-After"]) >= 1


def test_a_jti_is_used_once_across_two_instances_at_once(app, keyed, database_url, tmp_path):
    """Two app instances (processes' worth of state each) on one database race
    with the same assertion: exactly one wins (on PostgreSQL, the real race)."""
    creds, pair = keyed
    other = create_app(make_config(database_url, tmp_path, **FAST_ARGON2))
    clients = [app.test_client(), other.test_client()]
    for round_ in range(5):
        assertion = sign(pair, creds.client_id, ISSUER)
        statuses = _race(clients, assertion, 4)
        assert sorted(statuses) == [200, 401, 401, 401], round_
    with other.app_context():
        db.engine.dispose()


def _race(clients, assertion: str, count: int) -> list[int]:
    """*count* threads post *assertion* at once, alternating between *clients*."""
    statuses: list[int] = []
    barrier = threading.Barrier(count)

    def post(index: int) -> None:
        barrier.wait()
        statuses.append(post_assertion(clients[index % len(clients)], assertion).status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _hs256(header: dict, payload: dict, secret: bytes) -> str:
    import hashlib
    import hmac

    signing_input = _b64(json.dumps(header)) + "." + _b64(json.dumps(payload))
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@pytest.mark.skipif(not REDIS_URL, reason="AUTHSERVER_TEST_REDIS_URL is not set")
def test_with_redis_a_jti_is_used_once_across_two_instances(keyed, database_url, tmp_path):
    creds, pair = keyed
    apps = [create_app(make_config(database_url, tmp_path, REDIS_URL=REDIS_URL)) for _ in range(2)]
    assertion = sign(pair, creds.client_id, ISSUER)
    statuses = _race([a.test_client() for a in apps], assertion, 4)
    assert sorted(statuses) == [200, 401, 401, 401]
    assert db.session.execute(db.select(UsedAssertion)).scalars().all() == []  # in Redis
    for instance in apps:
        with instance.app_context():
            db.engine.dispose()
