"""The JWKS cache: fetched only as often as needed, bounded ages, rate-limited
re-fetch on unknown kids, stale keys while the server is down, and the keys
it refuses to use."""

from __future__ import annotations

import threading

import jwt
import pytest

from authserver.gateway import AuthorizationServerUnavailable, InvalidToken, TokenValidator
from authserver.gateway.jwks import MAX_KEYS, cache_ttl, parse_jwks

from .forged_tokens import hmac_signed
from .support import AUDIENCE, FakeClock, IssuerServer, Key, claims, mint


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cached(issuer_server: IssuerServer, clock: FakeClock) -> TokenValidator:
    return TokenValidator(
        issuer_server.issuer, AUDIENCE, jwks_url=issuer_server.jwks_url, clock=clock
    )


def jwks_hits(server: IssuerServer) -> int:
    return server.hits["/oauth2/jwks"]


@pytest.mark.parametrize(
    ("cache_control", "ttl"),
    [
        ("max-age=120", 120),
        ("public, max-age=600, must-revalidate", 600),
        ("max-age=1", 30),  # bounded below: min_ttl
        ("max-age=1000000", 900),  # bounded above: max_ttl
        ("no-store", 30),
        ("no-cache", 30),
        ("max-age=abc", 300),
        (None, 300),  # no header: default_ttl
    ],
)
def test_cache_age_follows_cache_control_within_bounds(
    issuer_server: IssuerServer,
    cached: TokenValidator,
    clock: FakeClock,
    cache_control: str | None,
    ttl: int,
) -> None:
    issuer_server.jwks_cache_control = cache_control
    cached.validate(issuer_server.mint())

    clock.advance(ttl - 1)
    cached.validate(issuer_server.mint())
    assert jwks_hits(issuer_server) == 1

    clock.advance(1)
    cached.validate(issuer_server.mint())
    assert jwks_hits(issuer_server) == 2


def test_cache_ttl_parses_directives() -> None:
    assert cache_ttl({"cache-control": 'max-age="45"'}, default=300, minimum=30, maximum=900) == 45
    assert cache_ttl({}, default=300, minimum=30, maximum=900) == 300


def test_rotation_new_kid_is_fetched_once(
    issuer_server: IssuerServer, cached: TokenValidator, clock: FakeClock
) -> None:
    cached.validate(issuer_server.mint())
    new = Key()
    issuer_server.keys.insert(0, new)
    clock.advance(11)

    for _ in range(100):
        assert cached.validate(mint(new, issuer_server.issuer)).client_id == "cl_partner"
        cached.validate(
            mint(issuer_server.keys[1], issuer_server.issuer)
        )  # the old key still works

    assert jwks_hits(issuer_server) == 2


def test_unknown_kid_refetch_is_rate_limited(
    issuer_server: IssuerServer, cached: TokenValidator, clock: FakeClock
) -> None:
    cached.validate(issuer_server.mint())
    # 1,000 tokens with made-up kids over 25 seconds: a burst of 3 re-fetches,
    # then one per 10 s
    for _ in range(25):
        clock.advance(1)
        for _ in range(40):
            with pytest.raises(InvalidToken) as error:
                cached.validate(mint(Key(), issuer_server.issuer))
            assert error.value.description == "The access token is signed with an unknown key."

    assert jwks_hits(issuer_server) == 1 + 3 + 2


def test_rotation_right_after_a_refresh_is_seen_at_once(
    issuer_server: IssuerServer, cached: TokenValidator
) -> None:
    cached.validate(issuer_server.mint())
    new = Key()
    issuer_server.keys.append(new)

    assert cached.validate(mint(new, issuer_server.issuer)).client_id == "cl_partner"
    assert jwks_hits(issuer_server) == 2


def test_burst_is_configurable(issuer_server: IssuerServer, clock: FakeClock) -> None:
    validator = TokenValidator(
        issuer_server.issuer,
        AUDIENCE,
        jwks_url=issuer_server.jwks_url,
        clock=clock,
        refetch_burst=1,
        refetch_interval=2,
    )
    validator.validate(issuer_server.mint())
    for _ in range(10):
        with pytest.raises(InvalidToken):
            validator.validate(mint(Key(), issuer_server.issuer))
    clock.advance(2)
    with pytest.raises(InvalidToken):
        validator.validate(mint(Key(), issuer_server.issuer))

    assert jwks_hits(issuer_server) == 1 + 1 + 1


