"""Failed exports reported by the Export service, and the digest mails they
cause (the organization's notification addresses, docs/rules.md, rule 4).

A report is idempotent on (client, organization, export id). No mail storm:
the failures of one assignment that arrive within the digest window join one
digest (written with the first of them, due when the window ends), and an
assignment gets at most ``daily_cap`` digests per UTC day; once the cap is
reached the next digest is due at the start of the next day and collects
everything until then. The report, its audit event and its mails commit
together: nothing is sent in the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from ..errors import OrganizationNotFound, ReportConflict, TooManyRequests, ValidationError
from ..extensions import db
from ..models import KIND_PARTNER, Assignment, Client, ExportFailure, OutboxMessage, User
from ..models._base import utcnow
from ..models.export_failure import EXPORT_ID_MAX, REASON_CODE_MAX, REASON_MAX
from ..models.outbox import KIND_EXPORT_FAILURES, KIND_TEST, PENDING
from . import audit, outbox
from .clients import get_client, lock_administered_client, write_transaction
from .events import MAX_CURSOR, MAX_PAGE_SIZE

#: a digest due sooner than this is no longer joined (a worker may be on it)
JOIN_MARGIN = timedelta(seconds=5)
#: how many days ahead the daily cap may push a digest
MAX_DAYS_AHEAD = 7


@dataclass(frozen=True)
class DigestPolicy:
    """``AUTHSERVER_MAIL_DIGEST_WINDOW`` and ``AUTHSERVER_MAIL_DAILY_CAP``."""

    window_seconds: int = 900
    daily_cap: int = 10


@dataclass(frozen=True)
class Report:
    """The stored report; ``created`` is false for a repeat."""

    failure: ExportFailure
    created: bool


@dataclass(frozen=True)
class FailurePage:
    failures: list[ExportFailure]
    next_before: int | None


def _validate_text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise ValidationError(f"{field} must be 1 to {limit} characters.", field=field)
    return value


def _validate_moment(value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(
            "failed_at must be an RFC 3339 date-time with a time zone offset.", field="failed_at"
        )
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationError("failed_at is out of range.", field="failed_at") from None


def _assignment(client_id: object, teccom_id: object) -> tuple[Client, Assignment]:
    client = None
    if isinstance(client_id, str) and client_id:
        client = db.session.execute(
            db.select(Client).where(Client.client_id == client_id, Client.kind == KIND_PARTNER)
        ).scalar_one_or_none()
    if client is None:
        raise ValidationError("No such client.", field="client_id")
    assignment = db.session.execute(
        db.select(Assignment).where(
            Assignment.client_pk == client.id, Assignment.teccom_id == teccom_id
        )
    ).scalar_one_or_none()
    if assignment is None:
        raise ValidationError(
            "The organization is not assigned to this client.", field="organization"
        )
    return client, assignment


def _same(failure: ExportFailure, failed_at: datetime, reason: str, code: str | None) -> bool:
    return (failure.failed_at, failure.reason, failure.reason_code) == (failed_at, reason, code)


def _existing(client_pk: int, teccom_id: str, export_id: str) -> ExportFailure | None:
    found: ExportFailure | None = db.session.execute(
        db.select(ExportFailure).where(
            ExportFailure.client_pk == client_pk,
            ExportFailure.teccom_id == teccom_id,
            ExportFailure.export_id == export_id,
        )
    ).scalar_one_or_none()
    return found


def _repeat(found: ExportFailure, failed_at: datetime, reason: str, code: str | None) -> Report:
    if not _same(found, failed_at, reason, code):
        raise ReportConflict(
            "This export was reported before with a different failed_at, reason or reason_code.",
            field="export_id",
        )
    return Report(found, False)


@write_transaction
def report_failure(
    gateway_id: str,
    *,
    client_id: str,
    teccom_id: str,
    export_id: str,
    failed_at: datetime,
    reason: str,
    reason_code: str | None,
    ctx: audit.AuditContext,
    policy: DigestPolicy,
    now: datetime | None = None,
) -> Report:
    """Record a failed export and schedule its digest mail.

    :raises ValidationError: a bad field, an unknown client (``client_id``) or
        an organization not assigned to it (``organization``).
    :raises ReportConflict: the same export was reported with other values.
    """
    _validate_text(export_id, "export_id", EXPORT_ID_MAX)
    _validate_text(reason, "reason", REASON_MAX)
    if reason_code is not None:
        _validate_text(reason_code, "reason_code", REASON_CODE_MAX)
    failed_at = _validate_moment(failed_at)
    client, assignment = _assignment(client_id, teccom_id)
    found = _existing(client.id, teccom_id, export_id)
    if found is not None:
        return _repeat(found, failed_at, reason, reason_code)
    now = now or utcnow()
    failure = ExportFailure(
        client_pk=client.id,
        teccom_id=teccom_id,
        export_id=export_id,
        failed_at=failed_at,
        reason=reason,
        reason_code=reason_code,
        reported_by=gateway_id,
        received_at=now,
    )
    db.session.add(failure)
    try:
        db.session.flush()  # on SQLite this takes the write lock: no worker claims meanwhile
    except IntegrityError:
        db.session.rollback()
        again = _existing(client.id, teccom_id, export_id)
        if again is None:  # pragma: no cover - the row that won was deleted meanwhile
            raise
        return _repeat(again, failed_at, reason, reason_code)
    if assignment.notification_emails:
        failure.batch = _digest(client, assignment, policy, now)
    audit.record(
        ctx,
        "export_failure.reported",
        client_id=client.client_id,
        target=teccom_id,
        details={
            "export_id": export_id,
            "failed_at": failed_at.isoformat(),
            "reason_code": reason_code,
            "notified": bool(failure.batch),
        },
    )
    db.session.commit()
    return Report(failure, True)


def _digest(client: Client, assignment: Assignment, policy: DigestPolicy, now: datetime) -> str:
    """The batch of the assignment's open digest, or a new one."""
    open_rows = (
        db.select(OutboxMessage.batch)
        .where(
            OutboxMessage.kind == KIND_EXPORT_FAILURES,
            OutboxMessage.client_id == client.client_id,
            OutboxMessage.teccom_id == assignment.teccom_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.attempts == 0,
            OutboxMessage.next_attempt_at > now + JOIN_MARGIN,
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    # PostgreSQL: lock the digest, so a worker (SKIP LOCKED) leaves it alone
    # until this report commits; SQLite: the write lock is held already
    joined: str | None = db.session.execute(open_rows.with_for_update()).scalar_one_or_none()
    if joined is not None:
        return joined
    organization = assignment.organization
    return outbox.enqueue(
        KIND_EXPORT_FAILURES,
        assignment.notification_emails,
        client_id=client.client_id,
        teccom_id=assignment.teccom_id,
        params={"client_name": client.name, "organization_name": organization.name},
        due_at=_due(client.client_id, assignment.teccom_id, policy, now),
    )


def _due(client_id: str, teccom_id: str, policy: DigestPolicy, now: datetime) -> datetime:
    """The end of the window, or the first day with room under the daily cap."""
    due = now + timedelta(seconds=policy.window_seconds)
    for _ in range(MAX_DAYS_AHEAD):
        day = due.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        count = db.session.execute(
            db.select(func.count(func.distinct(OutboxMessage.batch))).where(
                OutboxMessage.kind == KIND_EXPORT_FAILURES,
                OutboxMessage.client_id == client_id,
                OutboxMessage.teccom_id == teccom_id,
                OutboxMessage.scheduled_at >= day,
                OutboxMessage.scheduled_at < day + timedelta(days=1),
            )
        ).scalar_one()
        if count < policy.daily_cap:
            return due
        due = day + timedelta(days=1)
    return due


def digest_failures(batch: str) -> list[ExportFailure]:
    """The failures a digest lists, in the order they failed."""
    return list(
        db.session.execute(
            db.select(ExportFailure)
            .where(ExportFailure.batch == batch)
            .order_by(ExportFailure.failed_at, ExportFailure.id)
        ).scalars()
    )


def list_failures(
    user: User, client_id: str, *, limit: int = 50, before: int | None = None
) -> FailurePage:
    """Reports of a client *user* administers, newest first, a page at a time.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}.", field="limit")
    if before is not None and (
        isinstance(before, bool) or not isinstance(before, int) or not 1 <= before <= MAX_CURSOR
    ):
        raise ValidationError("before must be a positive integer cursor.", field="before")
    client = get_client(user, client_id)
    query = db.select(ExportFailure).where(ExportFailure.client_pk == client.id)
    if before is not None:
        query = query.where(ExportFailure.id < before)
    rows = list(
        db.session.execute(query.order_by(ExportFailure.id.desc()).limit(limit + 1)).scalars()
    )
    if len(rows) > limit:
        return FailurePage(rows[:limit], rows[limit - 1].id)
    return FailurePage(rows, None)


def last_failures(client_pk: int) -> dict[str, ExportFailure]:
    """The latest report of each organization of a client, by TecCom ID."""
    latest = (
        db.select(func.max(ExportFailure.id))
        .where(ExportFailure.client_pk == client_pk)
        .group_by(ExportFailure.teccom_id)
    )
    rows = db.session.execute(
        db.select(ExportFailure).where(ExportFailure.id.in_(latest))
    ).scalars()
    return {row.teccom_id: row for row in rows}


@write_transaction
def send_test_mail(
    user: User,
    client_id: str,
    teccom_id: str,
    ctx: audit.AuditContext,
    *,
    interval_seconds: int = 300,
    now: datetime | None = None,
) -> list[str]:
    """Put a test mail to the assignment's notification addresses in the
    outbox, at most one per *interval_seconds*; the addresses.

    :raises ClientNotFound: no such client, or *user* is not its administrator.
    :raises OrganizationNotFound: *teccom_id* is not assigned to the client.
    :raises ValidationError: the assignment has no notification address.
    :raises TooManyRequests: a test mail was asked for a moment ago.
    """
    client = lock_administered_client(user, client_id, ctx, "mail.test")
    assignment = db.session.execute(
        db.select(Assignment).where(
            Assignment.client_pk == client.id, Assignment.teccom_id == teccom_id
        )
    ).scalar_one_or_none()
    if assignment is None:
        raise OrganizationNotFound(f"Organization {teccom_id} is not assigned to this client.")
    if not assignment.notification_emails:
        raise ValidationError(
            "Add a notification e-mail address first.", field="notification_emails"
        )
    now = now or utcnow()
    last = db.session.execute(
        db.select(func.max(OutboxMessage.scheduled_at)).where(
            OutboxMessage.kind == KIND_TEST,
            OutboxMessage.client_id == client.client_id,
            OutboxMessage.teccom_id == teccom_id,
        )
    ).scalar_one_or_none()
    if last is not None and (now - last).total_seconds() < interval_seconds:
        wait = int(interval_seconds - (now - last).total_seconds()) + 1
        raise TooManyRequests(
            f"A test e-mail was sent a moment ago; try again in {wait} seconds.", retry_after=wait
        )
    emails = list(assignment.notification_emails)
    outbox.enqueue(
        KIND_TEST,
        emails,
        client_id=client.client_id,
        teccom_id=teccom_id,
        params={
            "client_name": client.name,
            "organization_name": assignment.organization.name,
            "actor": ctx.actor,
        },
        due_at=now,
    )
    audit.record(
        ctx,
        "mail.test_requested",
        client_id=client.client_id,
        target=teccom_id,
        details={"recipients": emails},
    )
    db.session.commit()
    return emails
