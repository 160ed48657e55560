"""Authlib's authorization server, configured for this app: the token
generator, the client-authentication methods, the grant and the two
endpoints, and the hooks Authlib calls (``query_client``, ``save_token``).

Where it departs from Authlib, and why, is listed in :mod:`authserver.oauth2`.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer as _FlaskAuthorizationServer
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Flask, Response, json
from flask import request as flask_request
from sqlalchemy import Engine, create_engine

from .. import tokens
from ..extensions import db
from ..gate import Tarpit
from ..grants import ClientCredentialsGrant
from ..keys import KeyStore
from ..services import tokens as token_service
from ..services.secret_usage import SecretUsage
from ..throttle import from_config
from . import private_key_jwt
from .argon2_budget import VerificationBudget
from .client_auth import SecretAuthentication, SecretVerifier
from .client_record import ClientReader, ClientRecord
from .errors import InvalidClient, TokenTooLarge, UnsupportedGrantType, error_response
from .introspection import IntrospectionEndpoint
from .requests import BASIC, POST, PRIVATE_KEY_JWT, FormRequest, validate_form
from .revocation import RevocationEndpoint

log = logging.getLogger(__name__)


@dataclass
class _Held:
    """The token path's open resources: kept connections (released first),
    then the engine they came from."""

    closers: list[Callable[[], None]] = field(default_factory=list)
    engine: Engine | None = None

    def release(self) -> None:
        for close in self.closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - release the rest anyway
                log.warning("could not release a token-path resource", exc_info=True)
        if self.engine is not None:
            self.engine.dispose()


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
        #: no token lives longer, whatever a client's own lifetime says
        self.max_lifetime: int = int(config["MAX_TOKEN_LIFETIME"])
        self.engine_options: dict[str, Any] = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        self.verifier = SecretVerifier(
            from_config(config, "AUTH_FAILURE_LIMIT", "client-auth"),
            max_concurrent=int(config["ARGON2_MAX_CONCURRENT"]),
            budget=VerificationBudget.from_config(config),
        )
        secret_auth = SecretAuthentication(self.verifier)
        #: holds a 429 of client authentication before it is sent (:mod:`.token_wsgi`)
        self.tarpit = Tarpit(float(config["TARPIT_SECONDS"]), int(config["TARPIT_SLOTS"]))
        self.key_config = {
            "alg": config["SIGNING_ALG"],
            "encryption_key": config.get("KEY_ENCRYPTION_KEY"),
            "cache_seconds": float(config.get("KEY_CACHE_SECONDS", 30)),
        }
        self._keys: KeyStore | None = None
        with app.app_context():  # the token path runs without one (:mod:`.token_wsgi`)
            self._engine: Engine = db.engine
        self._read_engine: Engine | None = None
        self._reader: ClientReader | None = None
        self._lock = threading.Lock()
        #: when each secret last got a token, written at most once a minute
        self.usage = SecretUsage(lambda: self.read_engine)
        weakref.finalize(self, self.usage.stop)
        #: what the token path keeps open, released by :meth:`close` (or when collected)
        self._held = _Held()
        weakref.finalize(self, self._held.release)
        self.init_app(app, query_client=self.query_client_record, save_token=self.record_use)
        self.register_token_generator("default", self.generate_access_token)
        self.register_client_auth_method(BASIC, secret_auth.client_secret_basic)
        self.register_client_auth_method(POST, secret_auth.client_secret_post)
        #: the ``private_key_jwt`` method (its key reader and replay store)
        self.assertion = private_key_jwt.from_config(
            config, lambda: self.read_engine, self.verifier.throttle
        )
        self._held.closers.append(self.assertion.close)
        self.register_client_auth_method(PRIVATE_KEY_JWT, self.assertion)
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
                        self._engine.url,
                        isolation_level="AUTOCOMMIT",
                        pool_reset_on_return=None,
                        **options,
                    )
                    self._held.engine = engine
                    self._read_engine = engine
                    self.usage.start()  # the first token of this process is near
        return self._read_engine

    @property
    def keys(self) -> KeyStore:
        if self._keys is None:
            with self._lock:
                if self._keys is None:
                    self._keys = KeyStore(self._engine, **self.key_config)
        return self._keys

    def close(self) -> None:
        """Return every connection the token path keeps checked out and dispose
        of its engine (an app's end; tests; also done when collected)."""
        self._held.release()

    # Authlib hooks -----------------------------------------------------------

    def query_client_record(self, client_id: str) -> ClientRecord | None:
        """The client with its live secrets and enabled organizations (one query)."""
        reader = self._reader
        if reader is None:
            engine = self.read_engine
            with self._lock:
                if self._reader is None:
                    self._reader = ClientReader(engine)
                    self._held.closers.append(self._reader.close)
                reader = self._reader
        return reader(client_id)

    def record_use(self, token: dict[str, Any], request: FormRequest) -> None:
        """Authlib's ``save_token``: tokens are not stored (RFC 9068 tokens are
        self-contained; revocation is by ``jti``); only the secret that got it
        is noted, for its last use (a dict write: :mod:`..services.secret_usage`).
        """
        if request.secret_id is not None:
            self.usage.note(request.secret_id)

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
            lifetime=min(client.access_token_lifetime or self.lifetime, self.max_lifetime),
        )
        if len(issued.access_token) > tokens.MAX_TOKEN_LENGTH:
            raise TokenTooLarge()
        return issued.response()

    def create_oauth2_request(self, request: Any) -> FormRequest:
        if request is None:
            # the request object itself, not Flask's context-local proxy to it: the
            # token path reads it about thirty times, each through the proxy's lookup
            proxy: Any = flask_request
            request = proxy._get_current_object()
        return FormRequest(request)

    def handle_response(self, status_code: int, payload: Any, headers: Any) -> Response:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        return Response(payload, status=status_code, headers=headers)

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Response:
        return error_response(error)

    def get_token_grant(self, request: FormRequest) -> Any:
        for grant_cls, extensions in self._token_grants:
            if grant_cls.check_token_endpoint(request):
                grant = grant_cls(request, self)
                for extension in extensions or ():
                    extension(grant)
                return grant
        raise UnsupportedGrantType()

    def create_token_response(self, request: Any = None) -> Response:
        """RFC 6749 §4.4.2/§5 as a Flask response (:meth:`token_answer`)."""
        return self.handle_response(*self.token_answer(request))

    def token_answer(self, request: Any = None) -> tuple[int, dict[str, Any], list[Any]]:
        """RFC 6749 §4.4.2/§5: the form checks first, then Authlib's grant flow.

        :param request: a Werkzeug request (``None``: Flask's current one).
        :returns: the status, the JSON body and the headers of the answer; an
            OAuth error is an answer too (§5.2), anything else is raised.
        """
        oauth_request = self.create_oauth2_request(request)
        try:
            validate_form(oauth_request, required=("grant_type",))
            grant = self.get_token_grant(oauth_request)
            grant.validate_token_request()
            status, body, headers = grant.create_token_response()
            return status, body, headers
        except OAuth2Error as error:
            return error.status_code, dict(error.get_body()), error.get_headers()

    def create_endpoint_response(self, name: str, request: Any = None) -> Response:
        """Introspection and revocation: the form checks first, then the endpoint."""
        endpoint = self._endpoints[name][0]
        oauth_request = self.create_oauth2_request(request)
        try:
            validate_form(oauth_request, required=("token",))
            return self.handle_response(*endpoint(oauth_request))
        except OAuth2Error as error:
            return self.handle_error_response(oauth_request, error)

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
