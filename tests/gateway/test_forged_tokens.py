"""The forged-token suite against both validators: every token refused with
InvalidToken (RFC 6750 ``invalid_token``), none crashes, none is accepted."""

from __future__ import annotations

import tracemalloc

import pytest

from authserver.gateway import IntrospectionValidator, InvalidToken, TokenValidator

from .forged_tokens import FORGED, Forge
from .support import IssuerServer


@pytest.fixture
def forge(issuer_server: IssuerServer) -> Forge:
    return Forge(issuer_server.issuer, issuer_server.key)


def test_the_forge_makes_valid_tokens_too(
    forge: Forge, validator: TokenValidator, introspector: IntrospectionValidator
) -> None:
    """The suite's baseline: without the forgery, both validators accept."""
    assert validator.validate(forge.valid()).client_id == "cl_partner"
    assert introspector.validate(forge.valid()).client_id == "cl_partner"


@pytest.mark.parametrize("name", sorted(FORGED))
def test_token_validator_refuses(name: str, forge: Forge, validator: TokenValidator) -> None:
    token = FORGED[name](forge)

    with pytest.raises(InvalidToken) as error:
        validator.validate(token)

    assert type(error.value) is InvalidToken
    assert error.value.status_code == 401 and error.value.error == "invalid_token"


@pytest.mark.parametrize("name", sorted(FORGED))
def test_introspection_validator_refuses(
    name: str, forge: Forge, introspector: IntrospectionValidator
) -> None:
    token = FORGED[name](forge)

    with pytest.raises(InvalidToken) as error:
        introspector.validate(token)

    assert type(error.value) is InvalidToken
    assert error.value.status_code == 401 and error.value.error == "invalid_token"


def test_refusing_the_whole_suite_fetches_the_jwks_once(
    forge: Forge,
    validator: TokenValidator,
    issuer_server: IssuerServer,
) -> None:
    """Only the one unknown-kid token costs a re-fetch: every other forgery
    is refused from its header or with the cached keys."""
    validator.validate(forge.valid())
    for build in FORGED.values():
        with pytest.raises(InvalidToken):
            validator.validate(build(forge))

    assert issuer_server.hits["/oauth2/jwks"] == 2


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
        {"jwk": {"kty": "EC"}},
        {"x5c": ["AAAA"]},
    ],
)
def test_key_source_headers_are_refused_even_on_a_trusted_signature(
    header: dict[str, object],
    forge: Forge,
    validator: TokenValidator,
) -> None:
    with pytest.raises(InvalidToken) as error:
        validator.validate(forge.valid(headers=header))
    assert error.value.description == "The access token has a forbidden header parameter."


def test_oversized_tokens_are_refused_without_reaching_the_server(
    forge: Forge,
    validator: TokenValidator,
    introspector: IntrospectionValidator,
    issuer_server: IssuerServer,
) -> None:
    for name in ("oversized-valid-signature", "oversized-1mb"):
        token = FORGED[name](forge)
        for checker in (validator, introspector):
            with pytest.raises(InvalidToken) as error:
                checker.validate(token)
            assert error.value.description == "The access token is too long."
    assert issuer_server.hits == {}


def test_a_huge_token_is_refused_in_bounded_memory(
    validator: TokenValidator, issuer_server: IssuerServer
) -> None:
    """64 MiB of token is refused by its length alone: no parse, no copy, no
    request to the server (memory is measured, not time: STYLE.md)."""
    token = "a" * (64 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidToken) as error:
            validator.validate(token)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.value.description == "The access token is too long."
    assert peak < 256 * 1024  # a copy, a split or a decode of the token would be megabytes
    assert issuer_server.hits == {}
