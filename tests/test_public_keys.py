"""Reading client public keys (JWK or PEM) and what each may verify."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from support.assertions import key_pair

from authserver.public_keys import InvalidPublicKey, load_verifier, parse_public_key, thumbprint


def test_rfc7638_thumbprint_example():
    """RFC 7638 §3.1: the example RSA key's thumbprint."""
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize(
    ("kind", "algorithms"),
    [("EC", ("ES256",)), ("EC384", ("ES384",)), ("RSA", ("PS256", "RS256")), ("OKP", ("EdDSA",))],
)
def test_pem_and_jwk_give_the_same_key(kind, algorithms):
    pair = key_pair(kind)
    from_pem = parse_public_key(pair.public_pem)
    from_jwk = parse_public_key(json.dumps(pair.public_jwk()))
    assert from_pem.thumbprint == from_jwk.thumbprint
    assert from_pem.algorithms == algorithms
    assert load_verifier(from_pem.jwk).algorithms == algorithms


def test_a_jwk_alg_narrows_the_algorithms():
    key = parse_public_key(json.dumps(key_pair("RSA").public_jwk(alg="PS256", use="sig")))
    assert key.algorithms == ("PS256",)
    with pytest.raises(InvalidPublicKey, match="alg must be one of ES256"):
        parse_public_key(json.dumps(key_pair("EC").public_jwk(alg="RS256")))
    with pytest.raises(InvalidPublicKey, match="use must be sig"):
        parse_public_key(json.dumps(key_pair("EC").public_jwk(use="enc")))


def _pem(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (lambda: _pem(rsa.generate_private_key(65537, 1024).public_key()), "at least 2048 bits"),
        (lambda: _pem(ec.generate_private_key(ec.SECP521R1()).public_key()), "P-256 or P-384"),
        (lambda: _pem(ec.generate_private_key(ec.SECP256K1()).public_key()), "P-256 or P-384"),
        (lambda: key_pair("EC").private_pem, "private key"),
        (lambda: json.dumps({**key_pair("EC").public_jwk(), "d": "x"}), "private or symmetric"),
        (lambda: '{"kty": "oct", "k": "c2VjcmV0"}', "private or symmetric"),
        (lambda: "x" * 2001, "too long"),
        (lambda: "   ", "Paste a public key"),
        (lambda: json.dumps({**key_pair("EC").public_jwk(), "kid": 5}), "kid must be a string"),
    ],
)
def test_unacceptable_keys(text, message):
    with pytest.raises(InvalidPublicKey, match=message):
        parse_public_key(text())
