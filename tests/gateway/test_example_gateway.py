"""The example gateway (examples/export_gateway) behind the local issuer server:
in-process with the Flask test client, and once as the documented command."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from authserver.gateway import IntrospectionValidator, TokenValidator

from .forged_tokens import FORGED, Forge
from .processes import EXAMPLE, start_gateway
from .support import AUDIENCE, IssuerServer


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_export_gateway", EXAMPLE / "gateway.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example() -> ModuleType:
    return load_example()


@pytest.fixture
def gateway_app(example: ModuleType, validator: TokenValidator) -> Flask:
    return example.create_app(validator)  # type: ignore[no-any-return]


@pytest.fixture
def http(gateway_app: Flask) -> FlaskClient:
    return gateway_app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_export_api(http: FlaskClient, issuer_server: IssuerServer, example: ModuleType) -> None:
    token = issuer_server.mint()

    response = http.get("/v1/export/400100/orders", headers=bearer(token))
    assert response.status_code == 200
    assert response.json == {"tecId": "400100", "clientId": "cl_partner", "orders": example.ORDERS}

    response = http.get("/v1/export/400200/orders/PO-1002", headers=bearer(token))
    assert response.status_code == 200 and response.json["order"]["status"] == "confirmed"
    assert http.get("/v1/export/400200/orders/PO-9", headers=bearer(token)).status_code == 404
    assert (
        http.get("/v1/export/400100/invoices", headers=bearer(token)).json["invoices"]
        == example.INVOICES
    )


def test_export_api_refusals(http: FlaskClient, issuer_server: IssuerServer) -> None:
    assert (
        http.get("/v1/export/400300/orders", headers=bearer(issuer_server.mint())).status_code
        == 403
    )
    only_subscription = issuer_server.mint(scope="subscription org:400100")
    assert (
        http.get("/v1/export/400100/orders", headers=bearer(only_subscription)).status_code == 403
    )
    assert http.get("/v1/export/400100/orders").status_code == 401


def test_subscription_api(
    http: FlaskClient, issuer_server: IssuerServer, example: ModuleType
) -> None:
    token = issuer_server.mint()

    response = http.get("/v1/subscriptions?tecId=400200", headers=bearer(token))
    assert response.status_code == 200
    assert response.json == {"tecId": "400200", "subscriptions": example.SUBSCRIPTIONS}
    assert http.get("/v1/subscriptions?tecId=400300", headers=bearer(token)).status_code == 403
    only_export = issuer_server.mint(scope="export org:400100 org:400200")
    assert (
        http.get("/v1/subscriptions?tecId=400200", headers=bearer(only_export)).status_code == 403
    )


def test_template_api_refuses_client_tokens(http: FlaskClient, issuer_server: IssuerServer) -> None:
    response = http.get(
        "/v1/templates", headers=bearer(issuer_server.mint(scope="template export"))
    )

    assert response.status_code == 403
    assert response.json["error"] == "insufficient_scope"


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_tokens_are_401(http: FlaskClient, issuer_server: IssuerServer, name: str) -> None:
    token = FORGED[name](Forge(issuer_server.issuer, issuer_server.key))
    response = http.get("/v1/export/400100/orders", headers=bearer(token))

    assert (response.status_code, response.json["error"]) == (401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith(
        'Bearer realm="export-subscription-api", error="invalid_token"'
    )


def test_validator_from_environment(example: ModuleType) -> None:
    validator = example.make_validator(
        {"GATEWAY_ISSUER": "https://auth.example.com", "GATEWAY_JWKS_REFETCH_INTERVAL": "2"}
    )
    assert isinstance(validator, TokenValidator)
    assert (validator.issuer, validator.audience, validator.jwks.refetch_interval) == (
        "https://auth.example.com",
        AUDIENCE,
        2.0,
    )

    introspector = example.make_validator(
        {
            "GATEWAY_VALIDATION": "introspection",
            "GATEWAY_CLIENT_ID": "gw",
            "GATEWAY_CLIENT_SECRET": "s",
        }
    )
    assert isinstance(introspector, IntrospectionValidator)


@pytest.fixture
def gateway_process(issuer_server: IssuerServer, tmp_path: Path) -> Iterator[str]:
    service = start_gateway(issuer_server.issuer, tmp_path / "gateway.log", workers=1)
    yield service.url
    service.stop()


@pytest.mark.e2e
def test_documented_command_serves_the_gateway(
    gateway_process: str, issuer_server: IssuerServer
) -> None:
    token = issuer_server.mint()
    with requests.Session() as session:
        assert (
            session.get(
                gateway_process + "/v1/export/400100/orders", headers=bearer(token)
            ).status_code
            == 200
        )
        assert (
            session.get(
                gateway_process + "/v1/export/400300/orders", headers=bearer(token)
            ).status_code
            == 403
        )
        response = session.get(gateway_process + "/v1/export/400100/orders")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="export-subscription-api"'
        assert (
            session.get(gateway_process + "/v1/templates", headers=bearer(token)).status_code == 403
        )
    assert issuer_server.hits["/oauth2/jwks"] == 1
