"""IntrospectionValidator: RFC 7662 with gateway credentials, checked answers,
a short positive cache and a shorter negative one."""

from __future__ import annotations

import time

import pytest

from authserver.gateway import AuthorizationServerUnavailable, IntrospectionValidator, InvalidToken

from .support import AUDIENCE, GATEWAY_ID, GATEWAY_SECRET, FakeClock, IssuerServer

INTROSPECT = "/oauth2/introspect"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cached(issuer_server: IssuerServer, clock: FakeClock) -> IntrospectionValidator:
    return IntrospectionValidator(
        issuer_server.issuer, AUDIENCE, GATEWAY_ID, GATEWAY_SECRET, clock=clock
    )


def test_active_token_gives_typed_claims(
    issuer_server: IssuerServer, introspector: IntrospectionValidator
) -> None:
    now = int(time.time())
    access_token = introspector.validate(issuer_server.mint(jti="j1", iat=now, exp=now + 300))

    assert (access_token.client_id, access_token.jti, access_token.organizations) == (
        "cl_partner",
        "j1",
        ("400100", "400200"),
    )
    assert access_token.scopes == {"export", "subscription", "org:400100", "org:400200"}
    assert (access_token.issued_at, access_token.expires_at) == (now, now + 300)
    assert issuer_server.hits == {"/.well-known/oauth-authorization-server": 1, INTROSPECT: 1}


def test_explicit_endpoint_skips_discovery(issuer_server: IssuerServer) -> None:
    introspector = IntrospectionValidator(
        issuer_server.issuer,
        AUDIENCE,
        GATEWAY_ID,
        GATEWAY_SECRET,
        introspection_url=issuer_server.issuer + INTROSPECT,
    )
    introspector.validate(issuer_server.mint())

    assert issuer_server.hits == {INTROSPECT: 1}


def test_active_answer_is_cached_for_cache_ttl(
    issuer_server: IssuerServer, cached: IntrospectionValidator, clock: FakeClock
) -> None:
    token = issuer_server.mint()
    for _ in range(10):
        cached.validate(token)
    assert issuer_server.hits[INTROSPECT] == 1

    clock.advance(5)
    cached.validate(token)
    assert issuer_server.hits[INTROSPECT] == 2


def test_revocation_takes_effect_after_cache_ttl(
    issuer_server: IssuerServer, cached: IntrospectionValidator, clock: FakeClock
) -> None:
    token = issuer_server.mint(jti="revoke-me")
    cached.validate(token)
    issuer_server.inactive_jtis.add("revoke-me")

    clock.advance(4.9)
    assert cached.validate(token).jti == "revoke-me"  # documented: up to cache_ttl late
    clock.advance(0.1)
    with pytest.raises(InvalidToken) as error:
        cached.validate(token)
    assert error.value.description == "The access token is not active."


def test_cache_never_outlives_the_token(
    issuer_server: IssuerServer, cached: IntrospectionValidator, clock: FakeClock
) -> None:
    now = int(time.time())
    token = issuer_server.mint(iat=now - 100, exp=now + 2)
    cached.validate(token)

    clock.advance(3)
    cached.validate(token)  # still within the leeway, but asked again
    assert issuer_server.hits[INTROSPECT] == 2


def test_inactive_answer_is_cached_only_briefly(
    issuer_server: IssuerServer, cached: IntrospectionValidator, clock: FakeClock
) -> None:
    token = issuer_server.mint(jti="dead")
    issuer_server.inactive_jtis.add("dead")
    for _ in range(3):
        with pytest.raises(InvalidToken):
            cached.validate(token)
    assert issuer_server.hits[INTROSPECT] == 1

    issuer_server.inactive_jtis.clear()
    clock.advance(1)
    assert cached.validate(token).jti == "dead"
    assert issuer_server.hits[INTROSPECT] == 2


