"""Organizations, identified by their TecCom ID."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime, utcnow

#: the longest TecCom ID (the column's size)
TECCOM_ID_MAX = 32
#: a TecCom ID is one RFC 6749 §3.3 scope-token (``%x21 / %x23-5B / %x5D-7E``:
#: no space, quote or backslash), so that ``org:<TecCom ID>`` is exactly one
#: scope value and a token's scope can never name another organization
TECCOM_ID_PATTERN = re.compile(rf"[\x21\x23-\x5B\x5D-\x7E]{{1,{TECCOM_ID_MAX}}}")
#: the rule in words, for error messages
TECCOM_ID_RULE = (
    f"must be 1-{TECCOM_ID_MAX} ASCII letters, digits or punctuation"
    " (no spaces, quotes or backslashes)"
)


def is_teccom_id(value: object) -> bool:
    """Whether *value* is a well-formed TecCom ID (see :data:`TECCOM_ID_PATTERN`)."""
    return isinstance(value, str) and TECCOM_ID_PATTERN.fullmatch(value) is not None


class Organization(db.Model):  # type: ignore[name-defined,misc]
    """A trading partner organization (supplier, wholesaler, ...)."""

    __tablename__ = "organizations"

    teccom_id: Mapped[str] = mapped_column(String(TECCOM_ID_MAX), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
