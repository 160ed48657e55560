"""OAuth 2.0 grants, one per module (only RFC 6749 §4.4 here)."""

from .client_credentials import ClientCredentialsGrant

__all__ = ["ClientCredentialsGrant"]
