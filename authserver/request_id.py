"""The id of a request: the caller's ``X-Request-ID`` when it is sane, a new
one otherwise; kept in audit events and echoed in the response.

An app-level hook (:func:`init_app`), so that the admin API and the console
share it without importing each other. The id is made on first use
(:func:`request_id`); a response carries it whenever the request used one.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

#: an incoming X-Request-ID is kept only when it looks like one
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
HEADER = "X-Request-ID"


def init_app(app: Flask) -> None:
    app.before_request(_forget)
    app.after_request(_echo)


def request_id() -> str:
    """The id of the current request (made on first use)."""
    found: str | None = g.get("request_id")
    if found is None:
        incoming = request.headers.get(HEADER, "")
        found = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_id = found
    return found


def _forget() -> None:
    # ``g`` lives as long as the application context, which may span requests (tests)
    g.pop("request_id", None)


def _echo(response: Response) -> Response:
    found = g.get("request_id")
    if found is not None:
        response.headers[HEADER] = found
    return response
