"""The errors of the OAuth endpoints (RFC 6749 §5.2), with fixed ASCII
descriptions that never echo the request, and the one place that turns an
error into its JSON answer (:func:`error_response`), for the endpoints and for
the app's error handlers alike (a 405, a 413, an outage on an OAuth path).

Authlib's error classes, narrowed to what this server promises:
``invalid_client`` is always 401 with a Basic challenge (RFC 7617), a throttled
client gets 429 ``temporarily_unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from flask import Response, json

REALM = "authserver"


class InvalidClient(InvalidClientError):  # type: ignore[misc]
    """§5.2 ``invalid_client``: always 401, with the Basic challenge (RFC 7617)."""

    status_code = 401
    description = "Client authentication failed."

    def get_headers(self) -> list[tuple[str, str]]:
        return list(default_json_headers) + [
            ("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
        ]


class NotAForm(InvalidRequestError):  # type: ignore[misc]
    description = "The request body must be application/x-www-form-urlencoded."


class MalformedForm(InvalidRequestError):  # type: ignore[misc]
    description = "The request body is not valid UTF-8 form data."


class RepeatedParameter(InvalidRequestError):  # type: ignore[misc]
    description = "A request parameter is included more than once."


class MissingGrantType(InvalidRequestError):  # type: ignore[misc]
    description = "The grant_type parameter is missing."


class MissingToken(InvalidRequestError):  # type: ignore[misc]
    description = "The token parameter is missing."


class MultipleAuthentication(InvalidRequestError):  # type: ignore[misc]
    description = "The request uses more than one client authentication method."


class UnsupportedGrantType(UnsupportedGrantTypeError):  # type: ignore[misc]
    description = "The grant type is not supported; use client_credentials."

    def __init__(self) -> None:
        super().__init__(None)


class TooManyAttempts(OAuth2Error):  # type: ignore[misc]
    """429 with ``Retry-After``: too many failed authentications recently."""

    error = "temporarily_unavailable"
    status_code = 429
    description = "Too many failed client authentications; retry later."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after

    def get_headers(self) -> list[tuple[str, str]]:
        return list(default_json_headers) + [("Retry-After", str(self.retry_after))]


class Busy(OAuth2Error):  # type: ignore[misc]
    error = "temporarily_unavailable"
    status_code = 503
    description = "The server is busy; retry later."

    def get_headers(self) -> list[tuple[str, str]]:
        return list(default_json_headers) + [("Retry-After", "1")]


class RevocationRefused(UnauthorizedClientError):  # type: ignore[misc]
    description = "The client may not revoke this token."


class TokenTooLarge(InvalidScopeError):  # type: ignore[misc]
    """The granted scope names so many organizations that the token would
    exceed :data:`authserver.tokens.MAX_TOKEN_LENGTH` (§5.2 ``invalid_scope``:
    the scope "exceeds" what one token can carry)."""

    description = "The token would be too large; ask for fewer organizations with org: scopes."


class RequestTooLarge(InvalidRequestError):  # type: ignore[misc]
    status_code = 413
    description = "Request body too large."


class MethodNotAllowed(InvalidRequestError):  # type: ignore[misc]
    status_code = 405
    description = "Method not allowed."

    def __init__(self, allowed: list[str]) -> None:
        super().__init__()
        self.allowed = allowed

    def get_headers(self) -> list[tuple[str, str]]:
        return list(default_json_headers) + [("Allow", ", ".join(self.allowed))]


class InvalidValue(InvalidRequestError):  # type: ignore[misc]
    """A value the database cannot hold or search (e.g. a NUL character)."""

    description = "The request has an invalid value."


class Unavailable(OAuth2Error):  # type: ignore[misc]
    """The database is unreachable: retry in a few seconds."""

    error = "temporarily_unavailable"
    status_code = 503
    description = "The service is temporarily unavailable."

    def get_headers(self) -> list[tuple[str, str]]:
        return list(default_json_headers) + [("Retry-After", "5")]


class ServerError(OAuth2Error):  # type: ignore[misc]
    error = "server_error"
    status_code = 500
    description = "The server encountered an unexpected error."


def error_response(error: OAuth2Error) -> Response:
    """The RFC 6749 §5.2 answer for *error*: ``{"error", "error_description"}``
    as JSON, ``Cache-Control: no-store`` and ``Pragma: no-cache``, and the
    error's own headers (a challenge, ``Retry-After``)."""
    body = json.dumps(dict(error.get_body()))
    return Response(body, status=error.status_code, headers=error.get_headers())
