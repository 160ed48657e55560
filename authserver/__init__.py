"""authserver: an OAuth2 client-credentials authorization server.

Importing the package imports nothing else: API gateways use
:mod:`authserver.gateway` without the server's database, Flask-SQLAlchemy or
argon2, so the application factory is loaded on first use
(``from authserver import create_app``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """PEP 562: ``authserver.create_app`` imports :mod:`authserver.app` when asked."""
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
