"""Signing-key material: making keys, encrypting them at rest, their JWKs.

Private keys are encrypted at rest by :mod:`.encryption`. A key's ``kid`` is
its RFC 7638 thumbprint; the JWK Set (RFC 7517 §5) holds public keys only.
Pure functions of their arguments: storing and rotating keys is
:mod:`.rotation`, caching them in a process :mod:`.store`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.fernet import MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from ..models import SigningKey
from .encryption import decrypt, encrypt
from .errors import SigningKeyError

log = logging.getLogger(__name__)

#: algorithms this server can sign with (RFC 7518 §3.1, RFC 8037)
ALGORITHMS = ("ES256", "RS256", "EdDSA")

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey


@dataclass(frozen=True)
class LoadedKey:
    """A signing key as key objects, ready for PyJWT."""

    kid: str
    alg: str
    private_key: PrivateKey
    public_key: PublicKey
    public_jwk: dict[str, Any]
    activates_at: datetime
    retire_at: datetime | None

    def is_published(self, now: datetime) -> bool:
        return self.retire_at is None or self.retire_at > now


# -- making keys ---------------------------------------------------------------


def generate_private_key(alg: str) -> PrivateKey:
    """A new private key for *alg* (ES256: P-256; RS256: 3072-bit RSA; EdDSA: Ed25519)."""
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def public_jwk(public_key: PublicKey, alg: str) -> dict[str, Any]:
    """The public JWK (RFC 7517 §4) with ``kid`` (the RFC 7638 thumbprint), ``alg`` and ``use``."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(public_key, as_dict=True)
        required: tuple[str, ...] = ("crv", "kty", "x", "y")
    elif isinstance(public_key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
        required = ("e", "kty", "n")
    else:
        jwk = OKPAlgorithm.to_jwk(public_key, as_dict=True)
        required = ("crv", "kty", "x")
    jwk = {name: jwk[name] for name in ("kty", "crv", "x", "y", "n", "e") if name in jwk}
    jwk["kid"] = thumbprint({name: jwk[name] for name in required})
    jwk["alg"] = alg
    jwk["use"] = "sig"
    return jwk


def thumbprint(members: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of the required members."""
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def new_signing_key(
    alg: str, cipher: MultiFernet | None, *, now: datetime, activates_at: datetime | None = None
) -> SigningKey:
    """A new (unsaved) :class:`SigningKey` row, its private key encrypted when *cipher* is given."""
    private_key = generate_private_key(alg)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = public_jwk(private_key.public_key(), alg)
    if cipher is None:
        log.warning(
            "signing key %s stored unencrypted: "
            "set AUTHSERVER_KEY_ENCRYPTION_KEY to encrypt keys at rest",
            jwk["kid"],
        )
    data, encrypted = encrypt(pem, cipher)
    return SigningKey(
        kid=jwk["kid"],
        alg=alg,
        private_key=data,
        encrypted=encrypted,
        public_jwk=jwk,
        created_at=now,
        activates_at=activates_at or now,
        retire_at=None,
    )


def load_key(row: Any, cipher: MultiFernet | None) -> LoadedKey:
    """Key objects for a stored key (a :class:`SigningKey` or a row with its columns).

    :raises KeyEncryptionError: the key is encrypted and *cipher* cannot decrypt it.
    """
    data = decrypt(row.kid, bytes(row.private_key), bool(row.encrypted), cipher)
    private_key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(
        private_key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)
    ):
        raise SigningKeyError(f"signing key {row.kid} has an unsupported key type")
    return LoadedKey(
        kid=row.kid,
        alg=row.alg,
        private_key=private_key,
        public_key=private_key.public_key(),
        public_jwk=dict(row.public_jwk),
        activates_at=row.activates_at,
        retire_at=row.retire_at,
    )


def active_key(keys: Iterable[LoadedKey], now: datetime) -> LoadedKey | None:
    """The one key that signs at *now*: the newest activated, still published key."""
    candidates = [key for key in keys if key.activates_at <= now and key.is_published(now)]
    if not candidates:
        return None
    return max(candidates, key=lambda key: (key.activates_at, key.kid))


def jwks(keys: Iterable[LoadedKey], now: datetime) -> dict[str, Any]:
    """The JWK Set (RFC 7517 §5): public keys only, each with ``kid``, ``alg``, ``use``."""
    published = sorted(
        (key for key in keys if key.is_published(now)), key=lambda key: (key.activates_at, key.kid)
    )
    return {"keys": [dict(key.public_jwk) for key in published]}
