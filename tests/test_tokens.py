"""The access-token format (RFC 9068) and its verification."""

from __future__ import annotations

import time

import jwt
import pytest
from conftest import make_config
from cryptography.hazmat.primitives.asymmetric import ec
from support.oauth import partner, token_request

from authserver import tokens
from authserver.keys.material import LoadedKey, generate_private_key, public_jwk
from authserver.models._base import utcnow

ISS = "https://auth.example.test"
AUD = "export-subscription-api"


def make_key(alg: str = "ES256") -> LoadedKey:
    private = generate_private_key(alg)
    jwk = public_jwk(private.public_key(), alg)
    return LoadedKey(jwk["kid"], alg, private, private.public_key(), jwk, utcnow(), None)


def issue(key: LoadedKey, **overrides):
    args = dict(
        issuer=ISS,
        audience=AUD,
        client_id="cl_a",
        api_scopes=["export", "subscription"],
        organizations=["400200", "400100"],
        lifetime=300,
    )
    args.update(overrides)
    return tokens.issue(key, **args)


def decode(token: str, key: LoadedKey, **overrides):
    args = dict(keys={key.kid: key}.get, issuer=ISS, audience=AUD)
    args.update(overrides)
    return tokens.decode(token, **args)


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_token_has_the_rfc_9068_header_and_claims(alg):
    key = make_key(alg)
    issued = issue(key, now=1_800_000_000)
    header = jwt.get_unverified_header(issued.access_token)
    assert header == {"typ": "at+jwt", "alg": alg, "kid": key.kid}
    claims = jwt.decode(
        issued.access_token,
        key.public_key,
        algorithms=[alg],
        audience=AUD,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert set(claims) == {
        "iss",
        "sub",
        "client_id",
        "aud",
        "iat",
        "exp",
        "jti",
        "scope",
        "organizations",
    }
    assert claims["iss"] == ISS
    assert claims["sub"] == claims["client_id"] == "cl_a"
    assert claims["aud"] == AUD
    assert claims["iat"] == 1_800_000_000
    assert claims["exp"] == 1_800_000_300
    assert claims["organizations"] == ["400100", "400200"]
    assert claims["scope"] == "export subscription org:400100 org:400200"
    assert issued.response() == {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": claims["scope"],
    }


def test_every_token_has_its_own_jti():
    key = make_key()
    jtis = {
        jwt.decode(issue(key).access_token, options={"verify_signature": False})["jti"]
        for _ in range(50)
    }
    assert len(jtis) == 50


def test_a_valid_token_decodes():
    key = make_key()
    claims = decode(issue(key).access_token, key)
    assert claims is not None and claims["client_id"] == "cl_a"


def test_expired_token_is_invalid():
    key = make_key()
    token = issue(key, now=time.time() - 301).access_token
    assert decode(token, key) is None
    assert decode(issue(key, lifetime=10).access_token, key, now=time.time() + 10) is None


def test_unknown_kid_is_invalid():
    key = make_key()
    assert decode(issue(key).access_token, key, keys=lambda kid: None) is None


def test_signature_by_another_key_with_the_same_kid_is_invalid():
    key = make_key()
    impostor = make_key()
    forged = LoadedKey(
        key.kid, "ES256", impostor.private_key, impostor.public_key, key.public_jwk, utcnow(), None
    )
    assert decode(issue(forged).access_token, key) is None


def test_tampered_payload_is_invalid():
    key = make_key()
    head, payload, signature = issue(key).access_token.split(".")
    other_payload = issue(key, client_id="cl_b").access_token.split(".")[1]
    assert decode(f"{head}.{other_payload}.{signature}", key) is None


@pytest.mark.parametrize("typ", ["JWT", None, "at+JWT+x"])
def test_wrong_typ_is_invalid(typ):
    key = make_key()
    claims = jwt.decode(issue(key).access_token, options={"verify_signature": False})
    token = jwt.encode(
        claims, key.private_key, algorithm="ES256", headers={"kid": key.kid, "typ": typ}
    )
    assert jwt.get_unverified_header(token).get("typ") == typ
    assert decode(token, key) is None


def test_alg_that_is_not_the_keys_is_invalid():
    key = make_key()
    claims = jwt.decode(issue(key).access_token, options={"verify_signature": False})
    none_token = jwt.encode(
        claims, None, algorithm="none", headers={"kid": key.kid, "typ": "at+jwt"}
    )
    assert decode(none_token, key) is None
    hmac_token = jwt.encode(
        claims, "secret" * 6, algorithm="HS256", headers={"kid": key.kid, "typ": "at+jwt"}
    )
    assert decode(hmac_token, key) is None


def test_foreign_issuer_or_audience_is_invalid():
    key = make_key()
    assert decode(issue(key, issuer="https://evil.example").access_token, key) is None
    assert decode(issue(key, audience="template-api").access_token, key) is None


def test_missing_claim_is_invalid():
    key = make_key()
    claims = jwt.decode(issue(key).access_token, options={"verify_signature": False})
    del claims["organizations"]
    token = jwt.encode(
        claims, key.private_key, algorithm="ES256", headers={"kid": key.kid, "typ": "at+jwt"}
    )
    assert decode(token, key) is None


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "x" * 9000, None, 42])
def test_garbage_is_invalid(garbage):
    key = make_key()
    assert decode(garbage, key) is None


def test_scope_format_and_parse_round_trip():
    scope = tokens.format_scope(["subscription", "export"], ["400300", "400100"])
    assert scope == "export subscription org:400100 org:400300"
    assert tokens.parse_scope(scope) == (["export", "subscription"], ["400100", "400300"])


@pytest.fixture
def app_config(database_url, tmp_path, request):
    overrides = getattr(request, "param", {})
    return make_config(database_url, tmp_path, **overrides)


@pytest.mark.parametrize("app_config", [{"TOKEN_LIFETIME": 60}], indirect=True)
def test_lifetime_is_configurable(http, directory):
    creds = partner(directory, "400100")
    body = token_request(http, creds).get_json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert body["expires_in"] == 60
    assert claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize(
    "app_config", [{"SIGNING_ALG": "EdDSA"}, {"SIGNING_ALG": "RS256"}], indirect=True
)
def test_signing_algorithm_is_configurable(app, http, directory):
    creds = partner(directory, "400100")
    token = token_request(http, creds).get_json()["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == app.config["SIGNING_ALG"]
    jwks = http.get("/oauth2/jwks").get_json()
    assert [key["alg"] for key in jwks["keys"]] == [app.config["SIGNING_ALG"]]
    signing_key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(token, signing_key, algorithms=[header["alg"]], audience=AUD)
    assert claims["organizations"] == ["400100"]


def test_ec_keys_are_p256():
    assert isinstance(make_key().private_key, ec.EllipticCurvePrivateKey)
    assert make_key().private_key.curve.name == "secp256r1"


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_tokens_are_pyjwts_compact_serialization(alg):
    """The header and claims segments are what ``jwt.encode`` makes, byte for
    byte, and PyJWT verifies the signature (RFC 7515 §7.1)."""
    key = make_key(alg)
    issued = issue(key)
    reference = jwt.encode(
        issued.claims, key.private_key, algorithm=alg, headers={"typ": "at+jwt", "kid": key.kid}
    )
    assert issued.access_token.rsplit(".", 1)[0] == reference.rsplit(".", 1)[0]
    claims = jwt.decode(issued.access_token, key.public_key, algorithms=[alg], audience=AUD)
    assert claims == issued.claims
