"""What the logs know of the request being served: its id
(:mod:`authserver.request_id`) and the client that authenticated.

Both live in the WSGI environ, so that the access log middleware (outside
Flask) and the app (inside) share them. The access log also marks the environ
as this thread's current request (:func:`bind`), so that code running outside
a Flask request context (the token endpoint, :mod:`authserver.oauth2.token_wsgi`)
finds it too.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

from flask import has_request_context, request

from ..request_id import ENVIRON_KEY

CLIENT_ID = "authserver.client_id"
#: the URL rule that matched (``/api/v1/clients/<client_id>``), for metrics
ENDPOINT = "authserver.endpoint"

_current: ContextVar[MutableMapping[str, Any] | None] = ContextVar(
    "authserver.environ", default=None
)


def bind(environ: MutableMapping[str, Any] | None) -> None:
    """Make *environ* the request being served in this thread (``None``: no request)."""
    _current.set(environ)


def _environ() -> MutableMapping[str, Any] | None:
    environ = _current.get()
    if environ is None and has_request_context():
        environ = request.environ
    return environ


def set_client_id(client_id: str) -> None:
    """Note the authenticated client of the current request, for the logs."""
    environ = _environ()
    if environ is not None:
        environ[CLIENT_ID] = client_id


def current() -> tuple[str | None, str | None]:
    """``(request_id, client_id)`` of the current request, ``None`` outside one."""
    environ = _environ()
    if environ is None:
        return None, None
    return environ.get(ENVIRON_KEY), environ.get(CLIENT_ID)
