"""Public keys a client authenticates with (``private_key_jwt``, RFC 7523 §2.2).

Only public keys are stored; the private key never leaves the partner's system.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import UTCDateTime, utcnow

if TYPE_CHECKING:  # mapped by name at run time (SQLAlchemy's class registry)
    from .client import Client


class ClientKey(db.Model):  # type: ignore[name-defined,misc]
    """A public key of a client, as a JWK (RFC 7517) without private members.

    ``thumbprint`` (RFC 7638, SHA-256) names the key in the admin API; ``kid``
    is the key's own ``kid`` when it had one, else the thumbprint, and is what
    an assertion's header may name.
    """

    __tablename__ = "client_keys"
    __table_args__ = (
        UniqueConstraint("client_pk", "thumbprint", name="uq_client_keys_client_pk_thumbprint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    thumbprint: Mapped[str] = mapped_column(String(64))
    kid: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(100), default="")
    #: the public JWK as compact JSON
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    client: Mapped[Client] = relationship(back_populates="keys")
