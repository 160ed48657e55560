"""Errors of the gateway module, one class per meaning.

:class:`TokenError` and its subclasses map to the answers of RFC 6750 §3.1:
each carries the HTTP ``status_code``, the ``error`` code for the
``WWW-Authenticate`` header (``None`` when the request carried no token at
all, §3.1: "the resource server SHOULD NOT include an error code") and a fixed
ASCII ``description`` that never echoes the token.

:class:`AuthorizationServerUnavailable` is not the token's fault: the metadata,
JWKS or introspection endpoint could not be used, so the gateway cannot decide
and answers 503.
"""

from __future__ import annotations

__all__ = [
    "GatewayError",
    "TokenError",
    "MissingToken",
    "InvalidRequest",
    "InvalidToken",
    "InsufficientScope",
    "AuthorizationServerUnavailable",
]


class GatewayError(Exception):
    """Root of every error this package raises."""

    status_code: int = 500
    description: str = "The request could not be authorized."

    def __init__(self, description: str | None = None) -> None:
        super().__init__(description or self.description)
        self.description = description or self.description


class TokenError(GatewayError):
    """An RFC 6750 §3.1 answer: ``status_code``, ``error`` and ``description``."""

    status_code = 401
    error: str | None = None


class MissingToken(TokenError):
    """No bearer token in the ``Authorization`` header (RFC 6750 §3.1: 401 and a
    challenge without an error code)."""

    status_code = 401
    error = None
    description = "An access token is required in the Authorization header."


class InvalidRequest(TokenError):
    """RFC 6750 §3.1 ``invalid_request``: a malformed request, or more than one
    method for including an access token (the header and the query or body)."""

    status_code = 400
    error = "invalid_request"
    description = "The request is malformed."


class InvalidToken(TokenError):
    """RFC 6750 §3.1 ``invalid_token``: expired, revoked, malformed or not ours."""

    status_code = 401
    error = "invalid_token"
    description = "The access token is invalid."


class InsufficientScope(TokenError):
    """RFC 6750 §3.1 ``insufficient_scope``: a valid token without the rights the
    request needs (an API scope or the organization).

    :param scope: the scope the resource needs, for the ``scope`` attribute of
        the challenge (RFC 6750 §3).
    """

    status_code = 403
    error = "insufficient_scope"
    description = "The access token does not allow this request."

    def __init__(self, description: str | None = None, *, scope: str | None = None) -> None:
        super().__init__(description)
        self.scope = scope


class AuthorizationServerUnavailable(GatewayError):
    """The authorization server's metadata, JWKS or introspection endpoint could
    not be used (unreachable, refused the gateway credentials, or answered
    something unusable). Not the client's fault: 503."""

    status_code = 503
    description = "The authorization server is unavailable."
