"""The forged-token suite (test data): tokens a gateway must refuse.

Each entry builds one token from a :class:`Forge` (the issuer, the audience,
the issuer's trusted signing key and a rogue key the issuer never published).
The same suite runs against both validators, against the stand-in server and
against the real authorization server.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from .support import AUDIENCE, Key, b64json, b64url, claims, mint


@dataclass
class Forge:
    issuer: str
    key: Key
    audience: str = AUDIENCE
    rogue: Key = field(default_factory=Key)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        return claims(self.issuer, **{"aud": self.audience, **overrides})

    def valid(self, **overrides: Any) -> str:
        return mint(self.key, self.issuer, **{"aud": self.audience, **overrides})

    def public_pem(self) -> bytes:
        return self.key.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def compact(header: dict[str, Any], payload: Any, signature: bytes = b"") -> str:
    """A compact JWS from parts, with any header (PyJWT refuses to make some)."""
    return f"{b64json(header)}.{b64json(payload)}.{b64url(signature)}"


def hmac_signed(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{b64json(header)}.{b64json(payload)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def _rogue(forge: Forge, headers: dict[str, Any], **overrides: Any) -> str:
    return mint(forge.rogue, forge.issuer, headers=headers, aud=forge.audience, **overrides)


def _nested(depth: int) -> str:
    header = b64url(b'{"a":' + b"[" * depth + b"]" * depth + b"}")
    return f"{header}.{b64json({'a': 1})}.{b64url(b'x' * 64)}"


now = lambda: int(time.time())  # noqa: E731

#: name -> token builder; every one must be refused with InvalidToken / 401
FORGED: dict[str, Callable[[Forge], str]] = {
    # alg "none" (RFC 8725 §2.1): unsigned, with and without a signature part
    "alg-none": lambda f: compact({"alg": "none", "typ": "at+jwt", "kid": f.key.kid}, f.claims()),
    "alg-none-with-signature": lambda f: compact(
        {"alg": "none", "typ": "at+jwt", "kid": f.key.kid}, f.claims(), b"sig"
    ),
    "alg-None-case": lambda f: compact(
        {"alg": "None", "typ": "at+jwt", "kid": f.key.kid}, f.claims(), b"x"
    ),
    # key confusion: HMAC keyed with the issuer's public key (PEM and JWK text)
    "hs256-public-key-pem": lambda f: hmac_signed(
        {"alg": "HS256", "typ": "at+jwt", "kid": f.key.kid}, f.claims(), f.public_pem()
    ),
    "hs256-public-jwk": lambda f: hmac_signed(
        {"alg": "HS256", "typ": "at+jwt", "kid": f.key.kid},
        f.claims(),
        jwt.algorithms.get_default_algorithms()[f.key.alg].to_jwk(f.key.public).encode(),
    ),
    # the admin API's own tokens (HS256, typ admin+jwt)
    "admin-api-token": lambda f: jwt.encode(
        {
            "sub": "anna@example.com",
            "iss": f.issuer,
            "aud": "authserver-admin-api",
            "iat": now(),
            "exp": now() + 900,
            "jti": uuid.uuid4().hex,
        },
        "admin-secret-key-" + "x" * 32,
        algorithm="HS256",
        headers={"typ": "admin+jwt"},
    ),
    "admin-api-token-with-at-typ": lambda f: jwt.encode(
        f.claims(),
        "admin-secret-key-" + "x" * 32,
        algorithm="HS256",
        headers={"typ": "at+jwt", "kid": f.key.kid},
    ),
    # typ, iss, aud
    "typ-jwt": lambda f: f.valid(headers={"typ": "JWT"}),
    "typ-missing": lambda f: f.valid(headers={"typ": None}),
    "typ-admin": lambda f: f.valid(headers={"typ": "admin+jwt"}),
    "wrong-iss": lambda f: f.valid(iss="https://evil.example"),
    "iss-with-trailing-slash": lambda f: f.valid(iss=f.issuer + "/"),
    "wrong-aud": lambda f: f.valid(aud="template-api"),
    "aud-missing": lambda f: f.valid(aud=None),
    # times
    "expired": lambda f: f.valid(iat=now() - 3900, exp=now() - 3600),
    "expired-beyond-leeway": lambda f: f.valid(iat=now() - 400, exp=now() - 100),
    "not-yet-valid-nbf": lambda f: f.valid(nbf=now() + 3600, exp=now() + 3900),
    "issued-in-the-future": lambda f: f.valid(iat=now() + 3600, exp=now() + 3900),
    "exp-not-a-number": lambda f: f.valid(exp="tomorrow"),
    "lives-a-day": lambda f: f.valid(exp=now() + 86400),
    # required claims and their types
    "no-client-id": lambda f: f.valid(client_id=None),
    "no-jti": lambda f: f.valid(jti=None),
    "no-organizations": lambda f: f.valid(organizations=None),
    "organizations-not-a-list": lambda f: f.valid(organizations="400100"),
    "scope-not-a-string": lambda f: f.valid(scope=["export"]),
    # keys: unknown kid, a key not in the JWKS, keys offered by the token itself
    "unknown-kid": lambda f: _rogue(f, {}),
    "rogue-key-with-trusted-kid": lambda f: _rogue(f, {"kid": f.key.kid}),
    "no-kid": lambda f: f.valid(headers={"kid": None}),
    "kid-not-a-string": lambda f: compact(
        {"alg": "ES256", "typ": "at+jwt", "kid": 7}, f.claims(), b"x" * 64
    ),
    "jwk-header": lambda f: _rogue(f, {"jwk": f.rogue.public_jwk()}),
    "jwk-header-trusted-kid": lambda f: _rogue(f, {"kid": f.key.kid, "jwk": f.rogue.public_jwk()}),
    "jku-header": lambda f: _rogue(f, {"jku": "http://127.0.0.1:9/jwks.json"}),
    "jku-header-trusted-kid": lambda f: _rogue(
        f, {"kid": f.key.kid, "jku": "https://evil.example/jwks.json"}
    ),
    "x5u-header": lambda f: _rogue(f, {"x5u": "https://evil.example/cert.pem"}),
    "x5c-header": lambda f: _rogue(f, {"x5c": [b64url(b"not a certificate")]}),
    "crit-header": lambda f: f.valid(headers={"crit": ["exp"]}),
    "rs256-with-ec-kid": lambda f: mint(
        Key("RS256"), f.issuer, headers={"kid": f.key.kid}, aud=f.audience
    ),
    "es384-with-es256-kid": lambda f: mint(
        Key("ES384"), f.issuer, headers={"kid": f.key.kid}, aud=f.audience
    ),
    # tampering and truncation
    "payload-swapped": lambda f: ".".join(
        [
            f.valid().split(".")[0],
            b64json(f.claims(organizations=["999999"])),
            f.valid().split(".")[2],
        ]
    ),
    "truncated-signature": lambda f: f.valid()[:-10],
    "signature-removed": lambda f: f.valid().rsplit(".", 1)[0] + ".",
    "two-parts": lambda f: f.valid().rsplit(".", 1)[0],
    "header-only": lambda f: f.valid().split(".")[0],
    "four-parts": lambda f: f.valid() + ".AAAA",
    "garbage": lambda f: "not-a-token",
    "empty": lambda f: "",
    "bad-base64-header": lambda f: "!!!." + f.valid().split(".", 1)[1],
    "header-not-json": lambda f: b64url(b"\xff\xfe not json") + "." + f.valid().split(".", 1)[1],
    "header-json-array": lambda f: b64url(b"[1,2]") + "." + f.valid().split(".", 1)[1],
    "deeply-nested-header": lambda f: _nested(700),
    "deeply-nested-payload": lambda f: (
        f"{f.valid().split('.')[0]}.{b64url(b'[' * 5000)}.{b64url(b'x' * 64)}"
    ),
    # size: refused before any parsing, in bounded time and memory
    "oversized-valid-signature": lambda f: f.valid(padding="x" * 32 * 1024),
    "oversized-1mb": lambda f: "a" * (1024 * 1024) + "." + "b" * 10 + "." + "c" * 10,
}
