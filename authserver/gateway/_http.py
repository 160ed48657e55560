"""Small, bounded HTTP client for the authorization server's endpoints.

Standard library only (``urllib``), so a gateway needs nothing beyond the
package's own dependencies. Every answer is size-bounded, redirects are not
followed (the metadata names the exact URLs, RFC 8414 §2), and only ``https``
URLs are used, except on the loopback interface (development and tests).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import AuthorizationServerUnavailable

log = logging.getLogger(__name__)

#: bytes; metadata, JWKS and introspection answers are a few KiB at most
MAX_RESPONSE_BYTES = 256 * 1024


def validate_url(url: Any, what: str) -> str:
    """Return *url* if it is ``https``, or ``http`` on a loopback host.

    :raises ValueError: any other URL (a gateway must not fetch keys or send
        its credentials over plain HTTP across a network).
    """
    if not isinstance(url, str):
        raise ValueError(f"{what} must be a string URL")
    parts = urlsplit(url)
    if not parts.hostname or parts.username is not None or parts.fragment:
        raise ValueError(f"{what} must be an absolute URL without credentials or fragment")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return url
    raise ValueError(f"{what} must be an https URL (plain http only on the loopback interface)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class JSONResponse:
    """A JSON answer and the headers that matter for caching."""

    status: int
    body: Any
    headers: Mapping[str, str]


def request_json(
    url: str,
    *,
    timeout: float,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    accept_status: tuple[int, ...] = (200,),
) -> JSONResponse:
    """GET (or POST when *data* is given) *url* and parse a JSON answer.

    :raises AuthorizationServerUnavailable: unreachable, a status not in
        *accept_status*, a redirect, an oversized or non-JSON answer.
    """
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    request.add_header("Accept", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        try:
            response = _opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            response = error  # an HTTPError is also the response
        with response:
            status = response.status if hasattr(response, "status") else response.code
            if status not in accept_status:
                log.warning("authorization server answered %s for %s", status, url)
                raise AuthorizationServerUnavailable()
            raw = response.read(MAX_RESPONSE_BYTES + 1)
            response_headers = {k.lower(): v for k, v in response.headers.items()}
    except (OSError, ValueError, http.client.HTTPException) as error:
        log.warning("cannot reach the authorization server at %s: %s", url, type(error).__name__)
        raise AuthorizationServerUnavailable() from None
    if len(raw) > MAX_RESPONSE_BYTES:
        log.warning("oversized answer from %s", url)
        raise AuthorizationServerUnavailable()
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        log.warning("answer from %s is not JSON", url)
        raise AuthorizationServerUnavailable() from None
    return JSONResponse(status, body, response_headers)
