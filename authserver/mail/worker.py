"""The mail worker: claims due outbox rows and delivers them.

Several workers (and instances) may run at once. A worker *claims* up to a
batch of due rows with one ``UPDATE`` that sets a random claim token and a
lease: on PostgreSQL its subquery selects the rows ``FOR UPDATE SKIP
LOCKED``, so concurrent workers take different rows without waiting; on
SQLite the statement holds the database's write lock, which serializes the
claims. A row whose lease has lapsed (its worker was killed) is due again.
Each outcome is recorded with a conditional ``UPDATE`` on the claim token,
and committed before the next mail, so a killed worker repeats at most the
mail it was sending (see the README, "Delivery guarantees").

Temporary failures (4xx, connection refused or dropped) are retried with
exponential backoff; a permanent one (5xx for the recipient) is recorded
and not retried. Every attempt is logged, never a message body.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, update

from ..extensions import db
from ..models import OutboxMessage
from ..models._base import utcnow
from ..models.outbox import FAILED, KIND_EXPORT_FAILURES, PENDING, SENDING, SENT
from ..services import audit
from ..services.export_failures import digest_failures
from .render import build_message, render
from .smtp_url import SmtpSettings, parse_smtp_url, validate_sender
from .transport import DeliveryError, FileTransport, SmtpTransport

log = logging.getLogger(__name__)

#: the audit context of the worker
SYSTEM = audit.AuditContext(actor="system")
#: the longest wait between two attempts
MAX_BACKOFF = timedelta(hours=1)
#: a claim is not used this close to the end of its lease (at most)
LEASE_MARGIN = timedelta(seconds=10)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class WorkerSettings:
    """What the worker needs from the configuration."""

    sender: Address
    base_url: str
    smtp: SmtpSettings | None
    mail_dir: Path
    batch_size: int = 50
    lease_seconds: int = 300
    retry_seconds: int = 30
    max_attempts: int = 10
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: str) -> WorkerSettings:
        smtp_url = config.get("SMTP_URL")
        return cls(
            sender=validate_sender(str(config["MAIL_FROM"])),
            base_url=str(config["ISSUER"]).rstrip("/"),
            smtp=parse_smtp_url(smtp_url) if smtp_url else None,
            mail_dir=Path(config.get("MAIL_DIR") or Path(instance_path) / "mail"),
            lease_seconds=int(config["MAIL_LEASE_SECONDS"]),
            retry_seconds=int(config["MAIL_RETRY_SECONDS"]),
            max_attempts=int(config["MAIL_MAX_ATTEMPTS"]),
        )

    @property
    def envelope_sender(self) -> str:
        return self.sender.addr_spec

    def transport(self) -> SmtpTransport | FileTransport:
        if self.smtp is None:
            return FileTransport(self.mail_dir)
        return SmtpTransport(self.smtp, timeout=self.timeout)


def backoff(settings: WorkerSettings, attempts: int) -> timedelta:
    """The wait after the *attempts*-th failed attempt: doubling, at most an hour."""
    delay = timedelta(seconds=settings.retry_seconds * 2 ** max(0, attempts - 1))
    return min(delay, MAX_BACKOFF)


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
    )


def has_due(now: datetime) -> bool:
    """Whether a mail is due (a cheap read before a claim, which writes)."""
    found = db.session.execute(db.select(OutboxMessage.id).where(_due(now)).limit(1)).first()
    db.session.rollback()
    return found is not None


@dataclass(frozen=True)
class Mail:
    """A claimed outbox row, read once (commits expire ORM objects)."""

    id: int
    message_id: str
    kind: str
    client_id: str | None
    teccom_id: str | None
    recipient: str
    params: dict[str, Any]
    batch: str
    attempts: int


def claim(settings: WorkerSettings, now: datetime) -> tuple[str, list[Mail]]:
    """Claim up to a batch of due rows; the claim token and the rows."""
    token = secrets.token_hex(16)
    due = (
        db.select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(settings.batch_size)
        .with_for_update(skip_locked=True)
    )
    db.session.rollback()  # a fresh transaction: SQLite takes its write lock on the UPDATE
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(
            status=SENDING,
            claim_token=token,
            lease_until=now + timedelta(seconds=settings.lease_seconds),
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    rows = db.session.execute(
        db.select(OutboxMessage)
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == SENDING)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .execution_options(populate_existing=True)
    ).scalars()
    mails = [
        Mail(
            row.id,
            row.message_id,
            row.kind,
            row.client_id,
            row.teccom_id,
            row.recipient,
            dict(row.params or {}),
            row.batch,
            row.attempts,
        )
        for row in rows
    ]
    db.session.rollback()
    return token, mails


def _context(settings: WorkerSettings, row: Mail) -> dict[str, Any]:
    client_url = f"{settings.base_url}/clients/{row.client_id}"
    context: dict[str, Any] = {
        **row.params,
        "client_id": row.client_id,
        "teccom_id": row.teccom_id,
        "console_url": f"{client_url}/organizations",
        "activity_url": f"{client_url}/activity",
    }
    if row.kind == KIND_EXPORT_FAILURES:
        context["failures"] = digest_failures(row.batch)
    return context


def _record(
    row: Mail, token: str, values: dict[str, Any], action: str | None, details: Any
) -> None:
    """Store an outcome if the claim is still ours, with its audit event."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.claim_token == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if action and result.rowcount == 1:  # type: ignore[attr-defined]
        audit.record(SYSTEM, action, client_id=row.client_id, target=row.recipient, details=details)
    db.session.commit()


