"""Browser security for the console: session cookie, CSRF, response headers.

- The session cookie is Flask's signed cookie: ``HttpOnly``, ``SameSite=Lax``,
  ``Secure`` (and ``__Host-`` prefixed) outside development and testing. It
  holds only a handle of the session kept on the server (see :mod:`.session`).
- CSRF (Flask-WTF) is checked on every state-changing request to the console,
  and only there: the OAuth endpoints (RFC 6749) and the bearer-token admin
  API are not cookie-authenticated and must not demand a CSRF token.
- Every console response carries a Content-Security-Policy without inline
  script or style (scripts are external files from this package), and refuses
  framing (``frame-ancestors 'none'`` and ``X-Frame-Options``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app

from ..extensions import csrf
from ..request_id import request_id
from ..services import console_sessions
from . import bp
from .session_interface import ConsoleSessionInterface

#: idle timeout of a console session (enforced on the server; the cookie expires too)
SESSION_IDLE_SECONDS = console_sessions.IDLE_SECONDS

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)


def is_production(app: Flask) -> bool:
    return app.config["ENV"] not in {"development", "testing"}


def configure(app: Flask) -> None:
    """Session cookie and CSRF settings; CSRF checks are left to :func:`protect`."""
    production = is_production(app)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = production
    # RFC 6265bis §4.1.3.2: a __Host- cookie is Secure, host-only, Path=/
    app.config["SESSION_COOKIE_NAME"] = "__Host-authserver" if production else "authserver_session"
    app.config["SESSION_COOKIE_PATH"] = "/"
    app.config["SESSION_COOKIE_DOMAIN"] = None
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=SESSION_IDLE_SECONDS)
    # CSRF is not checked application-wide: only the console's before_request asks.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # The token lives as long as the session; the session has its own limits.
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    csrf.init_app(app)
    app.session_interface = ConsoleSessionInterface()


@bp.before_request
def protect() -> None:
    """Check the CSRF token of every POST/PUT/PATCH/DELETE to the console."""
    request_id()
    csrf.protect()


@bp.after_request
def add_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
    if is_production(current_app):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if response.mimetype == "text/html":
        # pages show personal data and, once, secrets: never cache them
        headers["Cache-Control"] = "no-store"
    return response
