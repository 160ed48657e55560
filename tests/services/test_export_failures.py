"""Failed-export reports at the service level: idempotency, the digest
window, the daily cap, the test mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authserver.errors import (
    ClientNotFound,
    OrganizationNotFound,
    ReportConflict,
    TooManyRequests,
    ValidationError,
)
from authserver.extensions import db
from authserver.models import OutboxMessage
from authserver.services import assignments, audit, clients, export_failures

CTX = audit.AuditContext(actor="anna@example.com")
GATEWAY = audit.AuditContext(actor="gateway:gw_1")
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
POLICY = export_failures.DigestPolicy(window_seconds=600, daily_cap=2)


@pytest.fixture
def setup(directory):
    anna = directory.user("anna@example.com", admin_of=("400100", "400200"))
    client_id = clients.create_client(anna, "400100", CTX).client.client_id
    assignments.update_assignment(
        anna, client_id, "400100", CTX, notification_emails=["ops@acme.example"]
    )
    assignments.assign_organization(anna, client_id, "400200", CTX)
    db.session.execute(db.delete(OutboxMessage))
    db.session.commit()
    return anna, client_id


def report(client_id, export_id, *, at=T0, reason="failed", policy=POLICY, teccom_id="400100"):
    return export_failures.report_failure(
        "gw_1",
        client_id=client_id,
        teccom_id=teccom_id,
        export_id=export_id,
        failed_at=T0,
        reason=reason,
        reason_code=None,
        ctx=GATEWAY,
        policy=policy,
        now=at,
    )


def digests() -> list[tuple[datetime, int]]:
    """(due, failures listed) per digest, in order."""
    rows = db.session.execute(
        db.select(OutboxMessage).order_by(OutboxMessage.scheduled_at)
    ).scalars()
    return [(row.scheduled_at, len(export_failures.digest_failures(row.batch))) for row in rows]


def test_a_report_is_idempotent_and_a_different_repeat_conflicts(setup):
    _, client_id = setup
    first = report(client_id, "exp-1")
    again = report(client_id, "exp-1", at=T0 + timedelta(hours=5))
    assert (first.created, again.created, again.failure.id) == (True, False, first.failure.id)
    with pytest.raises(ReportConflict):
        report(client_id, "exp-1", reason="other")
    assert digests() == [(T0 + timedelta(seconds=600), 1)]


def test_failures_within_the_window_join_one_digest_and_later_ones_open_the_next(setup):
    _, client_id = setup
    report(client_id, "exp-1")
    report(client_id, "exp-2", at=T0 + timedelta(seconds=300))
    report(client_id, "exp-3", at=T0 + timedelta(seconds=594))
    # five seconds before it is due a digest is closed: a worker may be on it
    report(client_id, "exp-4", at=T0 + timedelta(seconds=596))
    assert digests() == [
        (T0 + timedelta(seconds=600), 3),
        (T0 + timedelta(seconds=1196), 1),
    ]


def test_the_daily_cap_moves_further_digests_to_the_next_day(setup):
    _, client_id = setup
    for hour in range(4):
        report(client_id, f"exp-{hour}", at=T0 + timedelta(hours=hour))
    tomorrow = datetime(2026, 12, 7, tzinfo=UTC)
    assert digests() == [
        (T0 + timedelta(seconds=600), 1),
        (T0 + timedelta(hours=1, seconds=600), 1),
        (tomorrow, 2),  # the rest of the day in one digest at midnight
    ]


def test_an_organization_without_addresses_gets_no_mail(setup):
    _, client_id = setup
    assert report(client_id, "exp-1", teccom_id="400200").failure.batch is None
    assert digests() == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"export_id": "x" * 201}, "export_id"),
        ({"reason": ""}, "reason"),
        ({"failed_at": datetime(2026, 12, 6, 10, 0)}, "failed_at"),
        ({"client_id": "cl_missing"}, "client_id"),
        ({"teccom_id": "999999"}, "organization"),
    ],
)
def test_bad_values_are_refused_naming_the_field(setup, kwargs, field):
    _, client_id = setup
    values = {
        "client_id": client_id,
        "teccom_id": "400100",
        "export_id": "exp-1",
        "failed_at": T0,
        "reason": "failed",
        **kwargs,
    }
    with pytest.raises(ValidationError) as raised:
        export_failures.report_failure(
            "gw_1", **values, reason_code=None, ctx=GATEWAY, policy=POLICY
        )
    assert raised.value.field == field


def test_last_failures_are_the_latest_report_per_organization(setup):
    _, client_id = setup
    report(client_id, "exp-1")
    report(client_id, "exp-2")
    report(client_id, "exp-3", teccom_id="400200")
    client = clients.organization_client("400100")
    latest = export_failures.last_failures(client.id)
    assert {k: v.export_id for k, v in latest.items()} == {"400100": "exp-2", "400200": "exp-3"}


def test_a_test_mail_goes_to_the_addresses_at_most_once_per_interval(setup, directory):
    anna, client_id = setup
    sent = export_failures.send_test_mail(anna, client_id, "400100", CTX, now=T0)
    assert sent == ["ops@acme.example"]
    with pytest.raises(TooManyRequests) as raised:
        export_failures.send_test_mail(
            anna, client_id, "400100", CTX, now=T0 + timedelta(seconds=60)
        )
    assert raised.value.retry_after == 241
    export_failures.send_test_mail(anna, client_id, "400100", CTX, now=T0 + timedelta(seconds=300))
    assert db.session.execute(db.select(db.func.count()).select_from(OutboxMessage)).scalar() == 2

    with pytest.raises(ValidationError):
        export_failures.send_test_mail(anna, client_id, "400200", CTX)  # no address
    with pytest.raises(OrganizationNotFound):
        export_failures.send_test_mail(anna, client_id, "400300", CTX)
    bob = directory.user("bob@example.com", admin_of=("400100",))
    with pytest.raises(ClientNotFound):
        export_failures.send_test_mail(bob, client_id, "400100", CTX)
