"""Fixtures for the gateway tests: a real local issuer server and validators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authserver.gateway import IntrospectionValidator, TokenValidator

from .support import AUDIENCE, GATEWAY_ID, GATEWAY_SECRET, IssuerServer


@pytest.fixture
def issuer_server() -> Iterator[IssuerServer]:
    server = IssuerServer().start()
    yield server
    server.stop()


@pytest.fixture
def validator(issuer_server: IssuerServer) -> TokenValidator:
    """Discovers the JWKS through the server's metadata, as gateways do."""
    return TokenValidator(issuer_server.issuer, AUDIENCE)


@pytest.fixture
def introspector(issuer_server: IssuerServer) -> IntrospectionValidator:
    return IntrospectionValidator(issuer_server.issuer, AUDIENCE, GATEWAY_ID, GATEWAY_SECRET)
