"""Writing the audit trail (docs/rules.md, rule 8).

An event is added to the session of the change it records, so that the change
and its audit record commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..extensions import db
from ..models import AuditEvent


@dataclass(frozen=True)
class AuditContext:
    """Who acts, and from where."""

    actor: str
    remote_addr: str | None = None
    request_id: str | None = None


#: the context of operator commands run on the server
CLI = AuditContext(actor="cli")


def record(
    ctx: AuditContext,
    action: str,
    *,
    client_id: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    event = AuditEvent(
        actor=ctx.actor,
        action=action,
        client_id=client_id,
        target=target,
        details=details or {},
        remote_addr=ctx.remote_addr,
        request_id=ctx.request_id,
    )
    db.session.add(event)
    return event


#: the action of an event that records a refused attempt
DENIED = "authorization.denied"


def record_denial(
    ctx: AuditContext,
    operation: str,
    *,
    reason: str,
    client_id: str | None = None,
    target: str | None = None,
) -> None:
    """Record a refused attempt (docs/rules.md, rule 8) on its own.

    Whatever the refused operation had started is rolled back first; the
    event is committed at once, because the caller is about to raise.
    """
    db.session.rollback()
    details = {"operation": operation, "reason": reason}
    record(ctx, DENIED, client_id=client_id, target=target, details=details)
    db.session.commit()
