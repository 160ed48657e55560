"""Authorization server metadata discovery (RFC 8414)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from . import _http
from .errors import AuthorizationServerUnavailable

log = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/oauth-authorization-server"


def metadata_url(issuer: str) -> str:
    """The metadata URL of *issuer* (RFC 8414 §3.1: the well-known suffix goes
    between the host and any path component of the issuer)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + path, "", ""))


class ServerMetadata:
    """The metadata of one issuer, fetched on first use and again when older
    than *max_age* seconds, so that a moved endpoint (a new ``jwks_uri``) is
    found without a restart.

    A failed fetch is retried at most every *retry_interval* seconds, so that
    an unreachable server is not asked on every request; while a refresh
    fails, the last good document stays in use.

    :param issuer: the expected ``issuer``; RFC 8414 §3.3 requires the answer
        to name exactly this issuer, else the metadata is not used.
    """

    def __init__(
        self,
        issuer: str,
        *,
        timeout: float = 5.0,
        retry_interval: float = 5.0,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age < retry_interval:
            raise ValueError("max_age must be at least retry_interval")
        self.issuer = issuer
        self.url = _http.validate_url(metadata_url(issuer), "issuer")
        self.timeout = timeout
        self.retry_interval = retry_interval
        self.max_age = max_age
        self._clock = clock
        self._document: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def endpoint(self, name: str) -> str:
        """The URL of endpoint *name* (e.g. ``jwks_uri``), checked by
        :func:`authserver.gateway._http.validate_url`.

        :raises AuthorizationServerUnavailable: no usable metadata (yet).
        """
        document = self._document
        if document is None or self._clock() - self._fetched_at >= self.max_age:
            document = self._load()
        url = document.get(name)
        try:
            return _http.validate_url(url, name)
        except ValueError:
            log.error("metadata of %s has no usable %s", self.issuer, name)
            raise AuthorizationServerUnavailable() from None

    def _load(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            stale = self._document
            if stale is not None and now - self._fetched_at < self.max_age:
                return stale  # another thread refreshed it meanwhile
            if self._failed_at is not None and now - self._failed_at < self.retry_interval:
                if stale is not None:
                    return stale
                raise AuthorizationServerUnavailable()
            try:
                document = _http.request_json(self.url, timeout=self.timeout).body
                if not isinstance(document, dict) or document.get("issuer") != self.issuer:
                    log.error("metadata at %s does not name the issuer %s", self.url, self.issuer)
                    raise AuthorizationServerUnavailable()
            except AuthorizationServerUnavailable:
                self._failed_at = now
                if stale is not None:
                    log.warning(
                        "metadata of %s could not be refreshed; using the last", self.issuer
                    )
                    return stale
                raise
            self._document = document
            self._fetched_at = now
            self._failed_at = None
            return document
