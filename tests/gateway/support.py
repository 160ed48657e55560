"""Test support for the gateway module: signing keys, token minting and a
real local HTTP server publishing RFC 8414 metadata, a JWK Set and an RFC 7662
introspection endpoint (a stand-in for the authorization server, whose own
endpoints are exercised by the end-to-end tests).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

AUDIENCE = "export-subscription-api"
GATEWAY_ID = "gw_test"
GATEWAY_SECRET = "gateway-secret-for-tests"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass
class Key:
    """A signing key pair and its public JWK."""

    alg: str = "ES256"
    kid: str = field(default_factory=lambda: "k-" + uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        if self.alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
        elif self.alg == "ES384":
            self.private = ec.generate_private_key(ec.SECP384R1())
        elif self.alg in ("RS256", "PS256"):
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif self.alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(self.alg)
        self.public = self.private.public_key()

    def public_jwk(self, **extra: Any) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.alg)
        jwk = json.loads(algorithm.to_jwk(self.public))
        jwk.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        jwk.update(extra)
        return jwk


def claims(issuer: str, **overrides: Any) -> dict[str, Any]:
    """Valid access-token claims (RFC 9068 §2.2, docs/rules.md), with *overrides*;
    an override of ``None`` removes the claim."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": issuer,
        "sub": "cl_partner",
        "client_id": "cl_partner",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "scope": "export subscription org:400100 org:400200",
        "organizations": ["400100", "400200"],
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def mint(key: Key, issuer: str, headers: dict[str, Any] | None = None, **overrides: Any) -> str:
    """A token signed by *key* with ``typ: at+jwt`` and its ``kid``."""
    header = {"typ": "at+jwt", "kid": key.kid}
    header.update(headers or {})
    header = {name: value for name, value in header.items() if value is not None}
    return jwt.encode(claims(issuer, **overrides), key.private, algorithm=key.alg, headers=header)


class IssuerServer:
    """A real HTTP server on 127.0.0.1 (a free port) with the endpoints a
    gateway uses. Counts requests per path; its answers can be changed."""

    def __init__(self) -> None:
        self.keys: list[Key] = [Key()]
        self.hits: Counter[str] = Counter()
        self.jwks_cache_control: str | None = "max-age=300"
        self.jwks_status = 200
        self.jwks_document: Any = None  # overrides the published keys
        self.metadata_overrides: dict[str, Any] = {}
        self.introspection_overrides: dict[str, Any] = {}
        self.inactive_jtis: set[str] = set()
        self.gateway_secret = GATEWAY_SECRET
        self.lock = threading.Lock()
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def key(self) -> Key:
        return self.keys[0]

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/oauth2/jwks"

    def start(self) -> IssuerServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def mint(self, **overrides: Any) -> str:
        return mint(self.key, self.issuer, **overrides)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        request = Request(environ)
        with self.lock:
            self.hits[request.path] += 1
        if request.path == "/.well-known/oauth-authorization-server":
            response = self._json(
                {
                    "issuer": self.issuer,
                    "jwks_uri": self.jwks_url,
                    "token_endpoint": self.issuer + "/oauth2/token",
                    "introspection_endpoint": self.issuer + "/oauth2/introspect",
                    **self.metadata_overrides,
                }
            )
        elif request.path in ("/oauth2/jwks", "/v2/jwks"):  # the second: a moved jwks_uri
            document = self.jwks_document or {"keys": [key.public_jwk() for key in self.keys]}
            response = self._json(document, self.jwks_status)
            if self.jwks_cache_control:
                response.headers["Cache-Control"] = self.jwks_cache_control
        elif request.path == "/redirect":
            response = Response("", status=302, headers={"Location": self.jwks_url})
        elif request.path == "/oauth2/introspect" and request.method == "POST":
            response = self._introspect(request)
        else:
            response = self._json({"error": "not_found"}, 404)
        return response(environ, start_response)  # type: ignore[no-any-return]

    @staticmethod
    def _json(body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def _introspect(self, request: Request) -> Response:
        """RFC 7662 §2: gateway Basic auth, then the token checked like the
        authorization server does (its own keys, typ, iss, aud, times)."""
        auth = request.authorization
        # RFC 6749 §2.3.1: id and secret are form-encoded inside Basic
        if auth is None or (
            unquote_plus(auth.username or ""),
            unquote_plus(auth.password or ""),
        ) != (
            GATEWAY_ID,
            self.gateway_secret,
        ):
            return self._json({"error": "invalid_client"}, 401)
        token = request.form.get("token", "")
        try:
            header = jwt.get_unverified_header(token)
            key = next(key for key in self.keys if key.kid == header.get("kid"))
            if header.get("typ") != "at+jwt" or header.get("alg") != key.alg:
                raise jwt.InvalidTokenError("typ")
            payload = jwt.decode(
                token,
                key.public,
                algorithms=[key.alg],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "jti", "client_id"]},
            )
        except (jwt.PyJWTError, StopIteration, ValueError):
            return self._json({"active": False})
        if payload["jti"] in self.inactive_jtis:
            return self._json({"active": False})
        answer = {"active": True, "token_type": "Bearer"}
        answer.update(
            {
                name: payload.get(name)
                for name in (
                    "client_id",
                    "sub",
                    "scope",
                    "iss",
                    "aud",
                    "iat",
                    "exp",
                    "jti",
                    "organizations",
                )
            }
        )
        answer.update(self.introspection_overrides)
        return self._json(answer)


class FakeClock:
    """A monotonic clock the test moves forward (for cache ages only; token
    times are always real)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
