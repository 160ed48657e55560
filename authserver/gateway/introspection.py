"""Validation by asking the authorization server (RFC 7662 token introspection).

For gateways that need a revocation, a deleted client or a disabled
organization to take effect at once rather than when the token expires.

Cache (documented contract):

- an **active** answer is kept for ``cache_ttl`` seconds (default 5, at most
  60) and never past the token's ``exp``: a revoked token or a disabled
  organization is noticed at most ``cache_ttl`` seconds late;
- an **inactive** answer is kept for ``negative_cache_ttl`` seconds (default 1,
  at most 5), only to absorb a client retrying the same bad token in a loop;
- errors (server unreachable, gateway credentials refused) are never cached;
- entries are keyed by the SHA-256 of the token (no token is stored), and at
  most ``max_entries`` are kept (oldest dropped first).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from . import _http, _token
from .claims import AccessToken, validate_access_token
from .errors import AuthorizationServerUnavailable, InvalidToken
from .metadata import ServerMetadata
from .validator import DEFAULT_MAX_LIFETIME, MAX_LEEWAY

log = logging.getLogger(__name__)

__all__ = ["IntrospectionValidator"]

MAX_CACHE_TTL = 60.0
MAX_NEGATIVE_CACHE_TTL = 5.0


class IntrospectionValidator:
    """Validates access tokens with the issuer's introspection endpoint; the
    same interface as :class:`~authserver.gateway.TokenValidator`.

    :param issuer: the exact ``iss``; also where the metadata is discovered.
    :param audience: the ``aud`` this API accepts.
    :param client_id: the gateway's credentials (``authserver gateways create``),
        sent with HTTP Basic (RFC 6749 §2.3.1, RFC 7662 §2.1).
    :param client_secret: see *client_id*.
    :param introspection_url: skip discovery and use this endpoint.
    :param cache_ttl: seconds an active answer is reused (see the module doc).
    :param negative_cache_ttl: seconds an inactive answer is reused.
    :raises ValueError: an unsafe or impossible setting.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        client_id: str,
        client_secret: str,
        introspection_url: str | None = None,
        *,
        cache_ttl: float = 5.0,
        negative_cache_ttl: float = 1.0,
        max_entries: int = 10_000,
        leeway: int = 30,
        max_token_length: int = _token.DEFAULT_MAX_TOKEN_LENGTH,
        max_lifetime: int = DEFAULT_MAX_LIFETIME,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 <= cache_ttl <= MAX_CACHE_TTL:
            raise ValueError(f"cache_ttl must be between 0 and {MAX_CACHE_TTL} seconds")
        if not 0 <= negative_cache_ttl <= MAX_NEGATIVE_CACHE_TTL:
            raise ValueError(
                f"negative_cache_ttl must be between 0 and {MAX_NEGATIVE_CACHE_TTL} seconds"
            )
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY} seconds")
        if not 1 <= max_token_length <= _token.MAX_TOKEN_LENGTH_LIMIT:
            raise ValueError(
                f"max_token_length must be between 1 and {_token.MAX_TOKEN_LENGTH_LIMIT}"
            )
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        self.issuer = issuer
        self.audience = audience
        self.cache_ttl = cache_ttl
        self.negative_cache_ttl = negative_cache_ttl
        self.max_entries = max_entries
        self.leeway = leeway
        self.max_token_length = max_token_length
        self.max_lifetime = max_lifetime
        self.timeout = timeout
        self.metadata = ServerMetadata(issuer, timeout=timeout)
        self._url = None
        if introspection_url:
            self._url = _http.validate_url(introspection_url, "introspection_url")
        # RFC 6749 §2.3.1: form-encode id and secret before Basic encoding
        credentials = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
        self._authorization = "Basic " + base64.b64encode(credentials).decode("ascii")
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: OrderedDict[bytes, tuple[float, AccessToken | None]] = OrderedDict()
        self._lock = threading.Lock()
        #: introspection requests sent so far (for monitoring and tests)
        self.request_count = 0

    @property
    def url(self) -> str:
        return self._url or self.metadata.endpoint("introspection_endpoint")

    def validate(self, token: str) -> AccessToken:
        """Validate *token* and return what it grants.

        :raises InvalidToken: the server says it is not active, or its answer
            does not fit this issuer and audience.
        :raises AuthorizationServerUnavailable: the server cannot be asked.
        """
        token = _token.validate_b64token(token, self.max_token_length)
        key = hashlib.sha256(token.encode("ascii")).digest()
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now < cached[0]:
            if cached[1] is None:
                raise InvalidToken("The access token is not active.")
            return cached[1]
        try:
            access_token = self._introspect(token)
        except InvalidToken:
            self._remember(key, now + self.negative_cache_ttl, None)
            raise
        expires = min(now + self.cache_ttl, now + access_token.expires_at - self._wall_clock())
        self._remember(key, expires, access_token)
        return access_token

    def _remember(self, key: bytes, until: float, value: AccessToken | None) -> None:
        if until <= self._clock():
            return
        with self._lock:
            self._cache[key] = (until, value)
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)

    def _introspect(self, token: str) -> AccessToken:
        self.request_count += 1
        response = _http.request_json(
            self.url,
            timeout=self.timeout,
            data=urlencode({"token": token, "token_type_hint": "access_token"}).encode("ascii"),
            headers={
                "Authorization": self._authorization,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        return self._validate_answer(response.body)

    def _validate_answer(self, answer: Any) -> AccessToken:
        """Check an RFC 7662 §2.2 answer as strictly as a JWT (RFC 7662 §4:
        the resource server must check the answer fits the request)."""
        if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
            log.error("the introspection answer is not RFC 7662 JSON")
            raise AuthorizationServerUnavailable()
        if answer["active"] is not True:
            raise InvalidToken("The access token is not active.")
        return validate_access_token(
            AccessToken.from_claims(answer),
            issuer=self.issuer,
            audience=self.audience,
            leeway=self.leeway,
            max_lifetime=self.max_lifetime,
            now=self._wall_clock(),
        )
