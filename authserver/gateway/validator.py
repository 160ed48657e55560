"""Local validation of JWT access tokens (RFC 9068 §4), with the issuer's JWKS.

Signatures are verified with PyJWT's algorithm objects (over cryptography) and
keys parsed by PyJWT (:mod:`.jwks`); the claims are checked here, with the same
code the introspection validator uses (:func:`.claims.validate_access_token`),
instead of ``jwt.decode``: that halves the cost of a validation (``jwt.decode``
re-parses the token and re-checks its alphabet byte by byte, which
:mod:`._token` has already done with one regular expression).

A token seen before is found in a bounded cache of verified tokens
(:mod:`.token_cache`) and answered without verifying its signature again,
for as long as it has not expired and its key is still in the JWK Set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from . import _token
from .claims import AccessToken, validate_access_token
from .errors import InvalidToken
from .jwks import JWKSCache
from .metadata import ServerMetadata
from .token_cache import DEFAULT_MAX_ENTRIES, VerifiedToken, VerifiedTokenCache, token_digest

log = logging.getLogger(__name__)

__all__ = ["ASYMMETRIC_ALGORITHMS", "MAX_LEEWAY", "TokenValidator"]

#: the only algorithms a validator may accept: asymmetric signatures. ``none``
#: and the HMAC family are never allowed (RFC 8725 §3.1, §3.2): an HMAC "key"
#: taken from a JWK Set would be a public value.
ASYMMETRIC_ALGORITHMS = frozenset({"ES256", "ES384", "RS256", "PS256", "EdDSA"})

#: seconds of clock skew tolerated at most for ``exp``, ``nbf`` and ``iat``
MAX_LEEWAY = 60

#: longest token lifetime accepted (``exp - iat``); the server allows 3600 s
DEFAULT_MAX_LIFETIME = 3600

#: RFC 9068 §4: ``typ`` is ``at+jwt`` (or the full media type), compared without case
TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})

#: header parameters that would make the token choose its own key (RFC 8725 §3.10),
#: or that change how it must be processed; a token carrying one is refused
FORBIDDEN_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c", "crit", "b64", "zip", "enc"})


class TokenValidator:
    """Validates JWT access tokens of one issuer for one audience, locally.

    The JWK Set is found through the issuer's RFC 8414 metadata unless
    *jwks_url* is given, and cached by :class:`~authserver.gateway.jwks.JWKSCache`.

    :param issuer: the exact ``iss`` of the tokens (the server's issuer URL).
    :param audience: the ``aud`` this API accepts (``export-subscription-api``).
    :param jwks_url: skip discovery and use this JWK Set URL.
    :param algorithms: accepted signature algorithms, a subset of
        :data:`ASYMMETRIC_ALGORITHMS`.
    :param leeway: seconds of clock skew tolerated, at most :data:`MAX_LEEWAY`.
    :param max_token_length: longer tokens are refused before any parsing.
    :param max_lifetime: tokens whose ``exp - iat`` is longer are refused.
    :param cache_size: verified tokens kept (:mod:`.token_cache`); ``0`` keeps none.
    :param jwks_options: passed to :class:`~authserver.gateway.jwks.JWKSCache`
        (``default_ttl``, ``min_ttl``, ``max_ttl``, ``refetch_interval``,
        ``refetch_burst``, ``max_stale``, ``clock``).
    :raises ValueError: an unsafe or impossible setting.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        *,
        algorithms: Iterable[str] = ASYMMETRIC_ALGORITHMS,
        leeway: int = 30,
        max_token_length: int = _token.DEFAULT_MAX_TOKEN_LENGTH,
        max_lifetime: int = DEFAULT_MAX_LIFETIME,
        timeout: float = 5.0,
        cache_size: int = DEFAULT_MAX_ENTRIES,
        **jwks_options: Any,
    ) -> None:
        algorithms = frozenset(algorithms)
        if not algorithms or not algorithms <= ASYMMETRIC_ALGORITHMS:
            raise ValueError(
                f"algorithms must be a non-empty subset of {sorted(ASYMMETRIC_ALGORITHMS)}"
            )
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY} seconds")
        if not 1 <= max_token_length <= _token.MAX_TOKEN_LENGTH_LIMIT:
            raise ValueError(
                f"max_token_length must be between 1 and {_token.MAX_TOKEN_LENGTH_LIMIT}"
            )
        if not (isinstance(issuer, str) and issuer and isinstance(audience, str) and audience):
            raise ValueError("issuer and audience are required")
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms
        self.leeway = leeway
        self.max_token_length = max_token_length
        self.max_lifetime = max_lifetime
        self.metadata = ServerMetadata(issuer, timeout=timeout)
        source: str | Callable[[], str] = jwks_url or (lambda: self.metadata.endpoint("jwks_uri"))
        self.jwks = JWKSCache(source, algorithms=algorithms, timeout=timeout, **jwks_options)
        self.verified = VerifiedTokenCache(cache_size)

    def validate(self, token: str) -> AccessToken:
        """Validate *token* and return what it grants (RFC 9068 §4).

        The order keeps the work an attacker can cause small: length and
        syntax first, then the header (``alg`` allow-list, ``typ``, no key
        source headers), then the key from the cached JWK Set, the signature
        (PyJWT's algorithm over cryptography), and only then the claims. A
        token verified before is taken from the cache while it has not expired
        and the JWK Set still holds the key that verified it.

        :raises InvalidToken: the token must not be accepted (RFC 6750 ``invalid_token``).
        :raises AuthorizationServerUnavailable: the keys cannot be obtained.
        """
        digest = token_digest(_token.validate_length(token, self.max_token_length))
        seen = self.verified.get(digest)
        if seen is not None:
            if time.time() < seen.access_token.expires_at and (
                self.jwks.key(seen.kid, seen.alg) is seen.key
            ):
                return seen.access_token
            self.verified.discard(digest)
        jws = _token.split_compact(token, self.max_token_length)
        alg, kid = self._validate_header(jws.header)
        key = self.jwks.key(kid, alg)
        try:
            verified = key.Algorithm.verify(jws.signing_input, key.key, jws.signature)
        except (ValueError, TypeError):
            verified = False
        if not verified:
            raise InvalidToken("The access token signature is invalid.")
        now = time.time()
        access_token = validate_access_token(
            AccessToken.from_claims(jws.payload()),
            issuer=self.issuer,
            audience=self.audience,
            leeway=self.leeway,
            max_lifetime=self.max_lifetime,
            now=now,
        )
        if now < access_token.expires_at:
            self.verified.put(digest, VerifiedToken(access_token, kid, alg, key))
        return access_token

    def _validate_header(self, header: dict[str, Any]) -> tuple[str, str]:
        """``(alg, kid)`` of an acceptable header (RFC 8725 §3.1, §3.10, §3.11)."""
        alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise InvalidToken("The access token's algorithm is not accepted.")
        if not isinstance(typ, str) or typ.lower() not in TOKEN_TYPES:
            raise InvalidToken("The token is not an access token.")
        if not FORBIDDEN_HEADERS.isdisjoint(header):
            raise InvalidToken("The access token has a forbidden header parameter.")
        if not isinstance(kid, str) or not 0 < len(kid) <= 256:
            raise InvalidToken("The access token names no signing key.")
        return alg, kid
