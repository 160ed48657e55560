"""The machine-facing HTTP surface: token (RFC 6749 §4.4), introspection
(RFC 7662), revocation (RFC 7009), JWKS (RFC 7517) and metadata (RFC 8414).

Thin: each view hands the request to the Authlib server in
:mod:`authserver.oauth2`. Every response carries ``Cache-Control: no-store``
and ``Pragma: no-cache`` (RFC 6749 §5.1).
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, Response, jsonify
from flask.blueprints import BlueprintSetupState

from . import oauth2
from .grants import ClientCredentialsGrant
from .tokens import API_SCOPES

bp = Blueprint("oauth", __name__)


@bp.record_once
def _init(state: BlueprintSetupState) -> None:
    oauth2.init_app(cast(Flask, state.app))


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/oauth2/token")
def token() -> Response:
    """RFC 6749 §4.4: the client credentials grant."""
    return oauth2.server().create_token_response()


@bp.post("/oauth2/introspect")
def introspect() -> Response:
    """RFC 7662 §2."""
    return oauth2.server().create_endpoint_response("introspection")


@bp.post("/oauth2/revoke")
def revoke() -> Response:
    """RFC 7009 §2."""
    return oauth2.server().create_endpoint_response("revocation")


@bp.get("/oauth2/jwks")
def jwks() -> Response:
    """The public signing keys (RFC 7517 §5)."""
    return jsonify(oauth2.server().keys.jwks())


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    """Authorization server metadata (RFC 8414 §2); ``issuer`` is the tokens' ``iss``."""
    return jsonify(server_metadata(oauth2.server()))


def server_metadata(server: oauth2.AuthorizationServer) -> dict[str, Any]:
    base = server.issuer.rstrip("/")
    methods = list(oauth2.AUTH_METHODS)
    return {
        "issuer": server.issuer,
        "token_endpoint": base + "/oauth2/token",
        "jwks_uri": base + "/oauth2/jwks",
        "introspection_endpoint": base + "/oauth2/introspect",
        "revocation_endpoint": base + "/oauth2/revoke",
        "grant_types_supported": [ClientCredentialsGrant.GRANT_TYPE],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "scopes_supported": list(API_SCOPES),
    }
