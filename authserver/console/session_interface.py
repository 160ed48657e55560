"""Cookie sessions only where people browse.

The OAuth endpoints, the admin API (bearer tokens) and the probes never use a
session; Flask would still build a cookie signer for each of their requests
(about 8 % of a token request's CPU). They get Flask's null session instead,
which refuses to be written to, so a stray ``session[...] = ...`` there fails
loudly rather than setting a cookie.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

#: path prefixes served without a cookie session
SESSIONLESS_PREFIXES = ("/oauth2/", "/.well-known/", "/api/", "/healthz", "/readyz")


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions for the console only."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return self.make_null_session(app)
        return super().open_session(app, request)
