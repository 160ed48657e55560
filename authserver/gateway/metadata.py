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
    """The metadata of one issuer, fetched once on first use.

    A failed fetch is retried at most every *retry_interval* seconds, so that
    an unreachable server is not asked on every request.

    :param issuer: the expected ``issuer``; RFC 8414 §3.3 requires the answer
        to name exactly this issuer, else the metadata is not used.
    """

    def __init__(
        self, issuer: str, *, timeout: float = 5.0, retry_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self.url = _http.validate_url(metadata_url(issuer), "issuer")
        self.timeout = timeout
        self.retry_interval = retry_interval
        self._clock = clock
        self._document: dict[str, Any] | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def endpoint(self, name: str) -> str:
        """The URL of endpoint *name* (e.g. ``jwks_uri``), checked by
        :func:`authserver.gateway._http.validate_url`.

        :raises AuthorizationServerUnavailable: no usable metadata (yet).
        """
        document = self._document or self._load()
        url = document.get(name)
        try:
            return _http.validate_url(url, name)
        except ValueError:
            log.error("metadata of %s has no usable %s", self.issuer, name)
            raise AuthorizationServerUnavailable() from None

    def _load(self) -> dict[str, Any]:
        with self._lock:
            if self._document is not None:
                return self._document
            now = self._clock()
            if self._failed_at is not None and now - self._failed_at < self.retry_interval:
                raise AuthorizationServerUnavailable()
            try:
                document = _http.request_json(self.url, timeout=self.timeout).body
                if not isinstance(document, dict) or document.get("issuer") != self.issuer:
                    log.error("metadata at %s does not name the issuer %s", self.url, self.issuer)
                    raise AuthorizationServerUnavailable()
            except AuthorizationServerUnavailable:
                self._failed_at = now
                raise
            self._document = document
            return document
