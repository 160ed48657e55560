"""People from the portal directory (RFC-less: our own domain)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import UTCDateTime, utcnow


def normalize_email(email: object) -> str:
    """The form in which a user's e-mail is stored and looked up: trimmed and
    lower-cased (users' e-mail addresses are case-insensitive, docs/rules.md).
    Anything but a string normalizes to ``""``, which no user has.
    """
    return email.strip().lower() if isinstance(email, str) else ""


class User(db.Model):  # type: ignore[name-defined,misc]
    """A portal user; identified by e-mail, stored lower-cased."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    #: argon2id hash; ``None`` means the user cannot log in
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    admin_rights: Mapped[list[OrganizationAdmin]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class OrganizationAdmin(db.Model):  # type: ignore[name-defined,misc]
    """The right of a user to administer an organization (from the directory)."""

    __tablename__ = "organization_admins"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    teccom_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.teccom_id", ondelete="CASCADE"), primary_key=True, index=True
    )

    user: Mapped[User] = relationship(back_populates="admin_rights")
