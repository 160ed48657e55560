"""docs/rules.md, rule 8: the audit trail, readable by the client's administrators."""

from __future__ import annotations

import pytest

from authserver.errors import ClientNotFound, ValidationError
from authserver.services import assignments, audit, clients, events, secret_rotation

CTX = audit.AuditContext(actor="anna@example.com", remote_addr="192.0.2.1", request_id="req-1")


@pytest.fixture
def anna(directory):
    return directory.user("anna@example.com", admin_of=("400100", "400200"))


@pytest.fixture
def client_id(anna):
    return clients.create_client(anna, "400100", CTX).client.client_id


def test_events_newest_first_in_pages(anna, client_id):
    for n in range(5):
        secret_rotation.rotate_secret(anna, client_id, CTX, grace_period_seconds=n)
    first = events.list_events(anna, client_id, limit=4)
    assert [e.action for e in first.events] == ["client.secret_rotated"] * 4
    assert [e.details["grace_period_seconds"] for e in first.events] == [4, 3, 2, 1]
    assert first.next_before == first.events[-1].id
    second = events.list_events(anna, client_id, limit=4, before=first.next_before)
    assert [e.action for e in second.events] == ["client.secret_rotated", "client.created"]
    assert second.next_before is None
    assert [e.id for e in first.events + second.events] == sorted(
        (e.id for e in first.events + second.events), reverse=True
    )


def test_a_page_exactly_full_has_no_next_cursor(anna, client_id):
    secret_rotation.rotate_secret(anna, client_id, CTX)
    page = events.list_events(anna, client_id, limit=2)
    assert len(page.events) == 2 and page.next_before is None


def test_events_are_only_those_of_the_client(anna, client_id):
    other = clients.create_client(anna, "400200", CTX).client.client_id
    assignments.update_assignment(anna, other, "400200", CTX, enabled=False)
    page = events.list_events(anna, client_id)
    assert [(e.action, e.client_id) for e in page.events] == [("client.created", client_id)]
    event = page.events[0]
    assert (event.actor, event.remote_addr, event.request_id, event.target) == (
        "anna@example.com",
        "192.0.2.1",
        "req-1",
        "400100",
    )
    assert event.created_at.tzinfo is not None


def test_events_of_a_client_not_administered(directory, client_id):
    ben = directory.user("ben@example.com", admin_of=("400100",))
    with pytest.raises(ClientNotFound):
        events.list_events(ben, client_id)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "5"}, "limit"),
        ({"before": 0}, "before"),
        ({"before": 2**31}, "before"),  # past the 32-bit event ids
        ({"before": 2**63}, "before"),
        ({"before": "x"}, "before"),
    ],
)
def test_bad_page_arguments(anna, client_id, kwargs, field):
    with pytest.raises(ValidationError) as info:
        events.list_events(anna, client_id, **kwargs)
    assert info.value.field == field


def test_the_largest_cursor_is_the_largest_event_id(anna, client_id):
    page = events.list_events(anna, client_id, before=2**31 - 1)
    assert [e.action for e in page.events] == ["client.created"]
