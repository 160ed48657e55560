"""Flask integration: protect gateway routes with bearer tokens (RFC 6750).

::

    validator = TokenValidator(issuer, "export-subscription-api")
    BearerAuth(app, validator, realm="export-api")

    @app.get("/v1/export/<tecId>/orders")
    @require_token(scope="export", organization="tecId")
    def orders(tecId):
        current_token().client_id
        ...

    @app.get("/v1/templates")
    @refuse_client_tokens()
    def templates(): ...

The only module of :mod:`authserver.gateway` that imports Flask.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, jsonify, request

from .bearer import Validator, authorize, error_answer, token_from_header, validate_realm
from .claims import AccessToken
from .errors import AuthorizationServerUnavailable, InsufficientScope, InvalidRequest, TokenError

__all__ = ["BearerAuth", "require_token", "refuse_client_tokens", "current_token"]

EXTENSION = "authserver.gateway"

F = TypeVar("F", bound=Callable[..., Any])

#: where the organization of a request comes from: the name of a path or query
#: parameter, or a callable reading the request (``None``: no organization)
OrganizationSource = str | Callable[[], "str | None"]


class BearerAuth:
    """Registers the validator and realm that :func:`require_token` uses.

    :param validator: a :class:`~authserver.gateway.TokenValidator` or
        :class:`~authserver.gateway.IntrospectionValidator`.
    :param realm: the ``realm`` of the ``WWW-Authenticate`` challenges.
    """

    def __init__(
        self,
        app: Flask | None = None,
        validator: Validator | None = None,
        *,
        realm: str = "export-subscription-api",
    ) -> None:
        if validator is None:
            raise ValueError("a validator is required")
        self.validator = validator
        self.realm = validate_realm(realm)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self


def _auth() -> BearerAuth:
    try:
        return cast(BearerAuth, current_app.extensions[EXTENSION])
    except KeyError:
        raise RuntimeError("BearerAuth(app, validator) was not set up for this app") from None


def current_token() -> AccessToken:
    """The access token of the current request (inside a protected view)."""
    return cast(AccessToken, g.access_token)


def _organization(source: OrganizationSource | None) -> str | None:
    if source is None:
        return None
    if callable(source):
        value = source()
    elif request.view_args and source in request.view_args:
        value = request.view_args[source]
    else:
        values = request.args.getlist(source)
        # two values: the check might read one and the view the other
        if len(values) != 1:
            raise InvalidRequest("The request must name exactly one organization.")
        value = values[0]
    if not isinstance(value, str) or not value:
        raise InvalidRequest("The request must name exactly one organization.")
    return value


def _validated_token() -> AccessToken:
    is_form = request.mimetype == "application/x-www-form-urlencoded"
    form_keys = request.form.keys() if is_form else ()
    token = token_from_header(request.headers.get("Authorization"), request.args.keys(), form_keys)
    access_token = _auth().validator.validate(token)
    g.access_token = access_token
    return access_token


def error_response(error: TokenError | AuthorizationServerUnavailable) -> Response:
    """The RFC 6750 §3 answer for *error*, or 503 when the authorization
    server cannot be asked (see :func:`~authserver.gateway.bearer.error_answer`)."""
    answer = error_answer(error, _auth().realm)
    response = jsonify(answer.body)
    response.status_code = answer.status
    response.headers.update(answer.headers)
    return response


def require_token(
    scope: str | None = "export",
    organization: OrganizationSource | None = None,
) -> Callable[[F], F]:
    """Protect a view: a valid bearer token granting *scope* and, when
    *organization* is given, the organization the request names.

    :param scope: the API scope needed (``export``, ``subscription``), or ``None``.
    :param organization: the path or query parameter holding the TecCom ID
        (e.g. ``"tecId"``), or a callable returning it from ``flask.request``.

    Answers (RFC 6750 §3.1): 401 with a bare challenge when there is no token,
    401 ``invalid_token``, 403 ``insufficient_scope``, 400 ``invalid_request``.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                access_token = _validated_token()
                authorize(access_token, scope, _organization(organization))
            except (TokenError, AuthorizationServerUnavailable) as error:
                return error_response(error)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def refuse_client_tokens() -> Callable[[F], F]:
    """For Template API routes (docs/rules.md, rule 7): no token of this
    authorization server is valid there, so every valid client-credentials
    token is answered 403 ``insufficient_scope``, whatever its claims; no
    token is 401, an invalid one 401 ``invalid_token``. The view itself runs
    only for requests some other authentication (outside this module) lets in,
    which here means never.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                _validated_token()
                raise InsufficientScope(
                    "Access tokens of this server are not valid for the Template API."
                )
            except (TokenError, AuthorizationServerUnavailable) as error:
                return error_response(error)

        return cast(F, wrapper)

    return decorator
