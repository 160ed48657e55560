"""OAuth2 clients (RFC 6749 §2), their secrets, organizations and administrators."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import UTCDateTime, utcnow

if TYPE_CHECKING:  # mapped by name at run time (SQLAlchemy's class registry)
    from .client_key import ClientKey
    from .organization import Organization
    from .user import User

#: a partner system that gets tokens with the client credentials grant
KIND_PARTNER = "partner"
#: an API gateway (resource server): may introspect, never gets a token
KIND_GATEWAY = "gateway"


class Client(db.Model):  # type: ignore[name-defined,misc]
    """A confidential client (RFC 6749 §2.1)."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=KIND_PARTNER)
    #: what its administrators call it (1-100 characters for a partner client)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: what it is for, in a few sentences (at most 500 characters)
    description: Mapped[str] = mapped_column(String(500), default="", server_default="")
    #: technical contacts: at most 5 e-mail addresses
    contacts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    #: lifetime of its access tokens in seconds; ``None``: the server's default
    access_token_lifetime: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    #: access tokens issued at or before this instant are no longer active
    tokens_invalid_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: ``client_secret_basic`` / ``client_secret_post`` allowed (off: keys only)
    secret_auth_enabled: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=sa_true()
    )
    #: where the client publishes its public keys (RFC 7591 §2 ``jwks_uri``)
    jwks_uri: Mapped[str | None] = mapped_column(String(2000))
    #: raised with every change of its keys or ``jwks_uri`` (:mod:`..services.client_keys`):
    #: the token path reads it with the client and keeps the parsed keys while it stays
    keys_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    secrets: Mapped[list[ClientSecret]] = relationship(
        back_populates="client",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ClientSecret.id",
    )
    organizations: Mapped[list[Assignment]] = relationship(
        back_populates="client",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Assignment.teccom_id",
    )
    administrators: Mapped[list[ClientAdministrator]] = relationship(
        back_populates="client",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    keys: Mapped[list[ClientKey]] = relationship(
        back_populates="client",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ClientKey.id",
    )


class ClientSecret(db.Model):  # type: ignore[name-defined,misc]
    """An argon2id hash of a client secret.

    A client has one current secret (``expires_at`` is ``None``) and, during a
    rotation grace period, the previous one with its expiry time.
    """

    __tablename__ = "client_secrets"
    __table_args__ = (
        #: at most one current secret per client, whatever races (docs/rules.md, rule 3)
        Index(
            "uq_client_secrets_current",
            "client_pk",
            unique=True,
            postgresql_where=text("expires_at IS NULL"),
            sqlite_where=text("expires_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when it last got a token (to the minute: written at most once a minute
    #: per process, see :mod:`authserver.services.secret_usage`)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship(back_populates="secrets")


class Assignment(db.Model):  # type: ignore[name-defined,misc]
    """The assignment of an organization to a client.

    An organization belongs to at most one client: ``teccom_id`` is unique.
    """

    __tablename__ = "client_organizations"
    __table_args__ = (UniqueConstraint("teccom_id", name="uq_client_organizations_teccom_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    teccom_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.teccom_id", ondelete="RESTRICT")
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    notification_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    client: Mapped[Client] = relationship(back_populates="organizations")
    organization: Mapped[Organization] = relationship(lazy="joined")


class ClientAdministrator(db.Model):  # type: ignore[name-defined,misc]
    """A user who administers a client."""

    __tablename__ = "client_administrators"

    client_pk: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    client: Mapped[Client] = relationship(back_populates="administrators")
    user: Mapped[User] = relationship(lazy="joined")
