"""Access-token validation for the API gateways in front of the Export and
Subscription API.

Gateways do not have the authorization server's database: this package needs
only PyJWT and cryptography (and Flask for :mod:`.decorators`).

- :class:`TokenValidator`: local JWT validation (RFC 9068) with the issuer's
  JWK Set, discovered from its metadata (RFC 8414) and cached.
- :class:`IntrospectionValidator`: the same interface, asking the issuer
  (RFC 7662), for revocation that takes effect at once.
- :mod:`.decorators`: ``require_token`` and ``refuse_client_tokens`` for Flask.
- :mod:`.wsgi`: ``BearerMiddleware`` with the same answers for any WSGI
  application, guarding paths by ``protect``, ``refuse_client_tokens`` and
  ``public`` rules.

Both validators return an :class:`AccessToken` or raise a
:class:`TokenError` subclass that maps to an RFC 6750 §3.1 answer.
"""

from __future__ import annotations

from .claims import AccessToken
from .errors import (
    AuthorizationServerUnavailable,
    GatewayError,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    MissingToken,
    TokenError,
)
from .introspection import IntrospectionValidator
from .jwks import JWKSCache
from .validator import ASYMMETRIC_ALGORITHMS, TokenValidator

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "AccessToken",
    "AuthorizationServerUnavailable",
    "GatewayError",
    "InsufficientScope",
    "IntrospectionValidator",
    "InvalidRequest",
    "InvalidToken",
    "JWKSCache",
    "MissingToken",
    "TokenError",
    "TokenValidator",
]
