"""Exporting the audit trail and purging what is past its retention, at the
service level and through ``authserver audit export`` / ``audit purge``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from authserver.errors import ValidationError
from authserver.extensions import db
from authserver.models import AuditEvent
from authserver.models._base import utcnow
from authserver.services import audit, audit_trail


def add_events(*ages_in_days: int) -> list[int]:
    now = utcnow()
    events = [
        AuditEvent(
            actor="anna@example.com",
            action=f"test.aged_{age}",
            client_id="cl_x",
            details={"age": age},
            created_at=now - timedelta(days=age),
        )
        for age in ages_in_days
    ]
    db.session.add_all(events)
    db.session.commit()
    return [event.id for event in events]


def actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def test_export_gives_the_events_since_an_instant_oldest_first(app_ctx, monkeypatch):
    monkeypatch.setattr(audit_trail, "EXPORT_BATCH", 2)  # several round trips
    add_events(500, 10, 3, 1, 0)
    exported = list(audit_trail.export(utcnow() - timedelta(days=11)))
    assert [e["action"] for e in exported] == [
        "test.aged_10",
        "test.aged_3",
        "test.aged_1",
        "test.aged_0",
    ]
    assert set(exported[0]) == {
        "id", "created_at", "actor", "action", "client_id", "target", "details",
        "remote_addr", "request_id",
    }  # fmt: skip
    until = list(audit_trail.export(utcnow() - timedelta(days=11), utcnow() - timedelta(days=2)))
    assert [e["action"] for e in until] == ["test.aged_10", "test.aged_3"]


def test_purge_deletes_what_is_older_and_is_audited(app_ctx):
    add_events(800, 401, 399, 0)
    assert audit_trail.purge(timedelta(days=400), audit.CLI) == 2
    assert actions() == ["test.aged_399", "test.aged_0", "audit.purged"]
    purged = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "audit.purged")
    ).scalar_one()
    assert (purged.actor, purged.details["deleted"]) == ("cli", 2)


def test_purge_refuses_a_retention_shorter_than_30_days(app_ctx):
    add_events(40)
    with pytest.raises(ValidationError):
        audit_trail.purge(timedelta(days=29), audit.CLI)
    assert actions() == ["test.aged_40"]


def test_cli_export_writes_ndjson(runner, app_ctx):
    add_events(2, 1)
    since = (utcnow() - timedelta(days=3)).date().isoformat()
    result = runner.invoke(args=["audit", "export", "--since", since, "--format", "ndjson"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["action"] for line in lines] == ["test.aged_2", "test.aged_1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "not an ISO 8601 date"),
        (["--since", "2026-01-01", "--format", "csv"], "'csv' is not 'ndjson'"),
    ],
)
def test_cli_export_refuses_bad_arguments(runner, app_ctx, args, message):
    result = runner.invoke(args=["audit", "export", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_cli_purge(runner, app_ctx):
    add_events(401, 1)
    result = runner.invoke(args=["audit", "purge", "--older-than", "400d"])
    assert (result.exit_code, result.stdout) == (0, "Purged 1 audit event.\n")
    refused = runner.invoke(args=["audit", "purge", "--older-than", "7d"])
    assert refused.exit_code == 1
    assert refused.stderr == "Error: Keep at least 30 days of audit trail.\n"
    bad = runner.invoke(args=["audit", "purge", "--older-than", "400"])
    assert bad.exit_code == 2
    assert "not a duration" in bad.output
