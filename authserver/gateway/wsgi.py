"""WSGI integration: protect paths of any WSGI application with bearer tokens
(RFC 6750), with the same answers as :mod:`authserver.gateway.decorators`.

::

    validator = TokenValidator(issuer, "export-subscription-api")
    app = BearerMiddleware(app, validator, realm="export-api", rules=[
        public("/healthz"),
        protect(re.compile(r"/v1/export/(?P<tecId>[^/]+)(/|$)"), organization="tecId"),
        protect("/v1/subscriptions", scope="subscription", organization="tecId"),  # ?tecId=
        refuse_client_tokens("/v1/templates"),
    ])
    # in the wrapped app, after a rule let the request in:
    environ["authserver.access_token"].client_id

The first rule matching ``PATH_INFO`` decides. A path no rule matches is
refused like a Template API path (``default="deny"``) unless told otherwise
(``default="pass"``: untouched): a path guard and the application's router can
disagree (a forgotten route, a trailing slash, ``//`` or ``.`` segments), and
the disagreement then ends in a refusal, never in an unprotected answer.

To answer 400 for ``access_token`` in the form body besides the header, the
body of an ``application/x-www-form-urlencoded`` request with an
``Authorization`` header is read, up to *max_form_bytes* (413 beyond), and put
back as a fresh ``wsgi.input``: the application reads the same bytes. Other
bodies are never touched.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal
from urllib.parse import parse_qsl
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from .bearer import Validator, authorize, error_answer, token_from_header, validate_realm
from .claims import AccessToken
from .errors import AuthorizationServerUnavailable, InsufficientScope, InvalidRequest, TokenError

__all__ = [
    "ENVIRON_KEY",
    "BearerMiddleware",
    "Rule",
    "FormTooLarge",
    "protect",
    "public",
    "refuse_client_tokens",
]

#: where the wrapped application finds the validated :class:`AccessToken`
ENVIRON_KEY = "authserver.access_token"

#: where the organization of a request comes from (see :func:`protect`)
OrganizationSource = str | Callable[[WSGIEnvironment], "str | None"]


class FormTooLarge(InvalidRequest):
    """A form body too large to look for ``access_token`` in: 413."""

    status_code = 413
    description = "The form body is too large."


@dataclass(frozen=True, slots=True)
class Rule:
    """Which requests a rule covers and what they need; made by :func:`protect`,
    :func:`refuse_client_tokens` and :func:`public`.

    :param path: a path prefix, matched on whole segments (``"/v1/templates"``
        covers ``/v1/templates`` and ``/v1/templates/1``, not ``/v1/templatesx``),
        or a compiled regex matched at the start of ``PATH_INFO`` (``re.match``).
    """

    path: str | re.Pattern[str]
    kind: Literal["protect", "template", "public", "deny"]
    scope: str | None = None
    organization: OrganizationSource | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.path, re.Pattern) and not str(self.path).startswith("/"):
            raise ValueError("path is a prefix starting with / or a compiled regex")

    def match(self, path: str) -> Mapping[str, str | None] | None:
        """The named groups of *path* (none for a prefix), or ``None`` when the
        rule does not cover *path*."""
        if isinstance(self.path, re.Pattern):
            found = self.path.match(path)
            return found.groupdict() if found else None
        prefix = self.path.rstrip("/")
        return {} if path == prefix or path.startswith(prefix + "/") else None


def protect(
    path: str | re.Pattern[str],
    *,
    scope: str | None = "export",
    organization: OrganizationSource | None = None,
) -> Rule:
    """Requests under *path* need a valid token granting *scope* (``None``:
    any) and the organization the request names, as
    :func:`~authserver.gateway.decorators.require_token` checks them.

    :param organization: a named group of a regex *path*, else a query
        parameter of that name (exactly one value), or a callable of the environ.
    """
    return Rule(path, "protect", scope, organization)


def refuse_client_tokens(path: str | re.Pattern[str]) -> Rule:
    """Template API paths (docs/rules.md, rule 7): every valid token of this server
    is 403 ``insufficient_scope``; the request never reaches the application."""
    return Rule(path, "template")


def public(path: str | re.Pattern[str]) -> Rule:
    """Paths passed through untouched, without looking for a token."""
    return Rule(path, "public")


#: the rules of a path no rule matches, for ``default="deny"`` and ``"pass"``
_DENY, _PASS = Rule("/", "deny"), Rule("/", "public")


class BearerMiddleware:
    """Guards *app* with bearer tokens checked by *validator*.

    :param realm: the ``realm`` of the ``WWW-Authenticate`` challenges.
    :param rules: tried in order, the first matching ``PATH_INFO`` decides.
    :param default: ``"deny"`` refuses a path no rule matches as
        :func:`refuse_client_tokens` does; ``"pass"`` hands it to *app* untouched.
    :param max_form_bytes: the largest urlencoded body read (see the module).

    Answers (RFC 6750 §3.1): 401 with a bare challenge when the header has no
    token, 401 ``invalid_token``, 403 ``insufficient_scope``, 400
    ``invalid_request``, 503 when the authorization server cannot be asked.
    """

    def __init__(
        self,
        app: WSGIApplication,
        validator: Validator,
        *,
        realm: str = "export-subscription-api",
        rules: Iterable[Rule] = (),
        default: Literal["deny", "pass"] = "deny",
        max_form_bytes: int = 64 * 1024,
    ) -> None:
        self.app = app
        self.validator = validator
        self.realm = validate_realm(realm)
        self.rules = tuple(rules)
        if not all(isinstance(rule, Rule) for rule in self.rules):
            raise ValueError("rules are made by protect(), refuse_client_tokens() or public()")
        if default not in ("deny", "pass"):
            raise ValueError('default is "deny" or "pass"')
        self.default = default
        if max_form_bytes < 0:
            raise ValueError("max_form_bytes must not be negative")
        self.max_form_bytes = max_form_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        rule, groups = self._rule(environ)
        if rule.kind != "public":
            try:
                environ[ENVIRON_KEY] = self._check(rule, groups, environ)
            except (TokenError, AuthorizationServerUnavailable) as error:
                return self._error(error, environ, start_response)
        return self.app(environ, start_response)

    def _rule(self, environ: WSGIEnvironment) -> tuple[Rule, Mapping[str, str | None]]:
        """The first rule covering the request's path, and its named groups."""
        # decoded as werkzeug does for the application's router
        raw = environ.get("PATH_INFO") or "/"
        path = raw.encode("latin-1", "replace").decode("utf-8", "replace")
        for rule in self.rules:
            groups = rule.match(path)
            if groups is not None:
                return rule, groups
        return (_DENY if self.default == "deny" else _PASS), {}

    def _check(
        self, rule: Rule, groups: Mapping[str, str | None], environ: WSGIEnvironment
    ) -> AccessToken:
        """The validated token of a request *rule* lets in, in the order
        :func:`~authserver.gateway.decorators.require_token` checks.

        :raises TokenError: the RFC 6750 §3.1 answer.
        :raises AuthorizationServerUnavailable: the token cannot be checked.
        """
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True, errors="replace")
        access_token = self._validated_token(environ, [name for name, _ in query])
        if rule.kind == "template":
            raise InsufficientScope(
                "Access tokens of this server are not valid for the Template API."
            )
        if rule.kind == "deny":
            raise InsufficientScope("Access tokens of this server are not valid for this path.")
        organization = _organization(rule.organization, groups, query, environ)
        return authorize(access_token, rule.scope, organization)

    def _validated_token(self, environ: WSGIEnvironment, query_keys: list[str]) -> AccessToken:
        authorization = environ.get("HTTP_AUTHORIZATION")
        # without the header the answer is 401 whatever the body holds: not read
        form_keys = _peek_form_keys(environ, self.max_form_bytes) if authorization else []
        return self.validator.validate(token_from_header(authorization, query_keys, form_keys))

    def _error(
        self,
        error: TokenError | AuthorizationServerUnavailable,
        environ: WSGIEnvironment,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        answer = error_answer(error, self.realm)
        # the bytes flask.jsonify makes
        body = (json.dumps(answer.body, separators=(",", ":"), sort_keys=True) + "\n").encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            *answer.headers.items(),
        ]
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def _organization(
    source: OrganizationSource | None,
    groups: Mapping[str, str | None],
    query: list[tuple[str, str]],
    environ: WSGIEnvironment,
) -> str | None:
    if source is None:
        return None
    value: object
    if callable(source):
        value = source(environ)
    elif source in groups:
        value = groups[source]
    else:
        values = [value for name, value in query if name == source]
        # two values: the check might read one and the application the other
        if len(values) != 1:
            raise InvalidRequest("The request must name exactly one organization.")
        value = values[0]
    if not isinstance(value, str) or not value:
        raise InvalidRequest("The request must name exactly one organization.")
    return value


