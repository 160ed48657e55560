"""RFC 6750 on the resource server side, without a web framework: where the
token is taken from, the ``WWW-Authenticate`` challenge, the decision and the
error answer.

:mod:`authserver.gateway.decorators` wires this into Flask and
:mod:`authserver.gateway.wsgi` into any WSGI application; another framework
needs only these functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .claims import AccessToken
from .errors import (
    AuthorizationServerUnavailable,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    MissingToken,
    TokenError,
)

__all__ = [
    "Validator",
    "ErrorAnswer",
    "token_from_header",
    "challenge",
    "authorize",
    "error_answer",
    "validate_realm",
]

#: seconds a client should wait when the authorization server cannot be asked
RETRY_AFTER = "5"

#: RFC 7235 §2.1 token68-like value after the scheme; anything else is malformed
_CREDENTIALS = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
#: realm values we are willing to put between quotes without escaping
_REALM = re.compile(r"[A-Za-z0-9 ._:/-]{1,100}")


class Validator(Protocol):
    """What :class:`TokenValidator` and :class:`IntrospectionValidator` share."""

    def validate(self, token: str) -> AccessToken: ...


def validate_realm(realm: str) -> str:
    """Refuse a realm that would need quoting in the challenge."""
    if not isinstance(realm, str) or not _REALM.fullmatch(realm):
        raise ValueError("realm must be 1-100 characters of letters, digits, space and ._:/-")
    return realm


def token_from_header(
    authorization: str | None, query_keys: Iterable[str] = (), form_keys: Iterable[str] = ()
) -> str:
    """The bearer token of a request, from the ``Authorization`` header only
    (RFC 6750 §2.1). The query string (§2.3) and the form body (§2.2) are never
    read: a token there leaks into logs and browser histories.

    RFC 6750 §3.1 decides the answers: a request whose only token is in the
    query or the body "attempted using an unsupported authentication method"
    and so lacks authentication (:class:`MissingToken`: 401, a bare challenge,
    no error code); one that also has a bearer header "uses more than one
    method for including an access token" (:class:`InvalidRequest`: 400).

    :param query_keys: names of the query parameters of the request.
    :param form_keys: names of the form fields of the request.
    :raises MissingToken: no bearer credentials in the header.
    :raises InvalidRequest: a bearer header and ``access_token`` in the query or the body.
    :raises InvalidToken: ``Bearer`` followed by something that is not a token.
    """
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        raise MissingToken()
    if "access_token" in query_keys or "access_token" in form_keys:
        raise InvalidRequest("Send the access token in the Authorization header only.")
    credentials = credentials.strip()
    if not _CREDENTIALS.fullmatch(credentials):
        raise InvalidToken("The access token is malformed.")
    return credentials


def challenge(realm: str, error: TokenError | None = None) -> str:
    """The ``WWW-Authenticate`` value for *error* (RFC 6750 §3): only the realm
    when the request had no token, else ``error``, ``error_description`` and,
    for ``insufficient_scope``, the ``scope`` needed."""
    parts = [f'realm="{realm}"']
    if error is not None and error.error is not None:
        parts.append(f'error="{error.error}"')
        parts.append(f'error_description="{error.description}"')
        scope = getattr(error, "scope", None)
        if scope:
            parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


def authorize(
    access_token: AccessToken,
    scope: str | None,
    organization: str | None,
) -> AccessToken:
    """Check that *access_token* grants *scope* and acts for *organization*.

    :raises InsufficientScope: RFC 6750 §3.1 ``insufficient_scope``.
    """
    if scope is not None and not access_token.has_scope(scope):
        raise InsufficientScope("The access token does not grant this API.", scope=scope)
    if organization is not None and not access_token.allows_organization(organization):
        # no scope attribute: it would echo the organization from the request
        raise InsufficientScope("The access token does not grant this organization.")
    return access_token


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """An error answer without a framework: the status, the JSON body and the
    headers besides ``Content-Type``."""

    status: int
    body: dict[str, str]
    headers: dict[str, str]


def error_answer(error: TokenError | AuthorizationServerUnavailable, realm: str) -> ErrorAnswer:
    """The RFC 6750 §3 answer for *error*: its status, ``error`` (left out when
    the request had no token, §3.1) and ``error_description`` in a JSON body,
    and the ``WWW-Authenticate`` challenge; or 503 ``temporarily_unavailable``
    with ``Retry-After`` when the authorization server cannot be asked (no
    challenge: the token may well be fine). Never cached (``no-store``).
    """
    if isinstance(error, TokenError):
        body = {"error_description": error.description}
        if error.error is not None:
            body = {"error": error.error, **body}
        headers = {"WWW-Authenticate": challenge(realm, error)}
    else:
        body = {"error": "temporarily_unavailable", "error_description": error.description}
        headers = {"Retry-After": RETRY_AFTER}
    headers["Cache-Control"] = "no-store"
    return ErrorAnswer(error.status_code, body, headers)
