"""What every admin API blueprint shares: the request parser that turns
webargs errors into domain errors, bearer authentication, and the audit
context of a request. Views stay thin: parse, call a service, shape.
"""

from __future__ import annotations

import http
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

import flask_smorest
import marshmallow as ma
from flask import Request, current_app, g, request
from webargs import core
from webargs.flaskparser import FlaskParser

from ..errors import MalformedRequest, NotFound, Unauthorized, UnsupportedMediaType, ValidationError
from ..models import User
from ..request_id import request_id
from ..services import admin_login as admin_login_service
from ..services.audit import AuditContext

#: where the admin API lives
PREFIX = "/api/v1"

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

_T = TypeVar("_T")
#: what flask-smorest's view decorators do: wrap a view (they parse its
#: arguments and shape its answer, so the signature changes)
ViewDecorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _flatten(messages: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """``{"json": {"a": {"0": ["bad"]}}}`` -> ``("a.0", "bad")``."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from _flatten(value, path + (str(key),))
    elif (
        isinstance(messages, (list, tuple))
        and messages
        and all(isinstance(m, str) for m in messages)
    ):
        for message in messages:
            yield ".".join(path), message
    elif isinstance(messages, (list, tuple)):
        for value in messages:
            yield from _flatten(value, path)
    else:
        yield ".".join(path), str(messages)


def _refuse_constant(name: str) -> NoReturn:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259 §6)."""
    raise ValueError(f"{name} is not a JSON number")


class ProblemParser(FlaskParser):
    """webargs parser whose errors are domain errors (problem+json via the one
    handler): a broken JSON body is 400, a bad or unknown field 422 naming it.
    """

    def _raw_load_json(self, req: Request) -> Any:
        """The JSON body (RFC 8259), or :data:`~webargs.core.missing` when
        there is none; broken JSON of any kind is 400, never a 500.
        """
        if not req.is_json:
            return core.missing
        data = req.get_data(cache=True)
        if not data:
            return core.missing  # an empty body is an empty object, not broken JSON
        try:
            return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            # ValueError: broken JSON or UTF-8, NaN/Infinity, or an integer
            # longer than Python converts (4300 digits); RecursionError:
            # nested deeper than the json module can decode
            raise MalformedRequest("The request body is not valid JSON.") from None

    def _handle_invalid_json_error(
        self, error: Exception, req: Request, *args: Any, **kwargs: Any
    ) -> NoReturn:
        raise MalformedRequest("The request body is not valid JSON.")

    def handle_error(
        self,
        error: ma.ValidationError,
        req: Request,
        schema: ma.Schema,
        *,
        error_status_code: int | None,
        error_headers: Mapping[str, str] | None,
    ) -> NoReturn:
        problems = []
        for path, message in _flatten(error.messages):
            location, _, field = path.partition(".")
            field = "" if field == "_schema" else field
            problems.append({"field": field or location, "message": message})
        problems.sort(key=lambda p: p["field"])
        first = problems[0] if problems else {"field": "", "message": "Invalid request."}
        if first["field"] in {"json", "query"}:
            detail = (
                "The request body must be a JSON object."
                if first["field"] == "json"
                else first["message"]
            )
            raise ValidationError(detail, field=first["field"], errors=problems)
        raise ValidationError(
            f"{first['field']}: {first['message']}", field=first["field"], errors=problems
        )


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]  # flask-smorest has no type hints
    """A resource of the admin API; every route needs an admin bearer token
    unless the blueprint is made with ``public=True``.

    flask-smorest ships no type hints; the decorators used by the views are
    declared here with their types (and only pass on to flask-smorest), so
    that the views stay type-checked.
    """

    ARGUMENTS_PARSER = ProblemParser()

    def __init__(self, *args: Any, public: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not public:  # authentication first: 401 before any other refusal
            self.before_request(require_admin)
        self.before_request(require_json_body)
        self.before_request(refuse_nul_in_path)

    def route(self, rule: str, **options: Any) -> Callable[[_T], _T]:
        """Register a view function or a :class:`~flask.views.MethodView`
        (returned unchanged)."""
        decorator: Callable[[_T], _T] = super().route(rule, **options)
        return decorator

    def arguments(self, schema: Any, **options: Any) -> ViewDecorator:
        """Parse the request with *schema*; the view gets the result.

        A JSON body is also refused, before it is parsed, when it is larger
        than the app's ``MAX_CONTENT_LENGTH`` (16 KiB by default): a body the
        schema allows can be that large (twenty notification e-mails of 320
        escaped characters), so the 413 is documented with the operation.
        """
        parse: ViewDecorator = super().arguments(schema, **options)
        if options.get("location", "json") != "json":
            return parse
        too_large = self.alt_response(413, response=http.HTTPStatus(413).name)

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            return too_large(parse(function))

        return decorator

    def response(self, status_code: int, schema: Any = None, **options: Any) -> ViewDecorator:
        """Serialize what the view returns with *schema*."""
        decorator: ViewDecorator = super().response(status_code, schema, **options)
        return decorator

    def alt_response(self, status_code: int, **options: Any) -> ViewDecorator:
        """Document another answer of the view."""
        decorator: ViewDecorator = super().alt_response(status_code, **options)
        return decorator

    @staticmethod
    def doc(**kwargs: Any) -> ViewDecorator:
        """Add *kwargs* to the view's OpenAPI operation."""
        decorator: ViewDecorator = flask_smorest.Blueprint.doc(**kwargs)
        return decorator

    def refusals(self, *statuses: int) -> ViewDecorator:
        """Document the error answers of an endpoint (problem+json); 401
        comes with every endpoint that needs a token."""

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            for status in statuses:
                function = self.alt_response(status, response=http.HTTPStatus(status).name)(
                    function
                )
            return function

        return decorator


def require_json_body() -> None:
    """A request body must be JSON (415 otherwise); no body is fine."""
    if request.method in _BODY_METHODS and (
        request.content_length or request.headers.get("Transfer-Encoding")
    ):
        if not request.is_json:
            raise UnsupportedMediaType("Send the request body as application/json.")


def refuse_nul_in_path() -> None:
    """Nothing is named with a NUL character (no database column can hold
    one): 404 on every database alike."""
    if "\x00" in request.path:
        raise NotFound("Nothing here is named with a NUL character.")


def require_admin() -> None:
    """Authenticate the admin bearer token (RFC 6750 §2.1) before anything else."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("A bearer token from /api/v1/auth/login is required.")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 4096:
        raise Unauthorized(admin_login_service.INVALID_TOKEN)
    g.admin_user = admin_login().verify_token(token.strip())


def admin_login() -> admin_login_service.AdminLogin:
    """This app's admin login (made by the app factory)."""
    found: admin_login_service.AdminLogin = current_app.extensions[admin_login_service.EXTENSION]
    return found


def current_user() -> User:
    """The authenticated caller of this request."""
    user: User = g.admin_user
    return user


def audit_context() -> AuditContext:
    """Who acts, from where, in which request: for the audit trail."""
    return AuditContext(
        actor=current_user().email, remote_addr=request.remote_addr, request_id=request_id()
    )
