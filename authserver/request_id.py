"""The id of a request: the caller's ``X-Request-ID`` when it is sane, a new
one otherwise; kept in audit events and the logs, and echoed in every response.

The id is assigned before the app sees the request, by the access log
middleware (:mod:`authserver.observability.access_log`), which also echoes it
on every answer, errors included; it lives in the WSGI environ so that both
sides of the middleware share it. The admin API, the console and the OAuth
endpoints read it with :func:`request_id`.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from typing import Any

from flask import request

#: an incoming X-Request-ID is kept only when it looks like one
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
HEADER = "X-Request-ID"
#: the WSGI environ key that holds the id
ENVIRON_KEY = "authserver.request_id"


def assign(environ: MutableMapping[str, Any]) -> str:
    """The caller's ``X-Request-ID`` when it is well formed, else a new one;
    kept in *environ*."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    found = incoming if _REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
    environ[ENVIRON_KEY] = found
    return found


def request_id() -> str:
    """The id of the current request."""
    found = request.environ.get(ENVIRON_KEY)
    if found is None:  # the app called without its middleware
        found = assign(request.environ)
    return str(found)
