"""Private signing keys at rest: Fernet encryption under
``AUTHSERVER_KEY_ENCRYPTION_KEY``.

Several comma-separated Fernet keys may be configured: the first encrypts,
all decrypt, so the key-encryption key itself can be rotated.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import KeyEncryptionError


def key_cipher(encryption_key: str | None) -> MultiFernet | None:
    """The Fernet cipher for ``AUTHSERVER_KEY_ENCRYPTION_KEY``.

    Several comma-separated Fernet keys may be given: the first encrypts, all
    decrypt (so the key-encryption key itself can be rotated).

    :raises KeyEncryptionError: a value is not a Fernet key.
    """
    if not encryption_key:
        return None
    try:
        return MultiFernet(
            [Fernet(part.strip()) for part in encryption_key.split(",") if part.strip()]
        )
    except (ValueError, TypeError):
        raise KeyEncryptionError(
            "AUTHSERVER_KEY_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded "
            "bytes); make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from None


def encrypt(pem: bytes, cipher: MultiFernet | None) -> tuple[bytes, bool]:
    """What to store for the private key *pem*: ``(data, encrypted)``."""
    if cipher is None:
        return pem, False
    return cipher.encrypt(pem), True


def decrypt(kid: str, data: bytes, encrypted: bool, cipher: MultiFernet | None) -> bytes:
    """The PEM of a stored private key.

    :raises KeyEncryptionError: the key is encrypted and *cipher* cannot decrypt it.
    """
    if not encrypted:
        return data
    if cipher is None:
        raise KeyEncryptionError(
            f"signing key {kid} is encrypted but AUTHSERVER_KEY_ENCRYPTION_KEY is not set"
        )
    try:
        return cipher.decrypt(data)
    except InvalidToken:
        raise KeyEncryptionError(
            f"signing key {kid} cannot be decrypted with AUTHSERVER_KEY_ENCRYPTION_KEY"
        ) from None
