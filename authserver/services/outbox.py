"""Adding mails to the outbox, in the caller's transaction.

Nothing here sends anything: the mail worker (:mod:`authserver.mail.worker`)
delivers the rows once the transaction that wrote them has committed, so a
change and the mails it causes are kept or lost together.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..extensions import db
from ..models import OutboxMessage
from ..models._base import utcnow


def new_batch() -> str:
    """A random name for the rows of one mail."""
    return secrets.token_hex(16)


def enqueue(
    kind: str,
    recipients: Iterable[str],
    *,
    client_id: str | None,
    teccom_id: str | None = None,
    params: dict[str, Any] | None = None,
    due_at: datetime | None = None,
    batch: str | None = None,
) -> str:
    """Add one row per recipient (each gets its own ``Message-ID``, so that a
    recipient refused for good never holds the others back); the batch name.
    """
    batch = batch or new_batch()
    when = due_at or utcnow()
    seen: set[str] = set()
    for recipient in recipients:
        if recipient.lower() in seen:
            continue
        seen.add(recipient.lower())
        db.session.add(
            OutboxMessage(
                message_id=secrets.token_hex(16),
                kind=kind,
                client_id=client_id,
                teccom_id=teccom_id,
                recipient=recipient,
                params=dict(params or {}),
                batch=batch,
                scheduled_at=when,
                next_attempt_at=when,
            )
        )
    return batch
