"""Client public keys for ``private_key_jwt`` (RFC 7523 §2.2): reading a JWK
(RFC 7517) or a PEM public key, and which signature algorithms each may
verify.

Accepted: RSA of at least 2048 bits (``RS256``, ``PS256``), EC P-256
(``ES256``) and P-384 (``ES384``), Ed25519 (``EdDSA``). Never a private key
(the private key stays with the partner), never a symmetric key. No Flask
and no database here: the admin service and the token path both use it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

#: the signature algorithms a client assertion may use (RFC 7518 §3.1, RFC 8037)
ASSERTION_ALGORITHMS = ("ES256", "ES384", "PS256", "RS256", "EdDSA")
#: the smallest RSA modulus accepted, in bits (RFC 7518 §3.3)
MIN_RSA_BITS = 2048
#: the longest key text accepted (a 4096-bit RSA public key is about 800 characters;
#: a JSON body of the longest, escaped, stays under the request size limit)
MAX_KEY_TEXT = 2000

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: RFC 7638 §3.2: the members of each key type a thumbprint covers
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}


class InvalidPublicKey(ValueError):
    """The text is not an acceptable public key; the message says why (no key material in it)."""


@dataclass(frozen=True)
class PublicKey:
    """A checked public key as stored: its JWK and what names it."""

    jwk: dict[str, Any]
    thumbprint: str
    kid: str
    algorithms: tuple[str, ...]

    @property
    def jwk_json(self) -> str:
        return json.dumps(self.jwk, separators=(",", ":"), sort_keys=True)


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url without padding)."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def algorithms_for(key: Any) -> tuple[str, ...]:
    """The assertion algorithms *key* (a ``cryptography`` public key) may verify.

    :raises InvalidPublicKey: a key type, curve or size this server does not accept.
    """
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise InvalidPublicKey(f"RSA keys must have at least {MIN_RSA_BITS} bits.")
        return ("PS256", "RS256")
    if isinstance(key, ec.EllipticCurvePublicKey):
        names = {"secp256r1": "ES256", "secp384r1": "ES384"}
        if key.curve.name not in names:
            raise InvalidPublicKey("EC keys must be on the curve P-256 or P-384.")
        return (names[key.curve.name],)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ("EdDSA",)
    raise InvalidPublicKey("Use an RSA (2048 bits or more), EC P-256/P-384 or Ed25519 public key.")


def _to_jwk(key: Any) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPublicKey):
        return dict(RSAAlgorithm.to_jwk(key, as_dict=True))
    if isinstance(key, ec.EllipticCurvePublicKey):
        return dict(ECAlgorithm.to_jwk(key, as_dict=True))
    return dict(OKPAlgorithm.to_jwk(key, as_dict=True))


def _from_jwk(data: dict[str, Any]) -> Any:
    if _PRIVATE_MEMBERS & set(data):
        raise InvalidPublicKey("This is a private or symmetric key: paste only the public key.")
    kty = data.get("kty")
    try:
        if kty == "RSA":
            return RSAAlgorithm.from_jwk(data)
        if kty == "EC":
            return ECAlgorithm.from_jwk(data)
        if kty == "OKP":
            return OKPAlgorithm.from_jwk(data)
    except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
        raise InvalidPublicKey("The JWK is not a valid public key.") from None
    raise InvalidPublicKey("Use an RSA, EC or OKP (Ed25519) public key.")


def parse_public_key(text: str) -> PublicKey:
    """A public key from a JWK (JSON) or a PEM ``PUBLIC KEY`` block.

    The JWK's own ``kid`` is kept; its ``alg``, if any, must be one this key
    may use, and its ``use``, if any, ``sig``.

    :raises InvalidPublicKey: not an acceptable public key.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidPublicKey("Paste a public key as a JWK or in PEM format.")
    text = text.strip()
    if len(text) > MAX_KEY_TEXT:
        raise InvalidPublicKey(
            "The key is too long: paste the public key alone (PEM, or a JWK without x5c)."
        )
    given: dict[str, Any] = {}
    if text.startswith("{"):
        try:
            given = json.loads(text)
        except ValueError:
            raise InvalidPublicKey("The JWK is not valid JSON.") from None
        if not isinstance(given, dict):
            raise InvalidPublicKey("The JWK must be a JSON object.")
        if "keys" in given:
            raise InvalidPublicKey("Paste one key (a JWK), not a JWK Set.")
        key = _from_jwk(given)
    elif "PRIVATE KEY" in text:
        raise InvalidPublicKey("This is a private key: paste only the public key.")
    else:
        try:
            key = serialization.load_pem_public_key(text.encode("utf-8"))
        except (ValueError, TypeError, UnicodeError):
            raise InvalidPublicKey("The text is neither a JWK nor a PEM public key.") from None
    algorithms = algorithms_for(key)
    jwk = _to_jwk(key)
    if given.get("use") not in (None, "sig"):
        raise InvalidPublicKey("The key's use must be sig.")
    alg = given.get("alg")
    if alg is not None:
        if alg not in algorithms:
            raise InvalidPublicKey(f"The key's alg must be one of {', '.join(algorithms)}.")
        jwk["alg"] = alg
        algorithms = (alg,)
    print_ = thumbprint(jwk)
    kid = given.get("kid")
    if kid is not None and (not isinstance(kid, str) or not 0 < len(kid) <= 200):
        raise InvalidPublicKey("The key's kid must be a string of at most 200 characters.")
    jwk["kid"] = kid or print_
    return PublicKey(jwk=jwk, thumbprint=print_, kid=jwk["kid"], algorithms=algorithms)


@dataclass(frozen=True)
class Verifier:
    """A key ready to verify assertions: the ``cryptography`` key, loaded once."""

    kid: str
    key: Any
    algorithms: tuple[str, ...]


def load_verifier(jwk: dict[str, Any]) -> Verifier:
    """A :class:`Verifier` from a stored or fetched JWK.

    :raises InvalidPublicKey: not an acceptable public key (a fetched set may hold any).
    """
    key = _from_jwk(jwk)
    algorithms = algorithms_for(key)
    alg = jwk.get("alg")
    if alg is not None:
        if alg not in algorithms:
            raise InvalidPublicKey("alg does not fit the key")
        algorithms = (alg,)
    if jwk.get("use") not in (None, "sig"):
        raise InvalidPublicKey("not a signing key")
    kid = jwk.get("kid")
    return Verifier(kid if isinstance(kid, str) else "", key, algorithms)
