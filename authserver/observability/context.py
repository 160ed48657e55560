"""What the logs know of the request being served: its id
(:mod:`authserver.request_id`) and the client that authenticated.

Both live in the WSGI environ, so that the access log middleware (outside
Flask) and the app (inside) share them.
"""

from __future__ import annotations

from flask import has_request_context, request

from ..request_id import ENVIRON_KEY

CLIENT_ID = "authserver.client_id"
#: the URL rule that matched (``/api/v1/clients/<client_id>``), for metrics
ENDPOINT = "authserver.endpoint"


def set_client_id(client_id: str) -> None:
    """Note the authenticated client of the current request, for the logs."""
    request.environ[CLIENT_ID] = client_id


def current() -> tuple[str | None, str | None]:
    """``(request_id, client_id)`` of the current request, ``None`` outside one."""
    if not has_request_context():
        return None, None
    environ = request.environ
    return environ.get(ENVIRON_KEY), environ.get(CLIENT_ID)
