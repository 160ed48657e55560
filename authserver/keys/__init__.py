"""Token signing keys (RFC 7517 JWK Set).

* :mod:`.material`: making a key, its JWK and ``kid`` (RFC 7638), loading it
  as key objects, the active key and the published set;
* :mod:`.encryption`: private keys encrypted at rest (Fernet);
* :mod:`.rotation`: keys in the database: the first key, rotation (and
  whether one is due), each key's state, purging retired keys, re-encrypting
  them under a new key-encryption key;
* :mod:`.store`: one process's cached view (:class:`KeyStore`), what the token
  path signs and verifies with.
"""

from __future__ import annotations

from .encryption import key_cipher
from .errors import KeyEncryptionError, SigningKeyError
from .material import ALGORITHMS, LoadedKey
from .rotation import key_state, list_keys, newest_key_age, purge_retired, reencrypt, rotate
from .store import KeyStore

__all__ = [
    "ALGORITHMS",
    "KeyEncryptionError",
    "KeyStore",
    "LoadedKey",
    "SigningKeyError",
    "key_cipher",
    "key_state",
    "list_keys",
    "newest_key_age",
    "purge_retired",
    "reencrypt",
    "rotate",
]
