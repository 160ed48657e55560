"""The machine-facing HTTP surface: token (RFC 6749 §4.4), introspection
(RFC 7662), revocation (RFC 7009), JWKS (RFC 7517) and metadata (RFC 8414).

Thin: each view hands the request to this app's Authlib server
(:class:`~.authorization_server.AuthorizationServer`), made by
:func:`init_app`. Every response carries ``Cache-Control: no-store`` and
``Pragma: no-cache`` (RFC 6749 §5.1), but for the JWK Set, which a gateway may
cache for as long as no new key can be signing (:func:`jwks_max_age`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from ..grants import ClientCredentialsGrant
from ..public_keys import ASSERTION_ALGORITHMS
from ..tokens import API_SCOPES
from .authorization_server import AuthorizationServer
from .requests import AUTH_METHODS

bp = Blueprint("oauth", __name__)

#: where this app's authorization server is kept (``app.extensions``)
EXTENSION = "authserver.oauth2"
#: the longest a gateway may keep the JWK Set (seconds)
JWKS_MAX_AGE = 300


def init_app(app: Flask) -> AuthorizationServer:
    """Make *app*'s authorization server (one per app, so tests can run many
    apps) and serve the OAuth endpoints."""
    authorization_server = AuthorizationServer(app)
    app.extensions[EXTENSION] = authorization_server
    app.register_blueprint(bp)
    return authorization_server


def server() -> AuthorizationServer:
    """The current app's authorization server."""
    found: AuthorizationServer = current_app.extensions[EXTENSION]
    return found


@bp.after_request
def _no_store(response: Response) -> Response:
    if "Cache-Control" not in response.headers:  # a view's own choice stands
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def jwks_max_age(config: Any) -> int:
    """Seconds a gateway may cache the JWK Set (RFC 9111 §5.2.2.1 ``max-age``).

    A rotated key is in the database ``KEY_ACTIVATION_DELAY`` seconds before
    any process signs with it, and a process serves the key list it read up to
    ``KEY_CACHE_SECONDS`` ago; what remains of the delay is safe to cache, so
    a cached set always holds a new key before the first token it signs.
    """
    spare = int(config["KEY_ACTIVATION_DELAY"]) - int(config["KEY_CACHE_SECONDS"])
    return max(0, min(JWKS_MAX_AGE, spare))


@bp.post("/oauth2/token")
def token() -> Response:
    """RFC 6749 §4.4: the client credentials grant."""
    return server().create_token_response()


@bp.post("/oauth2/introspect")
def introspect() -> Response:
    """RFC 7662 §2."""
    return server().create_endpoint_response("introspection")


@bp.post("/oauth2/revoke")
def revoke() -> Response:
    """RFC 7009 §2."""
    return server().create_endpoint_response("revocation")


@bp.get("/oauth2/jwks")
def jwks() -> Response:
    """The public signing keys (RFC 7517 §5)."""
    response = jsonify(server().keys.jwks())
    max_age = jwks_max_age(current_app.config)
    if max_age:
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    """Authorization server metadata (RFC 8414 §2); ``issuer`` is the tokens' ``iss``."""
    return jsonify(server_metadata(server()))


def server_metadata(authorization_server: AuthorizationServer) -> dict[str, Any]:
    base = authorization_server.issuer.rstrip("/")
    methods = list(AUTH_METHODS)
    algorithms = list(ASSERTION_ALGORITHMS)  # private_key_jwt (RFC 8414 §2)
    return {
        "issuer": authorization_server.issuer,
        "token_endpoint": base + "/oauth2/token",
        "jwks_uri": base + "/oauth2/jwks",
        "introspection_endpoint": base + "/oauth2/introspect",
        "revocation_endpoint": base + "/oauth2/revoke",
        "grant_types_supported": [ClientCredentialsGrant.GRANT_TYPE],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": algorithms,
        "introspection_endpoint_auth_signing_alg_values_supported": algorithms,
        "revocation_endpoint_auth_signing_alg_values_supported": algorithms,
        "scopes_supported": list(API_SCOPES),
    }