def test_refused_gateway_credentials_are_unavailable_and_never_cached(
    issuer_server: IssuerServer, cached: IntrospectionValidator
) -> None:
    issuer_server.gateway_secret = "rotated"
    token = issuer_server.mint()
    for _ in range(2):
        with pytest.raises(AuthorizationServerUnavailable):
            cached.validate(token)

    assert issuer_server.hits[INTROSPECT] == 2


def test_credentials_are_form_encoded_in_basic(issuer_server: IssuerServer) -> None:
    issuer_server.gateway_secret = "a:b+c d%"
    introspector = IntrospectionValidator(issuer_server.issuer, AUDIENCE, GATEWAY_ID, "a:b+c d%")

    assert introspector.validate(issuer_server.mint()).client_id == "cl_partner"


@pytest.mark.parametrize(
    ("override", "description"),
    [
        ({"iss": "https://evil.example"}, "The access token is from another issuer."),
        ({"aud": "template-api"}, "The access token is not meant for this API."),
        (
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3700},
            "The access token expired.",
        ),
        (
            {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3900},
            "The access token is not valid yet.",
        ),
        ({"nbf": int(time.time()) + 3600}, "The access token is not valid yet."),
        ({"exp": int(time.time()) + 86400}, "The access token lives too long."),
        ({"organizations": None}, "The access token has no valid organizations claim."),
        ({"client_id": 5}, "The access token has no valid client_id claim."),
        ({"exp": True}, "The access token has no valid exp claim."),
        ({"exp": float("inf")}, "The access token has no valid exp claim."),
    ],
)
def test_active_answer_must_fit_issuer_audience_and_times(
    override: dict[str, object],
    description: str,
    issuer_server: IssuerServer,
    introspector: IntrospectionValidator,
) -> None:
    issuer_server.introspection_overrides = override

    with pytest.raises(InvalidToken) as error:
        introspector.validate(issuer_server.mint())
    assert error.value.description == description


@pytest.mark.parametrize("override", [{"active": "true"}, {"active": 1}])
def test_answer_that_is_not_rfc_7662_is_unavailable(
    override: dict[str, object], issuer_server: IssuerServer, introspector: IntrospectionValidator
) -> None:
    issuer_server.introspection_overrides = override

    with pytest.raises(AuthorizationServerUnavailable):
        introspector.validate(issuer_server.mint())


def test_cache_is_bounded_and_keyed_by_digest(
    issuer_server: IssuerServer, clock: FakeClock
) -> None:
    introspector = IntrospectionValidator(
        issuer_server.issuer, AUDIENCE, GATEWAY_ID, GATEWAY_SECRET, max_entries=2, clock=clock
    )
    tokens = [issuer_server.mint() for _ in range(3)]
    for token in tokens:
        introspector.validate(token)
    introspector.validate(tokens[0])  # evicted: asked again

    assert issuer_server.hits[INTROSPECT] == 4
    assert len(introspector._cache) == 2
    assert all(
        len(key) == 32 and key not in {t.encode() for t in tokens} for key in introspector._cache
    )


def test_unreachable_server_is_unavailable() -> None:
    introspector = IntrospectionValidator(
        "http://127.0.0.1:9", AUDIENCE, GATEWAY_ID, GATEWAY_SECRET, timeout=1
    )

    with pytest.raises(AuthorizationServerUnavailable):
        introspector.validate("abc.def.ghi")


@pytest.mark.parametrize(
    "settings",
    [
        {"cache_ttl": 61},
        {"negative_cache_ttl": 6},
        {"leeway": 61},
        {"client_secret": ""},
        {"introspection_url": "http://auth.example.com/oauth2/introspect"},
    ],
)
def test_unsafe_settings_are_refused(settings: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "client_id": GATEWAY_ID,
        "client_secret": GATEWAY_SECRET,
        **settings,
    }
    with pytest.raises(ValueError):
        IntrospectionValidator("https://auth.example.com", AUDIENCE, **arguments)  # type: ignore[arg-type]
