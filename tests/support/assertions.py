"""Key pairs and client assertions (RFC 7523 §2.2) for tests, signed with PyJWT."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from authserver.oauth2.requests import JWT_BEARER_ASSERTION

#: the algorithm each test key type signs with by default
ALGORITHMS = {"EC": "ES256", "EC384": "ES384", "RSA": "RS256", "PSS": "PS256", "OKP": "EdDSA"}


@dataclass
class KeyPair:
    """A partner's key pair: the private key stays in the test, the public one is registered."""

    private: Any
    alg: str

    @property
    def public_pem(self) -> str:
        return str(
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    @property
    def private_pem(self) -> str:
        return str(
            self.private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
        )

    def public_jwk(self, **members: Any) -> dict[str, Any]:
        algorithm = jwt.algorithms.get_default_algorithms()[self.alg]
        jwk: dict[str, Any] = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**jwk, **members}


def key_pair(kind: str = "EC") -> KeyPair:
    """A fresh key pair: ``EC`` (P-256), ``EC384``, ``RSA``, ``PSS`` (RSA, PS256), ``OKP``."""
    private: Any
    if kind == "EC":
        private = ec.generate_private_key(ec.SECP256R1())
    elif kind == "EC384":
        private = ec.generate_private_key(ec.SECP384R1())
    elif kind in {"RSA", "PSS"}:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    return KeyPair(private, ALGORITHMS[kind])


def claims_for(client_id: str, audience: Any, **changes: Any) -> dict[str, Any]:
    """RFC 7523 §3 claims, valid for 60 s; ``changes`` override (``None`` removes)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def sign(
    pair: KeyPair,
    client_id: str,
    audience: Any,
    *,
    headers: dict[str, Any] | None = None,
    alg: str | None = None,
    **changes: Any,
) -> str:
    """A signed client assertion for *client_id*."""
    return jwt.encode(
        claims_for(client_id, audience, **changes),
        pair.private,
        algorithm=alg or pair.alg,
        headers=headers,
    )


def assertion_form(assertion: str, **params: str) -> dict[str, str]:
    """The form parameters of RFC 7521 §4.2 (plus *params*)."""
    return {
        "client_assertion_type": JWT_BEARER_ASSERTION,
        "client_assertion": assertion,
        **params,
    }


def keyed_partner(directory: Any, teccom_id: str, public_key: str, label: str = "") -> str:
    """A new partner client for *teccom_id* with *public_key* registered; its client id."""
    from authserver.extensions import db
    from authserver.models import User
    from authserver.services import audit, client_keys

    from .oauth import partner

    email = f"keys-{teccom_id}@example.com"
    creds = partner(directory, teccom_id, email=email)
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
    client_keys.add_key(user, creds.client_id, audit.CLI, key=public_key, label=label)
    return creds.client_id
