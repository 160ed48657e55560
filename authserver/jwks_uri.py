"""Fetching a client's public keys from its ``jwks_uri`` (RFC 7591 §2,
RFC 7517 §5), for ``private_key_jwt``.

The URI is the partner's, so the fetch is guarded: https only and never a
loopback, private, link-local or otherwise non-global address (the address is
resolved once, checked, and the connection made to exactly that address, so
a second DNS answer cannot point elsewhere); a timeout; a size limit; no
redirects. A fetched set is cached as its ``Cache-Control: max-age`` says
(within bounds; ``no-store``/``no-cache``: not cached), the last good copy
kept while the URI fails. Tests and development may allow plain http and
loopback addresses (``allow_local``); production never does
(:mod:`authserver.config`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3

log = logging.getLogger(__name__)

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(no-store|no-cache)\s*(?:,|$)", re.IGNORECASE)


#: the shortest time between two fetches of a fresh key set for an unknown ``kid``
MIN_REFRESH_SECONDS = 60.0


class JwksFetchError(Exception):
    """The key set could not be fetched or is not a JWK Set."""


@dataclass(frozen=True)
class _Cached:
    keys: tuple[dict[str, Any], ...]
    fresh_until: float
    fetched_at: float


def cache_seconds(cache_control: str | None, default: int, maximum: int) -> int:
    """Seconds to keep a response after RFC 9111 §5.2.2 ``Cache-Control``."""
    if not cache_control:
        return default
    if _NO_CACHE.search(cache_control):
        return 0
    found = _MAX_AGE.search(cache_control)
    return min(int(found.group(1)), maximum) if found else default


def check_uri(uri: str, *, allow_local: bool) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` of a usable ``jwks_uri``.

    :raises JwksFetchError: not https (or http when *allow_local*), or no host.
    """
    if any(character.isspace() or not character.isprintable() for character in uri):
        # urlsplit silently drops tabs and newlines (WHATWG URL parsing), so the
        # URL stored would not be the URL fetched: refuse them (RFC 3986 §2)
        raise JwksFetchError("not a URL")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise JwksFetchError("not a URL") from None
    schemes = {"https", "http"} if allow_local else {"https"}
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise JwksFetchError(
            "the jwks_uri must be an https URL" if not allow_local else "not an http(s) URL"
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default_port, path


def resolve_public(host: str, port: int, *, allow_local: bool) -> str:
    """One address of *host* to connect to, refusing any that is not global.

    :raises JwksFetchError: the host does not resolve, or to a refused address.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise JwksFetchError("the jwks_uri host does not resolve") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise JwksFetchError("the jwks_uri host does not resolve")
    if not allow_local and any(not address.is_global for address in addresses):
        raise JwksFetchError("the jwks_uri resolves to a non-public address")
    return str(addresses[0])


class JwksFetcher:
    """Fetches and caches key sets (see the module docstring).

    :param timeout: seconds for connecting and for reading, each.
    :param max_bytes: the largest key set accepted.
    :param default_cache: seconds to keep a set without ``max-age``.
    :param max_cache: the longest a set is kept.
    :param allow_local: allow http and loopback/private addresses (never in production).
    """

    def __init__(
        self,
        *,
        timeout: float = 3.0,
        max_bytes: int = 64 * 1024,
        default_cache: int = 300,
        max_cache: int = 3600,
        allow_local: bool = False,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.default_cache = default_cache
        self.max_cache = max_cache
        self.allow_local = allow_local
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def keys(self, uri: str, *, refresh: bool = False) -> tuple[dict[str, Any], ...]:
        """The JWKs published at *uri* (cached; the last good copy when a fetch fails).

        :param refresh: fetch again although the cached copy is fresh (an
            assertion names a key the copy lacks: the partner rotated), at
            most once per :data:`MIN_REFRESH_SECONDS`.
        :raises JwksFetchError: never fetched successfully, and the fetch fails now.
        """
        cached = self._cache.get(uri)
        now = time.monotonic()
        if cached is not None and cached.fresh_until > now:
            if not refresh or now - cached.fetched_at < MIN_REFRESH_SECONDS:
                return cached.keys
        try:
            keys, seconds = self.fetch(uri)
        except JwksFetchError as error:
            if cached is None:
                raise
            log.warning("jwks_uri fetch failed (%s); using the last good copy", error)
            return cached.keys
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[uri] = _Cached(keys, now + seconds, now)
        return keys

    def fetch(self, uri: str) -> tuple[tuple[dict[str, Any], ...], int]:
        """Fetch *uri* once: its keys and how long they may be cached.

        :raises JwksFetchError: refused, unreachable, too large, or not a JWK Set.
        """
        scheme, host, port, path = check_uri(uri, allow_local=self.allow_local)
        address = resolve_public(host, port, allow_local=self.allow_local)
        timeout = urllib3.Timeout(connect=self.timeout, read=self.timeout)
        pool: urllib3.HTTPConnectionPool
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                server_hostname=host,
                assert_hostname=host,
                timeout=timeout,
                retries=False,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
        try:
            response = pool.urlopen(
                "GET",
                path,
                headers={"Host": host, "Accept": "application/jwk-set+json, application/json"},
                redirect=False,
                preload_content=False,
            )
            try:
                body = response.read(self.max_bytes + 1)
            finally:
                response.release_conn()
        except urllib3.exceptions.HTTPError as error:
            raise JwksFetchError(f"the jwks_uri is unreachable ({type(error).__name__})") from None
        finally:
            pool.close()
        if response.status != 200:
            raise JwksFetchError(f"the jwks_uri answered {response.status}")
        if len(body) > self.max_bytes:
            raise JwksFetchError("the key set is too large")
        try:
            document = json.loads(body)
        except ValueError:
            raise JwksFetchError("the key set is not JSON") from None
        found = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(found, list) or not all(isinstance(key, dict) for key in found):
            raise JwksFetchError("not a JWK Set")
        seconds = cache_seconds(
            response.headers.get("Cache-Control"), self.default_cache, self.max_cache
        )
        return tuple(found), seconds
