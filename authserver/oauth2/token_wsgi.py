"""The token endpoint (RFC 6749 §4.4) served at the WSGI edge, in front of Flask.

A token request is the one request this server answers thousands of times a
second, and Flask's dispatch (request and app contexts, URL matching, the
before- and after-request hooks, the response object) cost more CPU than
everything the endpoint itself does, Authlib included. So :class:`TokenEdge`
takes ``POST /oauth2/token`` before Flask does and hands it straight to the
app's Authlib server (:meth:`.AuthorizationServer.token_answer`): the same
form checks, the same client authentication, the same grant, the same bytes
out. What Flask would add on this path is done here:

* the answer's headers are Authlib's (``Content-Type``, ``Cache-Control:
  no-store``, ``Pragma: no-cache``, RFC 6749 §5.1) plus ``Content-Length``,
  and its body is the app's own JSON encoding;
* the token-result counter and the endpoint label of the latency histogram
  (:mod:`authserver.observability`);
* anything that is not an OAuth error (a database outage, a bug) is handed to
  the app's error handlers inside a Flask request context, so it is answered
  exactly as on every other endpoint (503, 500, without a stack trace).

Requests Flask must judge stay with Flask: another path or method, no or an
unusable ``Content-Length`` (chunked bodies), a body over
``MAX_CONTENT_LENGTH`` (413), and every request while tracing is on
(OpenTelemetry instruments Flask).

It sits inside the trusted-proxy fix (so the client address is the one the
proxies reported) and the access log (request id, log line).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from authlib.common.encoding import to_bytes
from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from ..observability import context, metrics

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .authorization_server import AuthorizationServer

#: the path this edge serves
TOKEN_PATH = "/oauth2/token"
#: the app's URL rule for it (the endpoint label of the latency histogram)
TOKEN_RULE = "/oauth2/token"
#: where the app keeps its tracer provider when tracing is on
_TRACER = "authserver.tracer_provider"


def status_line(code: int) -> str:
    """The status line Werkzeug writes for *code* (``401 UNAUTHORIZED``)."""
    return f"{code} {HTTP_STATUS_CODES.get(code, 'UNKNOWN').upper()}"


#: the form's media type (RFC 6749 §4.4.2, Appendix B)
FORM = "application/x-www-form-urlencoded"


class TokenRequest(Request):
    """A bare Werkzeug request (no Flask context) with the app's body limit.

    The form is parsed as Werkzeug parses ``application/x-www-form-urlencoded``
    (the same ``parse_qsl`` call; a body that is not UTF-8 gives an empty form,
    a body shorter than its ``Content-Length`` is a client that went away),
    without Werkzeug's stream and parser objects: :class:`TokenEdge` has
    already checked that ``Content-Length`` is present and within the limit.
    """

    def __init__(self, environ: WSGIEnvironment, max_content_length: int | None) -> None:
        super().__init__(environ)
        self.max_content_length = max_content_length

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        if self.mimetype != FORM:
            super()._load_form_data()
            return
        length = int(self.environ["CONTENT_LENGTH"])
        body = self.environ["wsgi.input"].read(length) if length else b""
        if len(body) < length:
            raise ClientDisconnected()
        try:
            items = parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote")
        except ValueError:  # not UTF-8: Werkzeug's parser gives an empty form too
            items = []
        fields = self.__dict__
        fields["stream"], fields["form"], fields["files"] = (
            io.BytesIO(),
            ImmutableMultiDict(items),
            ImmutableMultiDict(),
        )


class TokenEdge:
    """WSGI middleware: ``POST /oauth2/token`` without Flask's dispatch (see
    the module docstring); everything else goes on to *wsgi_app*.

    :param app: the Flask app (its config, its Authlib server, its error handlers).
    :param wsgi_app: Flask's WSGI callable (``app.wsgi_app`` before any middleware).
    """

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        limit = app.config.get("MAX_CONTENT_LENGTH")
        self.max_content_length: int | None = int(limit) if limit is not None else None
        self._server: AuthorizationServer | None = None

    def _takes(self, environ: WSGIEnvironment) -> bool:
        if environ.get("PATH_INFO") != TOKEN_PATH or environ.get("REQUEST_METHOD") != "POST":
            return False
        length = environ.get("CONTENT_LENGTH", "")
        if not length.isdigit() or "HTTP_TRANSFER_ENCODING" in environ:
            return False
        if self.max_content_length is not None and int(length) > self.max_content_length:
            return False  # Flask answers 413 through the app's handler
        return _TRACER not in self.app.extensions

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not self._takes(environ):
            return self.wsgi_app(environ, start_response)
        server = self._server
        if server is None:
            from .endpoints import EXTENSION

            server = self._server = self.app.extensions[EXTENSION]
        environ[context.ENDPOINT] = TOKEN_RULE
        request = TokenRequest(environ, self.max_content_length)
        try:
            status, payload, headers = server.token_answer(request)
        except Exception as error:  # noqa: BLE001 - answered by the app's error handlers
            return self._through_flask(environ, start_response, error)
        if status == 429:  # too many failed authentications: held, then sent
            server.tarpit.hold()
        error_code = payload.get("error") if status != 200 else None
        metrics.TOKEN_REQUESTS.labels(metrics.token_result(status, error_code)).inc()
        body = to_bytes(self.app.json.dumps(payload))
        start_response(status_line(status), [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _through_flask(
        self, environ: WSGIEnvironment, start_response: StartResponse, error: Exception
    ) -> Iterable[bytes]:
        """Answer *error* as Flask would have: the app's error handlers and
        after-request hooks, in a request context for this environ."""
        app = self.app
        with app.request_context(environ):
            try:
                answer = app.handle_user_exception(error)
            except Exception as unhandled:  # noqa: BLE001 - Flask's 500 handler
                answer = app.handle_exception(unhandled)
            response: Any = app.finalize_request(answer)
            return response(environ, start_response)  # type: ignore[no-any-return]


def install(app: Flask) -> None:
    """Put the token edge in front of *app*'s Flask dispatch (call before any
    other middleware wraps ``app.wsgi_app``)."""
    app.wsgi_app = TokenEdge(app, app.wsgi_app)  # type: ignore[method-assign]
