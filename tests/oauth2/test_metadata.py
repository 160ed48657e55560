"""RFC 8414 metadata and the JWK Set."""

from __future__ import annotations

import jwt
import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from support.oauth import get_token, partner

from authserver.oauth2.endpoints import jwks_max_age

ISSUER = "https://auth.example.test"
METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
#: asymmetric only: never none or an HMAC (RFC 8414 §2 forbids "none" here)
ALGORITHMS = ["ES256", "ES384", "PS256", "RS256", "EdDSA"]


def test_metadata_describes_this_server(http):
    response = http.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body == {
        "issuer": ISSUER,
        "token_endpoint": ISSUER + "/oauth2/token",
        "jwks_uri": ISSUER + "/oauth2/jwks",
        "introspection_endpoint": ISSUER + "/oauth2/introspect",
        "revocation_endpoint": ISSUER + "/oauth2/revoke",
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": METHODS,
        "introspection_endpoint_auth_methods_supported": METHODS,
        "revocation_endpoint_auth_methods_supported": METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "introspection_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "revocation_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "scopes_supported": ["export", "subscription"],
    }
    # Authlib's validators, but for its reading of an empty response_types_supported
    # as missing: RFC 8414 §2 requires the array, and this server has no response types.
    metadata = AuthorizationServerMetadata(body)
    for name in dir(metadata):
        if name.startswith("validate_") and name != "validate_response_types_supported":
            getattr(metadata, name)()


def test_issuer_is_the_tokens_iss(http, directory):
    token = get_token(http, partner(directory, "400100"))
    metadata = http.get("/.well-known/oauth-authorization-server").get_json()
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == metadata["issuer"]


def test_jwks_verifies_tokens(http, directory):
    token = get_token(http, partner(directory, "400100"))
    response = http.get("/oauth2/jwks")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    jwks = jwt.PyJWKSet.from_dict(response.get_json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = jwt.decode(
        token, key, algorithms=["ES256"], audience="export-subscription-api", issuer=ISSUER
    )
    assert claims["organizations"] == ["400100"]
    for jwk in response.get_json()["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}


def test_jwks_and_metadata_refuse_post(http):
    assert http.post("/oauth2/jwks").status_code == 405
    assert http.post("/.well-known/oauth-authorization-server").status_code == 405


@pytest.mark.parametrize(
    ("delay", "key_cache", "max_age"),
    [(600, 30, 300), (90, 30, 60), (30, 30, 0), (0, 30, 0), (2, 1, 1)],
)
def test_jwks_may_be_cached_only_while_no_new_key_can_be_signing(delay, key_cache, max_age):
    config = {"KEY_ACTIVATION_DELAY": delay, "KEY_CACHE_SECONDS": key_cache}
    assert jwks_max_age(config) == max_age
