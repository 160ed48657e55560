"""docs/rules.md, rule 8 through HTTP: the audit trail, newest first, in pages."""

from __future__ import annotations

import pytest


@pytest.fixture
def anna(directory, login):
    directory.user("anna@example.com", admin_of=("400100",))
    return login("anna@example.com")


def test_events_are_paged_newest_first(http, anna):
    client_id = http.post(
        "/api/v1/clients",
        json={"teccom_id": "400100"},
        headers=anna,
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    ).json["client_id"]
    for n in range(3):
        http.post(
            f"/api/v1/clients/{client_id}/secret",
            json={"grace_period_seconds": n},
            headers={**anna, "X-Request-ID": f"rot-{n}"},
        )
    first = http.get(f"/api/v1/clients/{client_id}/events?limit=2", headers=anna)
    assert first.status_code == 200
    assert [(e["action"], e["request_id"]) for e in first.json["events"]] == [
        ("client.secret_rotated", "rot-2"),
        ("client.secret_rotated", "rot-1"),
    ]
    cursor = first.json["next_before"]
    assert cursor == first.json["events"][-1]["id"]
    second = http.get(f"/api/v1/clients/{client_id}/events?limit=2&before={cursor}", headers=anna)
    assert [e["action"] for e in second.json["events"]] == [
        "client.secret_rotated",
        "client.created",
    ]
    assert second.json["next_before"] is None
    created = second.json["events"][-1]
    assert (created["actor"], created["client_id"], created["target"], created["remote_addr"]) == (
        "anna@example.com",
        client_id,
        "400100",
        "192.0.2.7",
    )
    assert created["details"] == {
        "administrator": "anna@example.com",
        "name": "Org 400100 API client",
    }
    assert created["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("before=0", "before"),
        ("before=2147483648", "before"),  # past the 32-bit event ids (PostgreSQL refuses)
        ("before=9223372036854775808", "before"),
        ("after=3", "after"),
    ],
)
def test_bad_page_arguments_are_422(http, anna, query, field):
    client_id = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna).json[
        "client_id"
    ]
    response = http.get(f"/api/v1/clients/{client_id}/events?{query}", headers=anna)
    assert response.status_code == 422
    assert response.json["field"] == field
