"""Authlib wiring, in one place: the authorization server, its client
authentication methods, token generator, grant and endpoints.

Where Authlib 1.9.10 deviates from what RFC 6749 and this server promise, the
subclasses here, in :mod:`authserver.oauth_requests` (reading requests) and in
:mod:`authserver.oauth_errors` (the §5.2 answers) override it (each override
says why):

* parameters come from the form body only (Authlib also reads the query
  string), and the body must be ``application/x-www-form-urlencoded``
  (RFC 6749 §3.2, §4.4.2): a JSON body is ``invalid_request``;
* a repeated parameter is ``invalid_request`` (§3.2: "Request and response
  parameters MUST NOT be included more than once"); so are a missing
  ``grant_type`` (Authlib says ``unsupported_grant_type``) and two
  authentication methods at once (§2.3: "MUST NOT use more than one");
* Basic credentials are decoded strictly and form-urldecoded (§2.3.1; Authlib
  uses plain percent-decoding, lenient base64, and fails with a 500 on bytes
  that are not UTF-8);
* ``invalid_client`` is always 401 with ``WWW-Authenticate: Basic realm=...``;
* Authlib refuses any request URL that is not https or loopback with an
  exception the endpoint does not catch (a 500 behind a TLS-terminating proxy);
  transport security is the deployment's job (production requires an https
  issuer), so that check is left out;
* error descriptions are fixed ASCII text and never echo the request.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, cast

from authlib.consts import default_json_headers
from authlib.integrations.flask_oauth2 import AuthorizationServer as _FlaskAuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from flask import Flask, Response, current_app, json
from flask import request as flask_request
from sqlalchemy import Engine, create_engine

from . import tokens
from .client_auth import (
    AuthenticationFailed,
    ClientReader,
    ClientRecord,
    SecretVerifier,
    TooManyFailures,
    VerifierBusy,
)
from .extensions import db
from .grants import ClientCredentialsGrant
from .keys import KeyStore
from .oauth_errors import (
    Busy,
    InvalidClient,
    RevocationRefused,
    TokenTooLarge,
    TooManyAttempts,
    UnsupportedGrantType,
)
from .oauth_requests import FormRequest, validate_form
from .observability import context
from .services import audit
from .services import tokens as token_service
from .throttle import from_config

log = logging.getLogger(__name__)

EXTENSION = "authserver.oauth2"
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class AuthorizationServer(_FlaskAuthorizationServer):  # type: ignore[misc]
    """Authlib's Flask authorization server, configured for this app.

    One per app (kept in ``app.extensions``), so that tests can run many apps.
    """

    def __init__(self, app: Flask) -> None:
        super().__init__()
        config = app.config
        self.issuer: str = config["ISSUER"]
        self.audience: str = config["AUDIENCE"]
        self.lifetime: int = int(config["TOKEN_LIFETIME"])
        self.engine_options: dict[str, Any] = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        self.verifier = SecretVerifier(
            from_config(config, "AUTH_FAILURE_LIMIT", "client-auth"),
            max_concurrent=int(config.get("ARGON2_MAX_CONCURRENT", 2)),
        )
        self.key_config = {
            "alg": config["SIGNING_ALG"],
            "encryption_key": config.get("KEY_ENCRYPTION_KEY"),
            "cache_seconds": float(config.get("KEY_CACHE_SECONDS", 30)),
        }
        self._keys: KeyStore | None = None
        self._read_engine: Engine | None = None
        self._reader: ClientReader | None = None
        self._lock = threading.Lock()
        self.init_app(app, query_client=self.query_client_record, save_token=self.save_nothing)
        self.register_token_generator("default", self.generate_access_token)
        self.register_client_auth_method("client_secret_basic", authenticate_client_secret_basic)
        self.register_client_auth_method("client_secret_post", authenticate_client_secret_post)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(IntrospectionEndpoint)
        self.register_endpoint(RevocationEndpoint)

    # resources made on first use (they need the app's engine) --------------

    @property
    def read_engine(self) -> Engine:
        """An autocommit engine for the token path's one read: no BEGIN/ROLLBACK round trips."""
        if self._read_engine is None:
            with self._lock:
                if self._read_engine is None:
                    options = {k: v for k, v in self.engine_options.items() if k != "pool_pre_ping"}
                    engine = create_engine(
                        db.engine.url,
                        isolation_level="AUTOCOMMIT",
                        pool_reset_on_return=None,
                        **options,
                    )
                    weakref.finalize(self, engine.dispose)
                    self._read_engine = engine
        return self._read_engine

    @property
    def keys(self) -> KeyStore:
        if self._keys is None:
            with self._lock:
                if self._keys is None:
                    self._keys = KeyStore(db.engine, **self.key_config)
        return self._keys

    # Authlib hooks -----------------------------------------------------------

    def query_client_record(self, client_id: str) -> ClientRecord | None:
        """The client with its live secrets and enabled organizations (one query)."""
        reader = self._reader
        if reader is None:
            engine = self.read_engine
            with self._lock:
                if self._reader is None:
                    self._reader = ClientReader(engine)
                reader = self._reader
        return reader(client_id)

    def save_nothing(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Tokens are not stored (issue 2 item 7); revocation is by ``jti``."""

    def generate_access_token(
        self,
        grant_type: str,
        client: ClientRecord,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """Authlib's token generator: a signed RFC 9068 token for the granted *scope*."""
        apis, organizations = tokens.parse_scope(scope or "")
        issued = tokens.issue(
            self.keys.signing_key(),
            issuer=self.issuer,
            audience=self.audience,
            client_id=client.client_id,
            api_scopes=apis,
            organizations=organizations,
            lifetime=self.lifetime,
        )
        if len(issued.access_token) > tokens.MAX_TOKEN_LENGTH:
            raise TokenTooLarge()
        return issued.response()

    def create_oauth2_request(self, request: Any) -> FormRequest:
        return FormRequest(flask_request)

    def handle_response(self, status_code: int, payload: Any, headers: Any) -> Response:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        return Response(payload, status=status_code, headers=headers)

    def get_token_grant(self, request: FormRequest) -> Any:
        for grant_cls, extensions in self._token_grants:
            if grant_cls.check_token_endpoint(request):
                grant = grant_cls(request, self)
                for extension in extensions or ():
                    extension(grant)
                return grant
        raise UnsupportedGrantType()

    def create_token_response(self, request: Any = None) -> Response:
        """RFC 6749 §4.4.2/§5: the form checks first, then Authlib's grant flow."""
        oauth_request = self.create_oauth2_request(request)
        try:
            validate_form(oauth_request, required=("grant_type",))
            grant = self.get_token_grant(oauth_request)
            grant.validate_token_request()
            return self.handle_response(*grant.create_token_response())
        except OAuth2Error as error:
            return cast(Response, self.handle_error_response(oauth_request, error))

    def create_endpoint_response(self, name: str, request: Any = None) -> Response:
        """Introspection and revocation: the form checks first, then the endpoint."""
        endpoint = self._endpoints[name][0]
        oauth_request = self.create_oauth2_request(request)
        try:
            validate_form(oauth_request, required=("token",))
            return self.handle_response(*endpoint(oauth_request))
        except OAuth2Error as error:
            return cast(Response, self.handle_error_response(oauth_request, error))

    def authenticate_client(
        self, request: FormRequest, methods: list[str], endpoint: str = "token"
    ) -> Any:
        if request.credentials is None or request.credentials.method not in methods:
            raise InvalidClient()
        return super().authenticate_client(request, methods, endpoint)

    def token_settings(self) -> token_service.TokenSettings:
        return token_service.TokenSettings(
            issuer=self.issuer, audience=self.audience, keys=self.keys.verification_key
        )


def _authenticate(query_client: Any, request: FormRequest, method: str) -> ClientRecord | None:
    credentials = request.credentials
    if credentials is None or credentials.method != method:
        return None
    server: AuthorizationServer = current_app.extensions[EXTENSION]
    try:
        record = server.verifier.authenticate(
            query_client,
            credentials.client_id,
            credentials.client_secret,
            flask_request.remote_addr,
        )
        context.set_client_id(record.client_id)
        return record
    except AuthenticationFailed:
        raise InvalidClient() from None
    except TooManyFailures as error:
        raise TooManyAttempts(error.retry_after) from None
    except VerifierBusy:
        raise Busy() from None


def authenticate_client_secret_basic(
    query_client: Any, request: FormRequest
) -> ClientRecord | None:
    """``client_secret_basic`` (RFC 6749 §2.3.1, HTTP Basic)."""
    return _authenticate(query_client, request, "client_secret_basic")


def authenticate_client_secret_post(query_client: Any, request: FormRequest) -> ClientRecord | None:
    """``client_secret_post`` (RFC 6749 §2.3.1, credentials in the form body)."""
    return _authenticate(query_client, request, "client_secret_post")


# -- introspection and revocation -----------------------------------------------


class IntrospectionEndpoint(_IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662. The rules live in :func:`authserver.services.tokens.introspect`."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def create_endpoint_response(
        self, request: FormRequest
    ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        client = self.authenticate_endpoint_client(request)
        body = token_service.introspect(client, request.form["token"], self.server.token_settings())
        return 200, body, default_json_headers


class RevocationEndpoint(_RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009. The rules live in :func:`authserver.services.tokens.revoke`.

    ``token_type_hint`` is ignored (§2.1: only access tokens exist here).
    """

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def create_endpoint_response(
        self, request: FormRequest
    ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        client = self.authenticate_endpoint_client(request)
        ctx = audit.AuditContext(
            actor=f"client:{client.client_id}",
            remote_addr=flask_request.remote_addr,
            request_id=context.request_id(),
        )
        try:
            token_service.revoke(client, request.form["token"], self.server.token_settings(), ctx)
        except token_service.RevocationNotAllowed:
            raise RevocationRefused() from None
        return 200, {}, default_json_headers


def init_app(app: Flask) -> AuthorizationServer:
    """Make this app's authorization server."""
    server = AuthorizationServer(app)
    app.extensions[EXTENSION] = server
    return server


def server() -> AuthorizationServer:
    """The current app's authorization server."""
    result: AuthorizationServer = current_app.extensions[EXTENSION]
    return result
