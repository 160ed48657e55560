"""TokenValidator's cache of verified tokens: a token seen before is not
verified again, but never outlives its ``exp`` or the key that verified it."""

from __future__ import annotations

import time

import pytest

from authserver.gateway import InvalidToken, TokenValidator
from authserver.gateway import validator as validator_module
from authserver.gateway.token_cache import VerifiedTokenCache, token_digest

from .support import AUDIENCE, FakeClock, IssuerServer, Key


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cached(issuer_server: IssuerServer, clock: FakeClock) -> TokenValidator:
    return TokenValidator(
        issuer_server.issuer, AUDIENCE, jwks_url=issuer_server.jwks_url, clock=clock
    )


def count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every header the validator checks is a signature it is about to verify."""
    checked: list[str] = []
    original = TokenValidator._validate_header

    def spy(self: TokenValidator, header: dict[str, object]) -> tuple[str, str]:
        checked.append(str(header.get("kid")))
        return original(self, header)

    monkeypatch.setattr(TokenValidator, "_validate_header", spy)
    return checked


def test_a_token_seen_before_is_not_verified_again(
    issuer_server: IssuerServer, cached: TokenValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified = count_verifications(monkeypatch)
    token = issuer_server.mint()

    first = cached.validate(token)
    again = [cached.validate(token) for _ in range(3)]

    assert again == [first] * 3
    assert verified == [issuer_server.key.kid]


def test_the_cache_is_keyed_by_the_sha256_of_the_token(
    issuer_server: IssuerServer, cached: TokenValidator
) -> None:
    token = issuer_server.mint()

    cached.validate(token)

    assert list(cached.verified._entries) == [token_digest(token)]
    assert len(token_digest(token)) == 32


def test_an_expired_token_is_refused_although_cached(
    issuer_server: IssuerServer, cached: TokenValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = int(time.time())
    token = issuer_server.mint(iat=now, exp=now + 60)
    cached.validate(token)

    monkeypatch.setattr(validator_module.time, "time", lambda: now + 60.5 + 30)

    with pytest.raises(InvalidToken) as error:
        cached.validate(token)
    assert error.value.description == "The access token expired."
    assert len(cached.verified) == 0


def test_past_exp_within_the_leeway_the_token_is_verified_again(
    issuer_server: IssuerServer, cached: TokenValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = int(time.time())
    token = issuer_server.mint(iat=now, exp=now + 60)
    cached.validate(token)
    verified = count_verifications(monkeypatch)
    monkeypatch.setattr(validator_module.time, "time", lambda: now + 70)

    assert cached.validate(token).expires_at == now + 60
    assert verified == [issuer_server.key.kid]
    assert len(cached.verified) == 0


def test_a_token_whose_key_left_the_jwks_is_refused_although_cached(
    issuer_server: IssuerServer, cached: TokenValidator, clock: FakeClock
) -> None:
    token = issuer_server.mint()
    cached.validate(token)
    issuer_server.keys = [Key()]

    clock.advance(301)  # the JWK Set's max-age: it is read again

    with pytest.raises(InvalidToken) as error:
        cached.validate(token)
    assert error.value.description == "The access token is signed with an unknown key."


def test_a_token_still_in_the_jwks_after_a_refresh_is_verified_once_more(
    issuer_server: IssuerServer,
    cached: TokenValidator,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = issuer_server.mint()
    cached.validate(token)
    verified = count_verifications(monkeypatch)

    clock.advance(301)
    cached.validate(token)
    cached.validate(token)

    assert verified == [issuer_server.key.kid]
    assert issuer_server.hits["/oauth2/jwks"] == 2


def test_refused_tokens_are_not_cached(issuer_server: IssuerServer, cached: TokenValidator) -> None:
    forged = issuer_server.mint(aud="another-api")

    for _ in range(2):
        with pytest.raises(InvalidToken):
            cached.validate(forged)

    assert len(cached.verified) == 0


def test_the_cache_is_bounded_and_drops_the_oldest(issuer_server: IssuerServer) -> None:
    validator = TokenValidator(
        issuer_server.issuer, AUDIENCE, jwks_url=issuer_server.jwks_url, cache_size=2
    )
    tokens = [issuer_server.mint() for _ in range(3)]

    for token in tokens:
        validator.validate(token)

    assert list(validator.verified._entries) == [token_digest(t) for t in tokens[1:]]


def test_cache_size_zero_keeps_nothing(
    issuer_server: IssuerServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    validator = TokenValidator(
        issuer_server.issuer, AUDIENCE, jwks_url=issuer_server.jwks_url, cache_size=0
    )
    verified = count_verifications(monkeypatch)
    token = issuer_server.mint()

    validator.validate(token)
    validator.validate(token)

    assert len(validator.verified) == 0
    assert verified == [issuer_server.key.kid] * 2


def test_a_negative_cache_size_is_refused() -> None:
    with pytest.raises(ValueError):
        VerifiedTokenCache(-1)
