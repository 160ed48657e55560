"""The admin API under ``/api/v1`` (README "Admin API").

One blueprint per resource, each thin: parse (marshmallow schemas), call a
service, shape the answer. flask-smorest generates the OpenAPI document at
``GET /api/v1/openapi.json`` from the same schemas. Every answer under
``/api/v1`` — errors included — is JSON or ``application/problem+json``
(RFC 9457), carries ``X-Request-ID`` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import http
from typing import Any

import flask_smorest
from apispec.utils import build_reference
from flask import Flask, Response, g, request

from ..errors import PROBLEM_JSON
from ..request_id import request_id
from .base import PREFIX
from .schemas import ProblemSchema


class Api(flask_smorest.Api):  # type: ignore[misc]  # flask-smorest has no type hints
    """flask-smorest, with errors left to the app's one handler
    (:mod:`authserver.error_handlers`) and documented as problem+json.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Errors are rendered by :mod:`authserver.error_handlers`, not here."""

    def _register_responses(self) -> None:
        """Every error response is a problem (RFC 9457), referenced by the
        name of its status (``NOT_FOUND``) or as the default response."""
        content = {PROBLEM_JSON: {"schema": build_reference("schema", 3, "Problem")}}
        for status in http.HTTPStatus:
            if status >= 400:
                self.spec.components.response(
                    status.name, {"description": status.phrase, "content": content}, lazy=True
                )
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME,
            {"description": "An error (RFC 9457 problem details)", "content": content},
        )


def _is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def _before_request() -> None:
    if _is_api_request():
        g.pop("admin_user", None)
        request_id()  # every API answer carries one


def _after_request(response: Response) -> Response:
    if _is_api_request():
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Register the admin API blueprints and the OpenAPI document."""
    from . import (
        administrators,
        assignments,
        auth,
        client_keys,
        clients,
        events,
        export_failures,
        users,
    )

    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    spec_kwargs: dict[str, Any] = {
        "title": "authserver admin API",
        "version": "1",
        "openapi_version": "3.0.3",
        "info": {
            "description": 'Self-service management of OAuth2 clients (README "Admin API"). '
            "Errors are application/problem+json (RFC 9457); each type URI, "
            "{issuer}/problems/{name}, is a page that explains the problem. Every validation "
            "error (422) lists the fields at fault in errors: [{field, message}]. A request body "
            "larger than the server's limit (MAX_CONTENT_LENGTH, 16 KiB by default) is refused "
            "with 413 before it is read."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
    }
    api = Api(app, spec_kwargs=spec_kwargs)
    api.spec.components.schema("Problem", schema=ProblemSchema)
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "admin token from POST /api/v1/auth/login",
        },
    )
    api.spec.components.security_scheme(
        export_failures.GATEWAY_BASIC,
        {
            "type": "http",
            "scheme": "basic",
            "description": "API gateway credentials from `authserver gateways create NAME`",
        },
    )
    for module in (
        auth,
        users,
        clients,
        client_keys,
        assignments,
        administrators,
        events,
        export_failures,
    ):
        api.register_blueprint(module.blp)
    api.register_blueprint(export_failures.reports)
    app.before_request(_before_request)
    app.after_request(_after_request)
