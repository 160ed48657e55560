"""The access log, written by the app itself (a WSGI middleware), so that it
reads the same whatever server runs the app and never holds a secret.

One record per request, logged when the response has been sent, on the
``authserver.access`` logger: method, path, status, bytes, duration, client
address, request id and (once authenticated) client id. The query string is
logged with the values of sensitive parameters replaced (a client that wrongly
puts its ``client_secret`` in the URL must not have it written to disk);
headers and bodies are never logged. Every response carries ``X-Request-ID``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from flask import Flask, Response, request

from .. import request_id as request_ids
from . import context, metrics

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("authserver.access")

#: query parameters whose values are never logged (also any name containing these)
SENSITIVE = ("secret", "assertion", "token", "password", "passwd", "code", "key", "session")
REDACTED = "[REDACTED]"
#: the longest path or query logged (characters)
MAX_LOGGED = 1024


def is_sensitive(name: str) -> bool:
    """``client_secret``, ``client_assertion``, ``token``, ``access_token``,
    ``password`` and anything that looks like them (any case)."""
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE)


def redact_query(query: str) -> str:
    """*query* with the value of every sensitive parameter replaced.

    The query is decoded first (``client%5Fsecret`` is ``client_secret``); a
    part without ``=`` is a name, kept only when it is not sensitive.
    """
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
    kept = [(name, REDACTED if is_sensitive(name) else value) for name, value in pairs]
    return urlencode(kept, safe="[]:/,")[:MAX_LOGGED]


def logged_path(environ: WSGIEnvironment) -> str:
    """The request's path and redacted query, as the access log shows it."""
    path = str(environ.get("PATH_INFO", ""))[:MAX_LOGGED]
    query = redact_query(str(environ.get("QUERY_STRING", "")))
    return f"{path}?{query}" if query else path


class AccessLog:
    """WSGI middleware: assign the request id, answer it as ``X-Request-ID``,
    log the request and observe its latency once the response is sent."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = request_ids.assign(environ)
        context.bind(environ)
        status: list[str] = []

        def start(
            status_line: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append((request_ids.HEADER, request_id))
            status[:] = [status_line]
            return start_response(status_line, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            self._log(environ, "500", 0, started)
            raise
        return _Body(body, lambda sent: self._log(environ, _code(status), sent, started))

    @staticmethod
    def _log(environ: WSGIEnvironment, status: str, sent: int, started: float) -> None:
        context.bind(None)
        seconds = time.perf_counter() - started
        method = str(environ.get("REQUEST_METHOD", "-"))[:16]
        endpoint = str(environ.get(context.ENDPOINT) or "unmatched")
        metrics.observe_request(endpoint, method, status, seconds)
        path = logged_path(environ)
        log.info(
            '"%s %s" %s %d %.1fms',
            method,
            path,
            status,
            sent,
            seconds * 1000,
            extra={
                "http": {
                    "method": method,
                    "path": path,
                    "status": int(status) if status.isdigit() else 0,
                    "bytes": sent,
                    "duration_ms": round(seconds * 1000, 2),
                    "remote_addr": environ.get("REMOTE_ADDR"),
                },
                "request_id": environ.get(request_ids.ENVIRON_KEY),
                "client_id": environ.get(context.CLIENT_ID) or "-",
            },
        )


def _code(status: list[str]) -> str:
    return status[0].split(" ", 1)[0] if status else "500"


class _Body:
    """The response body, passed through; calls *done* with the bytes sent on close."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self._body = body
        self._done = done
        self._sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done(self._sent)


def _note_endpoint(response: Response) -> Response:
    """Keep the matched URL rule (a bounded set) for the latency histogram."""
    rule = request.url_rule
    request.environ[context.ENDPOINT] = rule.rule if rule is not None else "unmatched"
    return response


def init_app(app: Flask) -> None:
    """Wrap *app* in the access log (outermost, so that it sees the address
    a trusted proxy reported and every answer, errors included)."""
    app.after_request(_note_endpoint)
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
