"""End to end with a real SMTP server (aiosmtpd on a loopback port): a report
over HTTP, the mail worker, and what arrives — on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conftest import make_config
from flask import Flask
from flask.testing import FlaskClient
from support.smtp import SmtpServer, free_port

from authserver.extensions import db
from authserver.mail.worker import WorkerSettings, drain
from authserver.models import AuditEvent, OutboxMessage, User
from authserver.models._base import utcnow
from authserver.services import assignments, audit, clients, events

WINDOW = 900
SENDER = "authserver <noreply@auth.example.com>"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(database_url: str, tmp_path: Any, smtp: SmtpServer) -> dict[str, Any]:
    smtp.handler.reset()
    return make_config(
        database_url, tmp_path, SMTP_URL=smtp.url, MAIL_FROM=SENDER, MAIL_DIGEST_WINDOW=WINDOW
    )


@pytest.fixture
def world(directory: Any) -> dict[str, Any]:
    anna = directory.user("anna@example.com", admin_of=("400100",))
    issued = clients.create_client(anna, "400100", audit.CLI, name="Acme ERP")
    assignments.update_assignment(
        anna,
        issued.client.client_id,
        "400100",
        audit.CLI,
        notification_emails=["ops@acme.example", "it@acme.example"],
    )
    gateway = clients.create_gateway("export-service", audit.CLI)
    db.session.execute(db.delete(OutboxMessage))  # the notices of the set-up
    db.session.commit()
    credentials = f"{gateway.client.client_id}:{gateway.client_secret}".encode()
    return {
        "client_id": issued.client.client_id,
        "gateway": {"Authorization": "Basic " + base64.b64encode(credentials).decode()},
    }


def post_report(http: FlaskClient, world: dict[str, Any], export_id: str, **changes: Any) -> int:
    body = {
        "client_id": world["client_id"],
        "organization": "400100",
        "export_id": export_id,
        "failed_at": "2026-12-06T10:00:00Z",
        "reason": "The target system answered 503.",
        **changes,
    }
    return http.post("/api/v1/export-failures", json=body, headers=world["gateway"]).status_code


def settings(app: Flask, **changes: Any) -> WorkerSettings:
    import dataclasses

    return dataclasses.replace(WorkerSettings.from_config(app.config, app.instance_path), **changes)


def after(seconds: int) -> Any:
    return lambda: utcnow() + timedelta(seconds=seconds)


def statuses() -> list[tuple[str, str, int]]:
    rows = db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.recipient)).scalars()
    return [(row.recipient, row.status, row.attempts) for row in rows]


def test_a_report_arrives_at_every_notification_address(app, http, world, smtp):
    assert post_report(http, world, "exp-17") == 202
    assert drain(settings(app)) == 0  # the digest window is still open
    assert smtp.received == []

    assert drain(settings(app), clock=after(WINDOW + 1)) == 2
    received = smtp.received
    assert sorted(r.rcpt_tos[0] for r in received) == ["it@acme.example", "ops@acme.example"]
    for item in received:
        assert item.mail_from == "noreply@auth.example.com"
        message = item.message
        assert message["Subject"] == "Failed export for 400100 Org 400100"
        assert message["From"] == SENDER
        assert message["To"] == item.rcpt_tos[0]
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"].endswith("@auth.example.com>")
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for part in (text, html):
            assert "exp-17" in part
            assert "The target system answered 503." in part
            assert "2026-12-06 10:00:00 UTC" in part
            assert "400100" in part and "Org 400100" in part
            assert "Acme ERP" in part and world["client_id"] in part
            assert f"https://auth.example.test/clients/{world['client_id']}/organizations" in part
    assert len({r.message["Message-ID"] for r in received}) == 2
    assert statuses() == [("it@acme.example", "sent", 1), ("ops@acme.example", "sent", 1)]
    sent = db.session.execute(
        db.select(AuditEvent.target).where(AuditEvent.action == "mail.sent")
    ).scalars()
    assert sorted(sent) == ["it@acme.example", "ops@acme.example"]

    # a repeat of the report sends nothing
    assert post_report(http, world, "exp-17") == 200
    assert drain(settings(app), clock=after(2 * WINDOW + 2)) == 0
    assert len(smtp.received) == 2


def test_a_burst_of_50_failures_is_one_digest(app, http, world, smtp):
    for number in range(50):
        assert post_report(http, world, f"exp-{number:02}", reason=f"failure {number}") == 202
    assert drain(settings(app), clock=after(WINDOW + 1)) == 2
    received = smtp.received
    assert len(received) == 2
    message = received[0].message
    assert message["Subject"] == "50 failed exports for 400100 Org 400100"
    text = message.get_body(("plain",)).get_content()
    assert all(f"exp-{number:02}" in text for number in range(50))


def test_an_smtp_outage_is_retried_and_delivered_once_back(app, http, world, smtp):
    assert post_report(http, world, "exp-1") == 202
    down = settings(app, smtp=settings(app).smtp.__class__("smtp", "127.0.0.1", free_port()))
    assert drain(down, clock=after(WINDOW + 1)) == 2
    rows = db.session.execute(db.select(OutboxMessage)).scalars().all()
    assert {(row.status, row.attempts) for row in rows} == {("pending", 1)}
    assert all(row.last_error.startswith("connection: ConnectionRefusedError") for row in rows)
    retry_at = min(row.next_attempt_at for row in rows)
    assert retry_at >= utcnow() + timedelta(seconds=WINDOW + 25)  # backoff: 30 s
    assert drain(settings(app), clock=after(WINDOW + 2)) == 0  # not yet
    assert drain(settings(app), clock=after(WINDOW + 40)) == 2
    assert len(smtp.received) == 2
    assert statuses() == [("it@acme.example", "sent", 2), ("ops@acme.example", "sent", 2)]


def test_a_recipient_refused_with_550_is_recorded_and_the_others_delivered(app, http, world, smtp):
    smtp.handler.refuse.add("it@acme.example")
    assert post_report(http, world, "exp-1") == 202
    assert drain(settings(app), clock=after(WINDOW + 1)) == 2
    assert [r.rcpt_tos for r in smtp.received] == [["ops@acme.example"]]
    assert statuses() == [("it@acme.example", "failed", 1), ("ops@acme.example", "sent", 1)]
    failed = db.session.execute(
        db.select(OutboxMessage).where(OutboxMessage.status == "failed")
    ).scalar_one()
    assert failed.last_error == "550 5.1.1 Mailbox unavailable"
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "mail.failed")
    ).scalar_one()
    assert (event.target, event.details["error"]) == (
        "it@acme.example",
        "550 5.1.1 Mailbox unavailable",
    )
    # a permanent failure is never retried
    assert drain(settings(app), clock=after(10 * WINDOW)) == 0
    # the client's administrators read it all in the audit trail (GET .../events)
    anna = db.session.execute(db.select(User).where(User.email == "anna@example.com")).scalar_one()
    trail = events.list_events(anna, world["client_id"]).events
    assert {(e.action, e.target) for e in trail[:2]} == {
        ("mail.sent", "ops@acme.example"),
        ("mail.failed", "it@acme.example"),
    }
    assert (trail[2].action, trail[2].target) == ("export_failure.reported", "400100")


def test_a_mail_is_given_up_after_its_last_attempt(app, http, world, smtp):
    assert post_report(http, world, "exp-1") == 202
    down = settings(app, max_attempts=2)
    down = settings(app, max_attempts=2, smtp=down.smtp.__class__("smtp", "127.0.0.1", free_port()))
    assert drain(down, clock=after(WINDOW + 1)) == 2
    assert drain(down, clock=after(WINDOW + 100)) == 2
    rows = db.session.execute(db.select(OutboxMessage)).scalars().all()
    assert {(row.status, row.attempts) for row in rows} == {("failed", 2)}
    assert all(row.last_error.startswith("gave up after 2 attempts: connection:") for row in rows)
    assert drain(settings(app), clock=after(10 * WINDOW)) == 0
    assert smtp.received == []


def test_cr_lf_in_the_reason_never_reaches_a_header(app, http, world, smtp):
    reason = "disk full\r\nBcc: evil@attacker.example\r\nSubject: pwned\n\nX-Injected: yes"
    assert post_report(http, world, "exp-1", reason=reason) == 202
    assert drain(settings(app), clock=after(WINDOW + 1)) == 2
    for item in smtp.received:
        message = item.message
        assert item.rcpt_tos[0] in {"ops@acme.example", "it@acme.example"}
        assert message["Bcc"] is None and message["X-Injected"] is None
        assert message.get_all("Subject") == ["Failed export for 400100 Org 400100"]
        assert "Bcc: evil@attacker.example" in message.get_body(("plain",)).get_content()
