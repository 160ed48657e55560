"""A cache of the authorization server's public signing keys (RFC 7517 JWK Set).

The JWK Set is fetched on first use and kept for its ``Cache-Control:
max-age`` (bounded by ``min_ttl`` and ``max_ttl``). A token signed with an
unknown ``kid`` (a key rotation) triggers one early re-fetch. Those re-fetches
are rate-limited by a token bucket: at most ``refetch_burst`` in a row, then
one per ``refetch_interval`` seconds, so a flood of tokens with made-up
``kid`` values costs the authorization server at most one request per
interval, while a real rotation right after a scheduled refresh is still
seen at once. When a refresh fails, the keys already known stay in use for
``max_stale`` seconds past their expiry (retried once per
``refetch_interval``); after that the gateway fails closed (503).

Keys are only ever taken from this URL, never from a token's header
(``jwk``, ``jku``, ``x5u``, ``x5c``). Symmetric keys (``kty: oct``), keys
with private parameters, keys not meant for signatures and keys too short
for their algorithm are ignored.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import jwt

from . import _http
from .errors import AuthorizationServerUnavailable, InvalidToken

log = logging.getLogger(__name__)

#: the most keys a JWK Set may hold (a rotation needs two or three)
MAX_KEYS = 50

#: key type (and curve) -> the algorithms such a key may verify (RFC 7518 §3, RFC 8037)
_KEY_ALGORITHMS: dict[tuple[str, str | None], frozenset[str]] = {
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
    ("RSA", None): frozenset({"RS256", "PS256"}),
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("OKP", "Ed448"): frozenset({"EdDSA"}),
}

KeySet = dict[str, dict[str, jwt.PyJWK]]


def parse_jwks(document: Any, algorithms: Collection[str]) -> KeySet:
    """The usable verification keys of a JWK Set: ``{kid: {alg: key}}``.

    :raises AuthorizationServerUnavailable: not a JWK Set, or too many keys.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        log.error("the JWKS document is not a JWK Set")
        raise AuthorizationServerUnavailable()
    if len(document["keys"]) > MAX_KEYS:
        log.error("the JWK Set has more than %d keys", MAX_KEYS)
        raise AuthorizationServerUnavailable()
    keys: KeySet = {}
    for jwk in document["keys"]:
        entry = _verification_keys(jwk, algorithms)
        if not entry:
            continue
        kid = jwk["kid"]
        if kid in keys:
            log.error("the JWK Set has two keys with one kid; using the first")
            continue
        keys[kid] = entry
    if not keys:
        log.error("the JWK Set has no usable signing key")
    return keys


def _verification_keys(jwk: Any, algorithms: Collection[str]) -> dict[str, jwt.PyJWK]:
    """``{alg: key}`` for one JWK, empty when it must not be used."""
    if not isinstance(jwk, dict):
        return {}
    kid, kty, crv = jwk.get("kid"), jwk.get("kty"), jwk.get("crv")
    if not isinstance(kid, str) or not kid or "d" in jwk:
        return {}
    if jwk.get("use", "sig") != "sig":
        return {}
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        return {}
    if not isinstance(kty, str) or not (crv is None or isinstance(crv, str)):
        return {}
    allowed = _KEY_ALGORITHMS.get((kty, None if kty == "RSA" else crv), frozenset())
    allowed = allowed & frozenset(algorithms)
    if "alg" in jwk:
        allowed = allowed & {jwk["alg"]} if isinstance(jwk["alg"], str) else frozenset()
    entry: dict[str, jwt.PyJWK] = {}
    for alg in sorted(allowed):
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
            if key.Algorithm.check_key_length(key.key):
                log.warning("ignoring a JWK too short for %s", alg)
                continue
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            log.warning("ignoring an unusable %s JWK", kty)
            continue
        entry[alg] = key
    return entry


def cache_ttl(
    headers: Mapping[str, str],
    *,
    default: float,
    minimum: float,
    maximum: float,
) -> float:
    """Seconds to keep a JWK Set: its ``Cache-Control: max-age`` (RFC 9111
    §5.2.2.1), *default* without one, *minimum* for ``no-cache``/``no-store``,
    always within [*minimum*, *maximum*]."""
    ttl = default
    directives = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        ttl = minimum
    elif directives.get("max-age", "").isdigit():
        ttl = int(directives["max-age"])
    return min(max(ttl, minimum), maximum)


