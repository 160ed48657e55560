"""TokenValidator: RFC 9068 §4 validation against a real local JWKS server."""

from __future__ import annotations

import dataclasses
import time

import pytest

from authserver.gateway import (
    AccessToken,
    AuthorizationServerUnavailable,
    InvalidToken,
    TokenValidator,
)

from .support import AUDIENCE, IssuerServer, Key, mint


def test_valid_token_gives_typed_claims(
    issuer_server: IssuerServer, validator: TokenValidator
) -> None:
    now = int(time.time())
    token = issuer_server.mint(jti="abc", iat=now, exp=now + 300)

    access_token = validator.validate(token)

    assert access_token == AccessToken(
        client_id="cl_partner",
        subject="cl_partner",
        scopes=frozenset({"export", "subscription", "org:400100", "org:400200"}),
        organizations=("400100", "400200"),
        jti="abc",
        issuer=issuer_server.issuer,
        audience=(AUDIENCE,),
        issued_at=now,
        expires_at=now + 300,
    )
    assert access_token.has_scope("export") and not access_token.has_scope("template")
    assert access_token.allows_organization("400100") and not access_token.allows_organization(
        "400300"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        access_token.client_id = "other"  # type: ignore[misc]


def test_discovery_reads_metadata_once_then_jwks_once(
    issuer_server: IssuerServer, validator: TokenValidator
) -> None:
    for _ in range(50):
        validator.validate(issuer_server.mint())

    assert issuer_server.hits == {"/.well-known/oauth-authorization-server": 1, "/oauth2/jwks": 1}


def test_explicit_jwks_url_skips_discovery(issuer_server: IssuerServer) -> None:
    validator = TokenValidator(issuer_server.issuer, AUDIENCE, jwks_url=issuer_server.jwks_url)

    validator.validate(issuer_server.mint())

    assert issuer_server.hits == {"/oauth2/jwks": 1}


@pytest.mark.parametrize("alg", ["ES256", "ES384", "RS256", "PS256", "EdDSA"])
def test_every_allowed_algorithm(issuer_server: IssuerServer, alg: str) -> None:
    key = Key(alg)
    issuer_server.keys = [key]
    validator = TokenValidator(issuer_server.issuer, AUDIENCE)

    assert validator.validate(mint(key, issuer_server.issuer)).client_id == "cl_partner"


def test_algorithm_outside_configured_subset_is_refused(issuer_server: IssuerServer) -> None:
    validator = TokenValidator(issuer_server.issuer, AUDIENCE, algorithms=["RS256"])

    with pytest.raises(InvalidToken) as error:
        validator.validate(issuer_server.mint())
    assert error.value.description == "The access token's algorithm is not accepted."
    assert issuer_server.hits == {}


def test_typ_media_type_form_is_accepted(
    issuer_server: IssuerServer, validator: TokenValidator
) -> None:
    token = issuer_server.mint(headers={"typ": "application/at+jwt"})

    assert validator.validate(token).client_id == "cl_partner"


def test_audience_list_containing_ours_is_accepted(
    issuer_server: IssuerServer, validator: TokenValidator
) -> None:
    token = issuer_server.mint(aud=["other-api", AUDIENCE])

    assert validator.validate(token).audience == ("other-api", AUDIENCE)


@pytest.mark.parametrize(("skew", "accepted"), [(25, True), (40, False)])
def test_leeway_on_expiry(issuer_server: IssuerServer, skew: int, accepted: bool) -> None:
    validator = TokenValidator(issuer_server.issuer, AUDIENCE, leeway=30)
    now = int(time.time())
    token = issuer_server.mint(iat=now - 300, exp=now - skew)

    if accepted:
        assert validator.validate(token).expires_at == now - skew
    else:
        with pytest.raises(InvalidToken) as error:
            validator.validate(token)
        assert error.value.description == "The access token expired."


@pytest.mark.parametrize(
    "settings",
    [
        {"algorithms": ["HS256"]},
        {"algorithms": ["none"]},
        {"algorithms": ["ES256", "HS256"]},
        {"algorithms": []},
        {"leeway": 61},
        {"leeway": -1},
        {"max_token_length": 10**6},
        {"jwks_url": "http://auth.example.com/jwks"},
        {"refetch_interval": 0},
        {"refetch_burst": 0},
        {"min_ttl": 0},
        {"max_ttl": 10**6},
    ],
)
def test_unsafe_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        TokenValidator("https://auth.example.com", AUDIENCE, **settings)  # type: ignore[arg-type]


def test_plain_http_issuer_off_loopback_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenValidator("http://auth.example.com", AUDIENCE)


def test_metadata_naming_another_issuer_is_not_used(
    issuer_server: IssuerServer, validator: TokenValidator
) -> None:
    issuer_server.metadata_overrides = {"issuer": "https://evil.example"}

    with pytest.raises(AuthorizationServerUnavailable):
        validator.validate(issuer_server.mint())
    assert "/oauth2/jwks" not in issuer_server.hits


def test_metadata_with_jwks_uri_over_plain_http_elsewhere_is_not_used(
    issuer_server: IssuerServer,
    validator: TokenValidator,
) -> None:
    issuer_server.metadata_overrides = {"jwks_uri": "http://evil.example/jwks"}

    with pytest.raises(AuthorizationServerUnavailable):
        validator.validate(issuer_server.mint())


def test_unreachable_issuer_is_unavailable_not_invalid() -> None:
    validator = TokenValidator("http://127.0.0.1:9", AUDIENCE, timeout=1)
    token = mint(Key(), "http://127.0.0.1:9")

    with pytest.raises(AuthorizationServerUnavailable):
        validator.validate(token)


def test_redirect_is_not_followed(issuer_server: IssuerServer) -> None:
    validator = TokenValidator(
        issuer_server.issuer, AUDIENCE, jwks_url=issuer_server.issuer + "/redirect"
    )

    with pytest.raises(AuthorizationServerUnavailable):
        validator.validate(issuer_server.mint())
    assert issuer_server.hits == {"/redirect": 1}


def test_oversized_token_is_refused_before_any_fetch(
    issuer_server: IssuerServer, validator: TokenValidator
) -> None:
    token = issuer_server.mint(padding="x" * 20_000)

    with pytest.raises(InvalidToken) as error:
        validator.validate(token)

    assert error.value.description == "The access token is too long."
    assert issuer_server.hits == {}


def test_max_token_length_is_configurable(issuer_server: IssuerServer) -> None:
    token = issuer_server.mint(padding="x" * 20_000)
    validator = TokenValidator(issuer_server.issuer, AUDIENCE, max_token_length=32 * 1024)

    assert validator.validate(token).client_id == "cl_partner"