def deliver(settings: WorkerSettings, clock: Clock = utcnow) -> int:
    """Claim one batch and deliver it; the number of rows handled (0: none due)."""
    now = clock()
    if not has_due(now):
        return 0
    token, rows = claim(settings, now)
    if not rows:
        return 0
    lease = timedelta(seconds=settings.lease_seconds)
    lease_end = now + lease - min(LEASE_MARGIN, lease / 10)
    broken: DeliveryError | None = None
    with settings.transport() as transport:
        for row in rows:
            if clock() > lease_end:  # give the rest back rather than race a new claim
                _release(token)
                break
            broken = _deliver_one(settings, transport, row, token, clock, broken)
    return len(rows)


def _deliver_one(
    settings: WorkerSettings,
    transport: SmtpTransport | FileTransport,
    row: Mail,
    token: str,
    clock: Clock,
    broken: DeliveryError | None,
) -> DeliveryError | None:
    """Deliver *row*; the connection error that the rest of the batch
    shares without trying (``None`` while the connection is fine)."""
    details = {"kind": row.kind, "message_id": row.message_id, "attempts": row.attempts}
    try:
        if broken is not None:
            raise broken
        context = _context(settings, row)
        if row.kind == KIND_EXPORT_FAILURES and not context["failures"]:
            raise DeliveryError(
                "nothing to list: the client or its reports were deleted", temporary=False
            )
        message = build_message(
            render(row.kind, context),
            sender=settings.sender,
            recipient=row.recipient,
            message_id=row.message_id,
            date=clock(),
        )
        transport.send(message, settings.envelope_sender, row.recipient)
    except DeliveryError as error:
        _failed(settings, row, token, error, clock(), details)
        return error if error.connection else None
    except Exception:  # noqa: BLE001 - a template or data bug must not stop the batch
        log.exception("mail %s (%s): cannot be built", row.message_id, row.kind)
        bug = DeliveryError("the message could not be built", temporary=False)
        _failed(settings, row, token, bug, clock(), details)
        return None
    log.info(
        "mail %s (%s) to %s: sent, attempt %d",
        row.message_id,
        row.kind,
        row.recipient,
        row.attempts,
    )
    _record(
        row,
        token,
        {
            "status": SENT,
            "sent_at": clock(),
            "claim_token": None,
            "lease_until": None,
            "last_error": None,
        },
        "mail.sent",
        details,
    )
    return None


def _failed(
    settings: WorkerSettings,
    row: Mail,
    token: str,
    error: DeliveryError,
    now: datetime,
    details: dict[str, Any],
) -> None:
    values: dict[str, Any] = {"claim_token": None, "lease_until": None, "last_error": error.reason}
    if error.temporary and row.attempts < settings.max_attempts:
        retry_at = now + backoff(settings, row.attempts)
        log.warning(
            "mail %s (%s) to %s: deferred, attempt %d: %s; next attempt at %s",
            row.message_id,
            row.kind,
            row.recipient,
            row.attempts,
            error.reason,
            retry_at.isoformat(),
        )
        _record(row, token, {**values, "status": PENDING, "next_attempt_at": retry_at}, None, None)
        return
    reason = (
        error.reason
        if not error.temporary
        else f"gave up after {row.attempts} attempts: {error.reason}"
    )
    log.error(
        "mail %s (%s) to %s: failed, attempt %d: %s",
        row.message_id,
        row.kind,
        row.recipient,
        row.attempts,
        reason,
    )
    _record(
        row,
        token,
        {**values, "status": FAILED, "last_error": reason[:500]},
        "mail.failed",
        {**details, "error": reason[:500]},
    )


def _release(token: str) -> None:
    """Give claimed rows back unsent (their attempt does not count)."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == SENDING)
        .values(
            status=PENDING, claim_token=None, lease_until=None, attempts=OutboxMessage.attempts - 1
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def drain(settings: WorkerSettings, clock: Clock = utcnow) -> int:
    """Deliver until nothing is due; the number of rows handled."""
    total = 0
    while handled := deliver(settings, clock):
        total += handled
    return total


def run(settings: WorkerSettings, *, interval: float, stop: threading.Event) -> None:
    """Deliver until *stop* is set, waiting *interval* seconds when idle.

    A database or transport outage is logged and waited out.
    """
    while not stop.is_set():
        try:
            handled = drain(settings)
        except Exception as error:  # noqa: BLE001 - keep running through outages
            log.error("mail worker: %s; trying again in %.0f s", type(error).__name__, interval)
            db.session.rollback()
            handled = 0
        if not handled:
            stop.wait(interval)
