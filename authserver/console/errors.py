"""How the console shows refusals: as pages, not as problem+json.

Services raise domain errors and views let them through (STYLE.md habit 5);
this handler turns them into what a person in a browser needs:

- a client (or organization) the user does not administer: a 404 page,
  exactly where the admin API answers 404;
- a refused change (409 last administrator, 409 already assigned, 403 not
  an organization administrator, 422): the message at the top of the page
  the form came from (set by :func:`return_to`), after a 303 redirect;
- an expired session: the login page;
- a database outage: a 503 page (never a stack trace).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from ..error_handlers import discard_session_after_outage
from ..errors import AuthServerError, ClientNotFound, Unauthorized
from . import bp


def return_to(url: str) -> None:
    """Where a refused change sends the user back to, with the reason."""
    g.console_return_to = url


def _page(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("console/error.html", status=status, title=title, detail=detail), status


@bp.errorhandler(AuthServerError)
def domain_error(error: AuthServerError) -> ResponseReturnValue:
    if isinstance(error, Unauthorized):
        return redirect(url_for("console.login"), 303)
    if request.method == "GET" or isinstance(error, ClientNotFound) or "console_return_to" not in g:
        return _page(error.code, error.title, error.detail)
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


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def database_error(error: Exception) -> ResponseReturnValue:
    discard_session_after_outage(error)
    g.user = None  # the page header must not ask the database again
    body, status = _page(
        503, "Service unavailable", "The database is unavailable. Try again in a moment."
    )
    return body, status, {"Retry-After": "5"}
