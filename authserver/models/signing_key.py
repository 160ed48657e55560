"""Token signing keys, shared by every instance through the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime, utcnow


class SigningKey(db.Model):  # type: ignore[name-defined,misc]
    """A private signing key and its public JWK (RFC 7517).

    A key is published in the JWKS from ``created_at``, signs from
    ``activates_at`` until a newer key activates, and is unpublished after
    ``retire_at`` (when every token it signed has expired).
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    #: PKCS#8 PEM, or its Fernet encryption when ``encrypted``
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    encrypted: Mapped[bool] = mapped_column(default=False)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activates_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: set when a newer key takes over: no longer published after this instant
    retire_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
