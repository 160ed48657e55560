"""One place that renders errors: domain errors and HTTP errors as
``application/problem+json`` (RFC 9457), a database outage as 503, anything
unexpected as a 500 without a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, json, request
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .errors import PROBLEM_JSON, AuthServerError, TooManyRequests, Unauthorized, ValidationError
from .extensions import db
from .oauth2 import errors as oauth_errors
from .observability import metrics

log = logging.getLogger(__name__)


def problem(
    status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any
) -> Response:
    """A problem+json response (RFC 9457 §3)."""
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers["Cache-Control"] = "no-store"
    return response


def _is_oauth_endpoint() -> bool:
    return request.path.startswith("/oauth2/")


def problem_type(type_suffix: str) -> str:
    """The URI of a problem type: a page of this deployment that explains it
    (RFC 9457 §3.1.1), ``{issuer}/problems/{type_suffix}``."""
    return f"{str(current_app.config['ISSUER']).rstrip('/')}/problems/{type_suffix}"


def handle_domain_error(error: AuthServerError) -> Response:
    response = problem(
        error.code, error.title, error.detail, problem_type(error.type_suffix), **_extras(error)
    )
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Unauthorized) and request.path.startswith("/api/"):
        # RFC 6750 §3: a bearer challenge; error= only when a token was sent
        challenge = 'Bearer realm="authserver-admin"'
        if request.headers.get("Authorization"):
            challenge += ', error="invalid_token"'
        challenge = getattr(error, "challenge", None) or challenge
        response.headers["WWW-Authenticate"] = challenge
    return response


def _extras(error: AuthServerError) -> dict[str, Any]:
    extra: dict[str, Any] = dict(error.extra)
    if error.field:
        extra["field"] = error.field
    if isinstance(error, ValidationError):
        extra["errors"] = error.errors
    return extra


def handle_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if _is_oauth_endpoint():
        if status == 413:
            return oauth_errors.error_response(oauth_errors.RequestTooLarge())
        if status == 405:
            allowed = getattr(error, "valid_methods", None) or ["POST"]
            return oauth_errors.error_response(oauth_errors.MethodNotAllowed(allowed))
    response = problem(status, error.name, error.description or error.name)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_integrity_error(error: IntegrityError) -> Response:
    """A constraint decided a race that a service did not expect: 409, not 500."""
    log.warning("integrity error: %s", type(error.orig).__name__)
    db.session.rollback()
    return problem(
        409, "Conflict", "The change conflicts with the current state; reload and retry."
    )


def handle_data_error(error: DataError) -> Response:
    """A value the database cannot hold (a NUL character, an integer out of
    range) that no validation caught: bad input, so 422, never a 500."""
    log.warning("data error: %s", type(error.orig).__name__)
    db.session.rollback()
    if _is_oauth_endpoint():
        return oauth_errors.error_response(oauth_errors.InvalidValue())
    detail = "A value in the request cannot be stored or searched."
    return problem(
        422,
        ValidationError.title,
        detail,
        problem_type(ValidationError.type_suffix),
        errors=[{"field": "", "message": detail}],
    )


def discard_session_after_outage(error: Exception) -> None:
    """Log a database outage (its type only: the message may hold SQL
    parameters) and roll the session back, which may fail too."""
    log.error("database error: %s", type(error).__name__)
    metrics.DATABASE_ERRORS.labels(type(error).__name__).inc()
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone
        pass


def handle_database_error(error: Exception) -> Response:
    discard_session_after_outage(error)
    if _is_oauth_endpoint():
        return oauth_errors.error_response(oauth_errors.Unavailable())
    response = problem(503, "Service unavailable", "The database is unavailable.")
    response.headers["Retry-After"] = "5"
    return response


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error")
    if _is_oauth_endpoint():
        return oauth_errors.error_response(oauth_errors.ServerError())
    return problem(500, "Internal server error", "The server encountered an unexpected error.")


def register(app: Flask) -> None:
    app.register_error_handler(AuthServerError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(InterfaceError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
