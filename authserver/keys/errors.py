"""Why a stored signing key cannot be used."""

from __future__ import annotations


class SigningKeyError(RuntimeError):
    """A stored key cannot be used (e.g. encrypted, but no or the wrong key)."""


class KeyEncryptionError(SigningKeyError):
    """The key-encryption key is missing, malformed, or does not fit."""
