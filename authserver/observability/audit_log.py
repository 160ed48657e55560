"""Audit events also go to the log (``authserver.audit``), for SIEM tools.

An event is logged once the transaction that holds it has committed, so the
log never shows a change that was rolled back. An audit event never holds a
secret (:class:`~authserver.models.AuditEvent`), so neither does its record.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from ..models import AuditEvent
from ..services.audit_trail import as_dict

log = logging.getLogger("authserver.audit")

_PENDING = "authserver.audit_pending"


def _collect(session: Session, flush_context: UOWTransaction) -> None:
    flushed = [as_dict(obj) for obj in session.new if isinstance(obj, AuditEvent)]
    if flushed:
        session.info.setdefault(_PENDING, []).extend(flushed)


def _emit(session: Session) -> None:
    for record in session.info.pop(_PENDING, ()):
        log.info("audit %s", record["action"], extra={"audit": record})


def _forget(session: Session, *args: Any) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    """Listen on every session (once per process)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "after_commit", _emit)
        event.listen(Session, "after_rollback", _forget)
