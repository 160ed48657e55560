"""WSGI factories for Granian that answer ``GET /_environ_keys`` with the keys
of the request's WSGI environ (and pass every other request to the app), to
see what the production server puts there: :func:`served` wraps the factory
the server uses (:func:`authserver.serving.served_app`), :func:`unfiltered`
the bare :func:`authserver.app.create_app`. Tests only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from authserver import serving
from authserver.app import create_app

PATH = "/_environ_keys"


def _probe(app: Any) -> Any:
    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return app(environ, start_response)  # type: ignore[no-any-return]
        body = json.dumps(sorted(environ)).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return wsgi


def served() -> Any:
    return _probe(serving.served_app())


def unfiltered() -> Any:
    return _probe(create_app())
