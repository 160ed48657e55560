"""A bounded cache of verified access tokens, for :class:`~authserver.gateway.TokenValidator`.

A gateway sees the same token many times during its life (a client reuses
it until it expires), and verifying the signature is most of the cost of a
validation. Once a token has passed every check, the validator keeps what it
found under the SHA-256 of the token: the :class:`~.claims.AccessToken`, and
the key object that verified it.

An entry is used only while:

* the token has not expired (``exp``, without leeway; a token within the
  leeway is verified again, in full), and
* the JWK Set the validator holds still maps the token's ``kid`` to the very
  key object that verified it. The JWK Set is read again on its own schedule
  (its ``max-age``); a key that left it, or changed, makes every entry it
  verified useless at once, and the token is verified again in full.

The cache holds at most ``max_entries`` tokens; the oldest entry makes room
for a new one (tokens of one server share a lifetime, so the oldest entry is
also the first to expire). It is safe to use from several threads.
"""

from __future__ import annotations

import hashlib
import threading
from typing import NamedTuple

import jwt

from .claims import AccessToken

__all__ = ["DEFAULT_MAX_ENTRIES", "VerifiedToken", "VerifiedTokenCache", "token_digest"]

#: tokens kept by default (a few MiB)
DEFAULT_MAX_ENTRIES = 10_000


class VerifiedToken(NamedTuple):
    """A token that passed every check, and what verified it."""

    access_token: AccessToken
    kid: str
    alg: str
    #: the key object of the JWK Set that verified the signature
    key: jwt.PyJWK


def token_digest(token: str) -> bytes:
    """The cache key of *token*: its SHA-256 (the token itself is never kept)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class VerifiedTokenCache:
    """Verified tokens by :func:`token_digest`, at most *max_entries* of them.

    :param max_entries: tokens kept at most; ``0`` keeps none.
    :raises ValueError: a negative *max_entries*.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must not be negative")
        self.max_entries = max_entries
        self._entries: dict[bytes, VerifiedToken] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: bytes) -> VerifiedToken | None:
        return self._entries.get(digest)

    def put(self, digest: bytes, entry: VerifiedToken) -> None:
        if not self.max_entries:
            return
        with self._lock:
            entries = self._entries
            entries.pop(digest, None)
            while len(entries) >= self.max_entries:
                del entries[next(iter(entries))]
            entries[digest] = entry

    def discard(self, digest: bytes) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
