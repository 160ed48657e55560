"""How the console shows refusals: as pages, not as problem+json.

Services raise domain errors and views let them through (STYLE.md habit 5);
this handler turns them into what a person in a browser needs:

- a client (or organization) the user does not administer: a 404 page,
  exactly where the admin API answers 404;
- a refused change (409 last administrator, 409 already assigned, 403 not
  an organization administrator, 422): the message at the top of the page
  the form came from (set by :func:`return_to`), after a 303 redirect;
- an expired session: the login page;
- a database outage: a 503 page (never a stack trace);
- an address that is no page at all (``/client``, ``/clients/<id>/nope``)
  or a method a page does not take: a 404 or 405 page, while the machine
  endpoints (the admin API, OAuth, metadata, health) keep problem+json.
"""

from __future__ import annotations

from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .. import error_handlers
from ..error_handlers import discard_session_after_outage
from ..errors import AuthServerError, ClientNotFound, Unauthorized
from . import bp
from .login import current_user
from .security import add_headers

#: paths of the machine endpoints: their errors stay problem+json (or RFC 6749)
MACHINE_PATHS = ("/api/", "/oauth2/", "/.well-known/", "/healthz", "/readyz")

#: what the console says for an address or a method that no page answers
PAGE_ERRORS = {
    404: (
        "Page not found",
        "There is no page at this address. Check it for a typing mistake, or start again "
        "from the list of API clients.",
    ),
    405: (
        "Not possible here",
        "This page cannot be used this way (the request method is not allowed). Start "
        "again from the list of API clients.",
    ),
}


def return_to(url: str) -> None:
    """Where a refused change sends the user back to, with the reason."""
    g.console_return_to = url


def _page(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("console/error.html", status=status, title=title, detail=detail), status


def _detail(error: AuthServerError) -> str:
    """The detail, or the type's explanation when the detail only repeats the title."""
    if error.detail.rstrip(".").casefold() == error.title.casefold():
        return error.description
    return error.detail


@bp.errorhandler(AuthServerError)
def domain_error(error: AuthServerError) -> ResponseReturnValue:
    if isinstance(error, Unauthorized):
        return redirect(url_for("console.login"), 303)
    if request.method == "GET" or isinstance(error, ClientNotFound) or "console_return_to" not in g:
        return _page(error.code, error.title, _detail(error))
    flash(error.detail, "error")
    return redirect(g.console_return_to, 303)


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> ResponseReturnValue:
    return _page(
        400,
        "The form has expired",
        "The form was sent without a valid security token (it may be from an old page or "
        "another site). Go back, reload the page and try again.",
    )


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    return _page(status, error.name, error.description or error.name)


def is_machine_path(path: str) -> bool:
    """Whether *path* belongs to an endpoint for programs rather than people."""
    return path == "/api" or path.startswith(MACHINE_PATHS)


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def no_such_page(error: HTTPException) -> ResponseReturnValue:
    """An address (or method) that nothing answers: the console's page,
    except under the machine endpoints."""
    if is_machine_path(request.path):
        return error_handlers.handle_http_error(error)
    try:
        current_user()  # the page header shows who is logged in
    except (OperationalError, InterfaceError) as outage:
        discard_session_after_outage(outage)
        g.user = None
    status = error.code or 404
    title, detail = PAGE_ERRORS[status]
    body, status = _page(status, title, detail)
    response = add_headers(make_response(body, status))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def database_error(error: Exception) -> ResponseReturnValue:
    discard_session_after_outage(error)
    g.user = None  # the page header must not ask the database again
    body, status = _page(
        503, "Service unavailable", "The database is unavailable. Try again in a moment."
    )
    return body, status, {"Retry-After": "5"}
