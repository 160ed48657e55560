"""OAuth requests read as RFC 6749 wants them: parameters from the form body
only, each at most once (§3.2), and client credentials from exactly one
method, Basic decoded strictly and form-urldecoded (§2.3, §2.3.1), or a
client assertion (RFC 7521 §4.2, RFC 7523 §2.2).
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Payload
from flask import Request

from .errors import (
    InvalidClient,
    MalformedForm,
    MissingGrantType,
    MissingToken,
    MultipleAuthentication,
    NotAForm,
    RepeatedParameter,
)

#: the client authentication methods of this server (RFC 6749 §2.3.1, RFC 8414 §2)
BASIC = "client_secret_basic"
POST = "client_secret_post"
#: a JWT signed with the client's private key (RFC 7523 §2.2, OpenID Connect Core §9)
PRIVATE_KEY_JWT = "private_key_jwt"
AUTH_METHODS = (BASIC, POST, PRIVATE_KEY_JWT)
#: the ``client_assertion_type`` of a JWT client assertion (RFC 7523 §2.2)
JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Credentials:
    """Client credentials as presented (RFC 6749 §2.3.1)."""

    method: str
    #: for an assertion: the ``client_id`` parameter if sent (RFC 7521 §4.2), else ""
    client_id: str
    client_secret: str
    #: ``client_assertion`` (RFC 7521 §4.2); empty for the secret methods
    assertion: str = ""


class FormPayload(OAuth2Payload):  # type: ignore[misc]
    """Parameters from the form body only."""

    def __init__(self, request: Request) -> None:
        self._request = request

    @property
    def data(self) -> Any:
        return self._request.form

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        form = self._request.form
        for name in form:
            values[name].extend(form.getlist(name))
        return values


class FormRequest(FlaskOAuth2Request):  # type: ignore[misc]
    """An OAuth2 request whose parameters come from the form body only.

    Sets the attributes ``OAuth2Request.__init__`` would set without calling it:
    that initializer refuses non-https URLs with an exception no endpoint
    catches (see :mod:`authserver.oauth2`: transport security is the deployment's job).
    """

    def __init__(self, request: Request) -> None:  # see the class docstring
        self.method = request.method
        self.uri = request.path  # not request.url: building it costs more than the client query
        self.headers = request.headers
        self._body = None
        self._request = request
        self.payload = FormPayload(request)
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None
        self.credentials: Credentials | None = None
        #: the client's address (behind trusted proxies: from X-Forwarded-For)
        self.remote_addr: str | None = request.remote_addr
        #: the row id of the client secret that authenticated the request
        self.secret_id: int | None = None


def _parse_basic(value: str) -> tuple[str, str]:
    """Client id and secret from ``Authorization: Basic`` (RFC 7617 §2, RFC 6749 §2.3.1).

    :raises InvalidClient: not a well-formed Basic credential.
    """
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidClient() from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient()
    return unquote_plus(client_id), unquote_plus(secret)


def validate_form(request: FormRequest, *, required: Iterable[str] = ()) -> None:
    """The checks every OAuth endpoint makes before anything else.

    Reading the form here also enforces ``MAX_CONTENT_LENGTH`` (413) before any
    hashing. Sets ``request.credentials``.

    :raises OAuth2Error: ``invalid_request`` or ``invalid_client``.
    """
    flask_req: Request = request._request
    form = flask_req.form
    if flask_req.mimetype != "application/x-www-form-urlencoded":
        raise NotAForm()
    if not form and flask_req.content_length:
        # werkzeug drops the whole form when the body does not decode as UTF-8
        raise MalformedForm()
    for name in form:
        if len(form.getlist(name)) > 1:
            raise RepeatedParameter()
    for name in required:
        if not form.get(name):
            raise MissingGrantType() if name == "grant_type" else MissingToken()
    authorization = flask_req.headers.get("Authorization")
    body_id = form.get("client_id")
    body_secret = form.get("client_secret")
    if "client_assertion" in form or "client_assertion_type" in form:
        if authorization is not None or body_secret is not None:
            raise MultipleAuthentication()
        assertion = form.get("client_assertion") or ""
        if form.get("client_assertion_type") != JWT_BEARER_ASSERTION:
            assertion = ""  # a type this server does not know: invalid_client (RFC 7521 §4.2.1)
        request.credentials = Credentials(PRIVATE_KEY_JWT, body_id or "", "", assertion)
    elif authorization is not None:
        if body_secret is not None:
            raise MultipleAuthentication()
        client_id, secret = _parse_basic(authorization)
        if body_id is not None and body_id != client_id:
            raise MultipleAuthentication()
        request.credentials = Credentials(BASIC, client_id, secret)
    elif body_secret is not None and body_id is not None:
        request.credentials = Credentials(POST, body_id, body_secret)