def test_concurrent_unknown_kid_causes_one_fetch(
    issuer_server: IssuerServer, cached: TokenValidator, clock: FakeClock
) -> None:
    cached.validate(issuer_server.mint())
    new = Key()
    issuer_server.keys.append(new)
    clock.advance(60)
    token = mint(new, issuer_server.issuer)
    start = threading.Barrier(8)
    results: list[str] = []

    def work() -> None:
        start.wait()
        results.append(cached.validate(token).client_id)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert results == ["cl_partner"] * 8
    assert jwks_hits(issuer_server) == 2


def test_stale_keys_serve_while_the_server_is_down_then_fail_closed(
    issuer_server: IssuerServer,
    cached: TokenValidator,
    clock: FakeClock,
) -> None:
    cached.validate(issuer_server.mint())
    issuer_server.jwks_status = 500

    clock.advance(300)  # expired: a refresh is tried and fails; the old keys still serve
    assert cached.validate(issuer_server.mint()).client_id == "cl_partner"
    assert cached.validate(issuer_server.mint()).client_id == "cl_partner"
    assert jwks_hits(issuer_server) == 2  # no retry before refetch_interval

    clock.advance(10)
    cached.validate(issuer_server.mint())
    assert jwks_hits(issuer_server) == 3

    clock.advance(3600)  # past max_stale
    with pytest.raises(AuthorizationServerUnavailable):
        cached.validate(issuer_server.mint())

    issuer_server.jwks_status = 200
    clock.advance(10)
    assert cached.validate(issuer_server.mint()).client_id == "cl_partner"


def test_first_fetch_failure_is_unavailable_and_retried_after_interval(
    issuer_server: IssuerServer,
    cached: TokenValidator,
    clock: FakeClock,
) -> None:
    issuer_server.jwks_status = 503
    for _ in range(5):
        with pytest.raises(AuthorizationServerUnavailable):
            cached.validate(issuer_server.mint())
    assert jwks_hits(issuer_server) == 1

    issuer_server.jwks_status = 200
    clock.advance(10)
    assert cached.validate(issuer_server.mint()).client_id == "cl_partner"
    assert jwks_hits(issuer_server) == 2


def test_symmetric_private_and_non_signing_keys_are_ignored(
    issuer_server: IssuerServer, cached: TokenValidator
) -> None:
    key = issuer_server.key
    private_jwk = key.public_jwk(kid="with-d", d="AAAA")
    issuer_server.jwks_document = {
        "keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0", "alg": "HS256"},
            private_jwk,
            key.public_jwk(kid="enc", use="enc"),
            key.public_jwk(kid="wrap", key_ops=["wrapKey"]),
            key.public_jwk(kid="hs-alg", alg="HS256"),
            key.public_jwk(),
        ]
    }

    assert cached.validate(issuer_server.mint()).client_id == "cl_partner"
    assert cached.jwks.kids() == {key.kid}
    token = hmac_signed(
        {"alg": "HS256", "typ": "at+jwt", "kid": "hmac"}, claims(issuer_server.issuer), b"secret"
    )
    with pytest.raises(InvalidToken):
        cached.validate(token)
    for kid in ("with-d", "enc", "wrap", "hs-alg"):
        with pytest.raises(InvalidToken):
            cached.validate(mint(key, issuer_server.issuer, headers={"kid": kid}))


def test_short_rsa_key_is_ignored() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(weak, as_dict=True), "kid": "weak"}

    assert parse_jwks({"keys": [jwk]}, {"RS256"}) == {}


def test_duplicate_kid_keeps_the_first() -> None:
    first, second = Key(), Key()
    keys = parse_jwks(
        {"keys": [first.public_jwk(kid="same"), second.public_jwk(kid="same")]}, {"ES256"}
    )

    assert keys["same"]["ES256"].key.public_numbers() == first.public.public_numbers()


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"keys": "nope"},
        {"keys": [Key().public_jwk(kid=f"k{i}") for i in range(MAX_KEYS + 1)]},
    ],
)
def test_unusable_jwks_document(document: object) -> None:
    with pytest.raises(AuthorizationServerUnavailable):
        parse_jwks(document, {"ES256"})


def test_oversized_jwks_answer_is_refused(
    issuer_server: IssuerServer, cached: TokenValidator
) -> None:
    issuer_server.jwks_document = {
        "keys": [issuer_server.key.public_jwk()],
        "padding": "x" * 300_000,
    }

    with pytest.raises(AuthorizationServerUnavailable):
        cached.validate(issuer_server.mint())
