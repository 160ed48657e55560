"""ServerMetadata: RFC 8414 discovery, refreshed when old, kept when a refresh fails."""

from __future__ import annotations

import pytest

from authserver.gateway import AuthorizationServerUnavailable
from authserver.gateway.metadata import ServerMetadata, metadata_url

from .support import FakeClock, IssuerServer

WELL_KNOWN = "/.well-known/oauth-authorization-server"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metadata(issuer_server: IssuerServer, clock: FakeClock) -> ServerMetadata:
    return ServerMetadata(issuer_server.issuer, max_age=3600, retry_interval=5, clock=clock)


def test_the_well_known_suffix_goes_before_the_issuer_path() -> None:
    assert metadata_url("https://auth.example.com") == "https://auth.example.com" + WELL_KNOWN
    assert (
        metadata_url("https://example.com/tenant/")
        == "https://example.com" + WELL_KNOWN + "/tenant"
    )


def test_fetched_once_while_fresh(
    issuer_server: IssuerServer, metadata: ServerMetadata, clock: FakeClock
) -> None:
    for _ in range(10):
        assert metadata.endpoint("jwks_uri") == issuer_server.jwks_url
        clock.now += 359
    assert issuer_server.hits[WELL_KNOWN] == 1


def test_a_moved_jwks_uri_is_found_after_max_age(
    issuer_server: IssuerServer,
    metadata: ServerMetadata,
    clock: FakeClock,
) -> None:
    assert metadata.endpoint("jwks_uri") == issuer_server.jwks_url
    issuer_server.metadata_overrides = {"jwks_uri": issuer_server.issuer + "/v2/jwks"}
    clock.now += 3599
    assert metadata.endpoint("jwks_uri") == issuer_server.jwks_url
    clock.now += 1
    assert metadata.endpoint("jwks_uri") == issuer_server.issuer + "/v2/jwks"
    assert issuer_server.hits[WELL_KNOWN] == 2


def test_a_failed_refresh_keeps_the_last_document_and_waits_to_retry(
    issuer_server: IssuerServer,
    metadata: ServerMetadata,
    clock: FakeClock,
) -> None:
    assert metadata.endpoint("jwks_uri") == issuer_server.jwks_url
    issuer_server.metadata_overrides = {
        "issuer": "https://evil.example",
        "jwks_uri": "https://evil.example/k",
    }
    clock.now += 3600
    for _ in range(20):
        assert metadata.endpoint("jwks_uri") == issuer_server.jwks_url
    assert issuer_server.hits[WELL_KNOWN] == 2
    clock.now += 5
    issuer_server.metadata_overrides = {"jwks_uri": issuer_server.issuer + "/v2/jwks"}
    assert metadata.endpoint("jwks_uri") == issuer_server.issuer + "/v2/jwks"
    assert issuer_server.hits[WELL_KNOWN] == 3


def test_without_a_first_document_every_retry_waits(
    issuer_server: IssuerServer,
    metadata: ServerMetadata,
    clock: FakeClock,
) -> None:
    issuer_server.metadata_overrides = {"issuer": "https://evil.example"}
    for _ in range(5):
        with pytest.raises(AuthorizationServerUnavailable):
            metadata.endpoint("jwks_uri")
    assert issuer_server.hits[WELL_KNOWN] == 1
    clock.now += 5
    issuer_server.metadata_overrides = {}
    assert metadata.endpoint("jwks_uri") == issuer_server.jwks_url
    assert issuer_server.hits[WELL_KNOWN] == 2


def test_max_age_below_the_retry_interval_is_refused(issuer_server: IssuerServer) -> None:
    with pytest.raises(ValueError):
        ServerMetadata(issuer_server.issuer, max_age=1, retry_interval=5)
