"""Client secrets and user passwords: generation and argon2id hashing.

Secrets carry 256 bits of randomness (``secrets.token_urlsafe(32)``) and are
only ever stored as argon2id hashes (RFC 9106).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: bytes of randomness in a client secret (256 bits)
SECRET_BYTES = 32

_lock = threading.Lock()
_hasher: PasswordHasher | None = None
_params: tuple[int, int, int] | None = None


def configure(config: Mapping[str, Any]) -> None:
    """Set the argon2id parameters from the application config."""
    global _hasher, _params
    params = (
        int(config["ARGON2_TIME_COST"]),
        int(config["ARGON2_MEMORY_COST"]),
        int(config["ARGON2_PARALLELISM"]),
    )
    with _lock:
        if params != _params:
            _hasher = PasswordHasher(
                time_cost=params[0], memory_cost=params[1], parallelism=params[2], type=Type.ID
            )
            _params = params


def hasher() -> PasswordHasher:
    if _hasher is None:
        from .config import DEFAULTS

        configure(DEFAULTS)
    assert _hasher is not None
    return _hasher


def generate_secret() -> str:
    """A new client secret: 256 random bits, URL-safe base64 without padding."""
    return secrets.token_urlsafe(SECRET_BYTES)


def generate_client_id() -> str:
    """A new public client identifier (RFC 6749 §2.2)."""
    return "cl_" + secrets.token_urlsafe(12)


def hash_secret(secret: str) -> str:
    """The argon2id hash of *secret* (PHC string)."""
    return hasher().hash(secret)


def check_secret(secret_hash: str, secret: str) -> bool:
    """Whether *secret* matches *secret_hash*; never raises for bad input."""
    try:
        return hasher().verify(secret_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


#: a valid hash of a random secret, verified against when a user or client
#: does not exist, so that the answer takes the same time either way
def dummy_hash() -> str:
    global _dummy
    if _dummy is None:
        _dummy = hash_secret(generate_secret())
    return _dummy


_dummy: str | None = None