def _peek_form_keys(environ: WSGIEnvironment, limit: int) -> list[str]:
    """The field names of an urlencoded body, which is put back for the
    application (PEP 3333: read no more than ``CONTENT_LENGTH``; without it,
    only from a server that sets ``wsgi.input_terminated``).

    :raises FormTooLarge: the body is longer than *limit* bytes.
    """
    mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    stream = environ.get("wsgi.input")
    if mimetype != "application/x-www-form-urlencoded" or stream is None:
        return []
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    length = None if chunked else environ.get("CONTENT_LENGTH") or None
    if length is None and "wsgi.input_terminated" not in environ:
        return []  # no body an application may read
    if length is None:
        size = limit + 1  # one byte more tells a body too large
    else:
        size = _content_length(length)
        if size > limit:
            raise FormTooLarge()
    chunks: list[bytes] = []
    while size > 0 and (chunk := stream.read(size)):
        chunks.append(chunk)
        size -= len(chunk)
    body = b"".join(chunks)
    if len(body) > limit:
        raise FormTooLarge()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True, errors="replace")
    return [name for name, _ in fields]


def _content_length(value: str) -> int:
    """``CONTENT_LENGTH`` as werkzeug reads it: not a number or negative is 0."""
    try:
        return max(0, int(value))
    except ValueError:
        return 0
