"""An example API gateway: a tiny Export API, Subscription API and Template
API with fixed sample data, protected by :mod:`authserver.gateway`.

Configuration (environment):

=================================  ===============================================
``GATEWAY_ISSUER``                 the authorization server's issuer URL
                                   (default ``http://127.0.0.1:8000``)
``GATEWAY_AUDIENCE``               accepted ``aud`` (default ``export-subscription-api``)
``GATEWAY_VALIDATION``             ``jwt`` (local, default) or ``introspection``
``GATEWAY_JWKS_URL``               skip metadata discovery (``jwt`` only)
``GATEWAY_JWKS_REFETCH_INTERVAL``  seconds between JWKS re-fetches on unknown kids (default 10)
``GATEWAY_CLIENT_ID``              gateway credentials (``authserver gateways create``),
``GATEWAY_CLIENT_SECRET``          required for ``introspection``
=================================  ===============================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, abort, jsonify, request

from authserver.gateway import IntrospectionValidator, TokenValidator
from authserver.gateway.bearer import Validator
from authserver.gateway.decorators import (
    BearerAuth,
    current_token,
    refuse_client_tokens,
    require_token,
)

#: fixed sample data, the same for every organization
ORDERS = [
    {
        "orderNumber": "PO-1001",
        "status": "shipped",
        "lines": [{"article": "0 986 494 294", "quantity": 4}],
    },
    {
        "orderNumber": "PO-1002",
        "status": "confirmed",
        "lines": [{"article": "F 026 400 012", "quantity": 10}],
    },
]
INVOICES = [
    {"invoiceNumber": "INV-5001", "orderNumber": "PO-1001", "amount": "412.80", "currency": "EUR"},
]
SUBSCRIPTIONS = [
    {"id": "sub-1", "event": "order.shipped", "url": "https://erp.example/hooks/orders"},
]
TEMPLATES = [{"id": "tpl-1", "name": "Default order export"}]


def make_validator(env: Mapping[str, str]) -> Validator:
    """The validator the environment asks for."""
    issuer = env.get("GATEWAY_ISSUER", "http://127.0.0.1:8000")
    audience = env.get("GATEWAY_AUDIENCE", "export-subscription-api")
    if env.get("GATEWAY_VALIDATION", "jwt") == "introspection":
        return IntrospectionValidator(
            issuer, audience, env["GATEWAY_CLIENT_ID"], env["GATEWAY_CLIENT_SECRET"]
        )
    options: dict[str, Any] = {}
    if env.get("GATEWAY_JWKS_REFETCH_INTERVAL"):
        options["refetch_interval"] = float(env["GATEWAY_JWKS_REFETCH_INTERVAL"])
    return TokenValidator(issuer, audience, env.get("GATEWAY_JWKS_URL") or None, **options)


def create_app(validator: Validator | None = None) -> Flask:
    """The gateway app; *validator* defaults to :func:`make_validator` of the environment."""
    app = Flask(__name__)
    BearerAuth(app, validator or make_validator(os.environ), realm="export-subscription-api")

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    # Export API: the organization is a path parameter
    @app.get("/v1/export/<tecId>/orders")
    @require_token(scope="export", organization="tecId")
    def orders(tecId: str) -> Any:
        return jsonify(tecId=tecId, clientId=current_token().client_id, orders=ORDERS)

    @app.get("/v1/export/<tecId>/orders/<orderNumber>")
    @require_token(scope="export", organization="tecId")
    def order(tecId: str, orderNumber: str) -> Any:
        for item in ORDERS:
            if item["orderNumber"] == orderNumber:
                return jsonify(tecId=tecId, order=item)
        abort(404)

    @app.get("/v1/export/<tecId>/invoices")
    @require_token(scope="export", organization="tecId")
    def invoices(tecId: str) -> Any:
        return jsonify(tecId=tecId, invoices=INVOICES)

    # Subscription API: the organization is the tecId query parameter
    @app.get("/v1/subscriptions")
    @require_token(scope="subscription", organization="tecId")
    def subscriptions() -> Any:
        return jsonify(tecId=request.args["tecId"], subscriptions=SUBSCRIPTIONS)

    # Template API: not for API clients (docs/rules.md, rule 7)
    @app.get("/v1/templates")
    @refuse_client_tokens()
    def templates() -> Any:  # pragma: no cover - no client token ever gets here
        return jsonify(templates=TEMPLATES)

    return app