class JWKSCache:
    """The signing keys published at a JWKS URL, cached (see the module doc).

    :param url: the ``jwks_uri``, or a callable giving it (metadata discovery,
        resolved on first use).
    :param algorithms: the algorithms keys may be used with.
    :param clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        url: str | Callable[[], str],
        *,
        algorithms: Collection[str],
        default_ttl: float = 300.0,
        min_ttl: float = 30.0,
        max_ttl: float = 900.0,
        refetch_interval: float = 10.0,
        refetch_burst: int = 3,
        max_stale: float = 3600.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1.0 <= min_ttl <= default_ttl <= max_ttl <= 86400:
            raise ValueError(
                "JWKS cache ages must satisfy 1 <= min_ttl <= default_ttl <= max_ttl <= 86400"
            )
        if not 1.0 <= refetch_interval <= max_ttl:
            raise ValueError("refetch_interval must be between 1 second and max_ttl")
        if not 1 <= refetch_burst <= 10:
            raise ValueError("refetch_burst must be between 1 and 10")
        if not 0 <= max_stale <= 86400:
            raise ValueError("max_stale must be between 0 and 86400 seconds")
        if isinstance(url, str):
            url = _http.validate_url(url, "jwks_url")
        self._url = url
        self.algorithms = frozenset(algorithms)
        self.default_ttl, self.min_ttl, self.max_ttl = default_ttl, min_ttl, max_ttl
        self.refetch_interval = refetch_interval
        self.refetch_burst = refetch_burst
        self._refetch_allowance = float(refetch_burst)
        self._allowance_at = clock()
        self.max_stale = max_stale
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._expires_at = -math.inf
        self._stale_until = -math.inf
        self._last_attempt = -math.inf
        #: fetch attempts so far (for monitoring and the benchmark)
        self.fetch_count = 0

    @property
    def url(self) -> str:
        return self._url if isinstance(self._url, str) else self._url()

    def key(self, kid: str, alg: str) -> jwt.PyJWK:
        """The key *kid* for algorithm *alg*.

        :raises InvalidToken: no such key (after at most one rate-limited
            re-fetch), or the key is not for *alg*.
        :raises AuthorizationServerUnavailable: no usable JWK Set at all.
        """
        keys = self._current_keys()
        entry = keys.get(kid)
        if entry is None:
            entry = self._refetch_for(kid)
        if entry is None:
            raise InvalidToken("The access token is signed with an unknown key.")
        key = entry.get(alg)
        if key is None:
            raise InvalidToken("The access token's algorithm does not fit its key.")
        return key

    def kids(self) -> frozenset[str]:
        """The key ids known now (no fetch)."""
        return frozenset(self._keys or ())

    def _current_keys(self) -> KeySet:
        keys = self._keys
        now = self._clock()
        if keys is not None and now < self._expires_at:
            return keys
        if keys is not None and now < self._stale_until:
            # expired but usable: one thread refreshes, the others go on with these
            if not self._lock.acquire(blocking=False):
                return keys
        else:
            self._lock.acquire()
        try:
            return self._refresh()
        finally:
            self._lock.release()

    def _refresh(self) -> KeySet:
        """Fetch when due and allowed; the caller holds the lock.

        :raises AuthorizationServerUnavailable: no keys, or only keys older
            than their age plus ``max_stale``.
        """
        now = self._clock()
        if self._keys is not None and now < self._expires_at:
            return self._keys
        if now - self._last_attempt >= self.refetch_interval:
            try:
                return self._fetch(now)
            except AuthorizationServerUnavailable:
                pass
        if self._keys is None or now >= self._stale_until:
            self._keys = None
            raise AuthorizationServerUnavailable()
        return self._keys

    def _refetch_for(self, kid: str) -> dict[str, jwt.PyJWK] | None:
        with self._lock:
            keys = self._keys or {}
            if kid in keys:  # another thread fetched it meanwhile
                return keys[kid]
            now = self._clock()
            if not self._take_refetch(now):
                return None
            try:
                self._fetch(now)
            except AuthorizationServerUnavailable:
                return None
            return (self._keys or {}).get(kid)

    def _take_refetch(self, now: float) -> bool:
        """Token bucket of unknown-kid re-fetches; the caller holds the lock."""
        refill = (now - self._allowance_at) / self.refetch_interval
        self._refetch_allowance = min(float(self.refetch_burst), self._refetch_allowance + refill)
        self._allowance_at = now
        if self._refetch_allowance < 1.0:
            return False
        self._refetch_allowance -= 1.0
        return True

    def _fetch(self, now: float) -> KeySet:
        """Fetch and parse the JWK Set; the caller holds the lock."""
        self._last_attempt = now
        url = self.url
        self.fetch_count += 1
        response = _http.request_json(url, timeout=self.timeout)
        keys = parse_jwks(response.body, self.algorithms)
        ttl = cache_ttl(
            response.headers, default=self.default_ttl, minimum=self.min_ttl, maximum=self.max_ttl
        )
        self._keys = keys
        self._expires_at = now + ttl
        self._stale_until = now + ttl + self.max_stale
        log.info("fetched %d signing keys; next refresh in %d s", len(keys), ttl)
        return keys
