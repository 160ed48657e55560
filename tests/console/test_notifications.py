"""The Organizations tab: the last failed-export report of each assignment
and "Send test e-mail" (through the outbox, rate-limited); the Activity tab
shows reports and mails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Directory, make_config
from flask.testing import FlaskClient

from authserver.extensions import db
from authserver.models import OutboxMessage
from authserver.services import assignments, audit, export_failures

from .conftest import form_token, login
from .test_pages import create, flashed, text


@pytest.fixture
def app_config(database_url: str, tmp_path: Any) -> dict[str, Any]:
    return make_config(database_url, tmp_path, MAIL_TEST_INTERVAL=300)


@pytest.fixture
def client_id(http: FlaskClient, directory: Directory) -> str:
    directory.organization("400100", "Acme Parts GmbH")
    anna = directory.user("anna@example.com", admin_of=("400100",))
    client_id = create(http, login(http, "anna@example.com"))
    assignments.update_assignment(
        anna, client_id, "400100", audit.CLI, notification_emails=["ops@acme.example"]
    )
    return client_id


def test_the_last_failed_export_is_shown_per_organization(http: FlaskClient, client_id: str):
    page = text(http.get(f"/clients/{client_id}/organizations"))
    assert (
        '<td data-label="Last failed export" data-testid="last-failure"><span class="muted">none</span>'
        in page
    )
    for number, received in ((1, "2026-12-06T10:00:00"), (2, "2026-12-06T11:30:00")):
        export_failures.report_failure(
            "gw_1",
            client_id=client_id,
            teccom_id="400100",
            export_id=f"exp-{number}",
            failed_at=datetime(2026, 12, 6, 9, tzinfo=UTC),
            reason="failed",
            reason_code=None,
            ctx=audit.AuditContext(actor="gateway:gw_1"),
            policy=export_failures.DigestPolicy(),
            now=datetime.fromisoformat(received).replace(tzinfo=UTC),
        )
    page = text(http.get(f"/clients/{client_id}/organizations"))
    assert (
        '<span class="nowrap">2026-12-06 11:30 UTC</span> '
        '<span class="mono" title="export id">exp-2</span>'
    ) in page
    activity = text(http.get(f"/clients/{client_id}/activity"))
    assert "Failed export reported" in activity and "exp-2" in activity


def test_send_test_email_goes_through_the_outbox_at_most_once_per_interval(
    http: FlaskClient, client_id: str
):
    page = http.get(f"/clients/{client_id}/organizations")
    assert "Send test e-mail" in text(page)
    url = f"/clients/{client_id}/organizations/400100/test-email"
    response = http.post(url, data={"csrf_token": form_token(page)})
    assert flashed(http, response) == ["A test e-mail is on its way to ops@acme.example."]
    rows = db.session.execute(db.select(OutboxMessage)).scalars().all()
    tests = [(row.kind, row.recipient) for row in rows if row.kind == "test"]
    assert tests == [("test", "ops@acme.example")]

    again = http.post(url, data={"csrf_token": form_token(page)})
    (message,) = flashed(http, again)
    assert message.startswith("A test e-mail was sent a moment ago; try again in ")
    assert (
        db.session.execute(
            db.select(db.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "test")
        ).scalar()
        == 1
    )
    activity = text(http.get(f"/clients/{client_id}/activity"))
    assert "Test e-mail requested" in activity

    without_csrf = http.post(url, data={})
    assert without_csrf.status_code == 400
