"""docs/rules.md, rule 8: every change and its audit event commit
in one transaction. A database that refuses the audit row must leave the
change undone too (a service that committed the change first would fail here).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from authserver.extensions import db
from authserver.models import (
    Assignment,
    AuditEvent,
    Client,
    ClientAdministrator,
    ClientSecret,
)
from authserver.services import administrators, assignments, audit, clients, secret_rotation

CTX = audit.AuditContext(actor="anna@example.com", remote_addr="192.0.2.1", request_id="req-1")


class AuditRowRefused(Exception):
    """Stands for any database error raised by the INSERT of the audit row."""


@pytest.fixture
def anna(directory):
    directory.user("ben@example.com", admin_of=("400100",))
    directory.user("carl@example.com")
    return directory.user("anna@example.com", admin_of=("400100", "400200"))


@pytest.fixture
def client_id(anna):
    issued = clients.create_client(anna, "400100", CTX)
    administrators.add_administrator(anna, issued.client.client_id, "ben@example.com", CTX)
    return issued.client.client_id


@pytest.fixture
def refuse_audit_rows() -> Iterator[None]:
    def refuse(*args: Any) -> None:
        raise AuditRowRefused()

    event.listen(AuditEvent, "before_insert", refuse)
    yield
    event.remove(AuditEvent, "before_insert", refuse)


def _state() -> dict[str, Any]:
    db.session.rollback()
    return {
        "clients": db.session.execute(db.select(Client.client_id).order_by(Client.id)).all(),
        "secrets": db.session.execute(
            db.select(ClientSecret.id, ClientSecret.expires_at).order_by(ClientSecret.id)
        ).all(),
        "assignments": db.session.execute(
            db.select(
                Assignment.teccom_id,
                Assignment.enabled,
                Assignment.notification_emails,
            ).order_by(Assignment.teccom_id)
        ).all(),
        "administrators": db.session.execute(
            db.select(ClientAdministrator.user_id).order_by(ClientAdministrator.user_id)
        ).all(),
        "invalid_before": db.session.execute(db.select(Client.tokens_invalid_before)).all(),
        "events": db.session.execute(db.select(db.func.count(AuditEvent.id))).scalar_one(),
    }


CHANGES = {
    "create client": lambda anna, cid: clients.create_client(anna, "400200", CTX),
    "rotate secret": lambda anna, cid: secret_rotation.rotate_secret(
        anna, cid, CTX, grace_period_seconds=60, revoke_tokens=True
    ),
    "assign": lambda anna, cid: assignments.assign_organization(anna, cid, "400200", CTX),
    "edit assignment": lambda anna, cid: assignments.update_assignment(
        anna, cid, "400100", CTX, enabled=False, notification_emails=["ops@example.com"]
    ),
    "unassign": lambda anna, cid: assignments.unassign_organization(anna, cid, "400100", CTX),
    "remove administrator": lambda anna, cid: administrators.remove_administrator(
        anna, cid, "ben@example.com", CTX
    ),
    "add administrator": lambda anna, cid: administrators.add_administrator(
        anna, cid, "carl@example.com", CTX
    ),
    "delete client": lambda anna, cid: clients.delete_client(anna, cid, CTX),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_each_change_changes_the_state_and_writes_one_event(anna, client_id, change):
    before = _state()
    CHANGES[change](anna, client_id)
    after = _state()
    assert after["events"] == before["events"] + 1
    before.pop("events"), after.pop("events")
    assert after != before


@pytest.mark.parametrize("change", list(CHANGES))
def test_no_change_without_its_audit_event(anna, client_id, refuse_audit_rows, change):
    before = _state()
    with pytest.raises(AuditRowRefused):
        CHANGES[change](anna, client_id)
    assert _state() == before
