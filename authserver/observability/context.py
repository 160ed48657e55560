"""The request id and the authenticated client id of the request being served.

Both live in the WSGI environ, so that the access log middleware (outside
Flask) and the app (inside) share them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import MutableMapping
from typing import Any

from flask import has_request_context, request

REQUEST_ID = "authserver.request_id"
CLIENT_ID = "authserver.client_id"
#: the URL rule that matched (``/api/v1/clients/<client_id>``), for metrics
ENDPOINT = "authserver.endpoint"

#: an incoming ``X-Request-ID`` is kept only when it looks like one
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


def assign_request_id(environ: MutableMapping[str, Any]) -> str:
    """The caller's ``X-Request-ID`` when it is well formed, else a new one;
    kept in *environ*."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    found = incoming if _WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex
    environ[REQUEST_ID] = found
    return found


def request_id() -> str:
    """The id of the current request (echoed as ``X-Request-ID``, kept in audit events)."""
    found = request.environ.get(REQUEST_ID)
    if found is None:  # an app used without its middleware
        found = assign_request_id(request.environ)
    return str(found)


def set_client_id(client_id: str) -> None:
    """Note the authenticated client of the current request, for the logs."""
    request.environ[CLIENT_ID] = client_id


def current() -> tuple[str | None, str | None]:
    """``(request_id, client_id)`` of the current request, ``None`` outside one."""
    if not has_request_context():
        return None, None
    environ = request.environ
    return environ.get(REQUEST_ID), environ.get(CLIENT_ID)
