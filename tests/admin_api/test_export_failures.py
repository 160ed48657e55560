"""``POST /api/v1/export-failures`` (API gateway credentials, HTTP Basic) and
``GET /api/v1/clients/{id}/export-failures`` (client administrators)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from authserver.extensions import db
from authserver.models import AuditEvent, ExportFailure, OutboxMessage
from authserver.services import assignments, audit, clients

URL = "/api/v1/export-failures"


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def world(directory: Any) -> dict[str, Any]:
    """A client of 400100 (notified at two addresses) and 400200 (none), a gateway."""
    anna = directory.user("anna@example.com", admin_of=("400100", "400200"))
    issued = clients.create_client(anna, "400100", audit.CLI)
    client_id = issued.client.client_id
    assignments.update_assignment(
        anna,
        client_id,
        "400100",
        audit.CLI,
        notification_emails=["ops@acme.example", "it@acme.example"],
    )
    assignments.assign_organization(anna, client_id, "400200", audit.CLI)
    gateway = clients.create_gateway("export-service", audit.CLI)
    db.session.execute(db.delete(OutboxMessage))  # the notices of the set-up
    db.session.commit()
    return {
        "client_id": client_id,
        "partner": basic(client_id, issued.client_secret),
        "gateway": basic(gateway.client.client_id, gateway.client_secret),
    }


def report(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {
        "client_id": world["client_id"],
        "organization": "400100",
        "export_id": "exp-1",
        "failed_at": "2026-12-06T10:00:00Z",
        "reason": "The target system answered 503.",
        "reason_code": "TARGET_UNAVAILABLE",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def test_a_report_is_accepted_once_and_repeats_answer_the_same(http: FlaskClient, world):
    first = http.post(URL, json=report(world), headers=world["gateway"])
    assert first.status_code == 202, first.json
    assert first.json == {
        "id": first.json["id"],
        "client_id": world["client_id"],
        "organization": "400100",
        "export_id": "exp-1",
        "failed_at": "2026-12-06T10:00:00+00:00",
        "reason": "The target system answered 503.",
        "reason_code": "TARGET_UNAVAILABLE",
        "received_at": first.json["received_at"],
        "notified": True,
    }
    again = http.post(URL, json=report(world), headers=world["gateway"])
    assert (again.status_code, again.json) == (200, first.json)

    assert db.session.execute(db.select(db.func.count()).select_from(ExportFailure)).scalar() == 1
    mails = db.session.execute(db.select(OutboxMessage)).scalars().all()
    assert sorted(m.recipient for m in mails) == ["it@acme.example", "ops@acme.example"]
    events = (
        db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "export_failure.reported")
        )
        .scalars()
        .all()
    )
    assert [(e.client_id, e.target, e.details["export_id"]) for e in events] == [
        (world["client_id"], "400100", "exp-1")
    ]
    assert events[0].actor.startswith("gateway:gw_")


@pytest.mark.parametrize(
    "change",
    [
        {"reason": "Another reason."},
        {"failed_at": "2026-12-06T10:00:01Z"},
        {"reason_code": None},
    ],
)
def test_a_repeat_that_differs_is_409(http: FlaskClient, world, change):
    assert http.post(URL, json=report(world), headers=world["gateway"]).status_code == 202
    response = http.post(URL, json=report(world, **change), headers=world["gateway"])
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "https://auth.example.test/problems/report-conflict"
    assert response.json["field"] == "export_id"


def test_an_organization_without_addresses_is_recorded_without_mail(http: FlaskClient, world):
    response = http.post(URL, json=report(world, organization="400200"), headers=world["gateway"])
    assert (response.status_code, response.json["notified"]) == (202, False)
    assert db.session.execute(db.select(OutboxMessage)).first() is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"client_id": "cl_nobody"}, "client_id"),
        ({"organization": "400300"}, "organization"),
        ({"organization": "999999"}, "organization"),
    ],
)
def test_unknown_client_or_organization_not_assigned_is_422(http, world, change, field):
    response = http.post(URL, json=report(world, **change), headers=world["gateway"])
    assert response.status_code == 422
    assert response.json["field"] == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"client_id": "c" * 65}, "client_id"),
        ({"organization": "4" * 33}, "organization"),
        ({"export_id": "e" * 201}, "export_id"),
        ({"reason": "r" * 2001}, "reason"),
        ({"reason_code": "c" * 101}, "reason_code"),
        ({"export_id": ""}, "export_id"),
        ({"reason": ""}, "reason"),
        ({"client_id": 7}, "client_id"),
        ({"organization": ["400100"]}, "organization"),
        ({"export_id": 12}, "export_id"),
        ({"failed_at": 1733479200}, "failed_at"),
        ({"failed_at": "yesterday"}, "failed_at"),
        ({"failed_at": "2026-12-06T10:00:00"}, "failed_at"),  # no offset
        ({"failed_at": "0001-01-01T00:00:00+01:00"}, "failed_at"),  # before year 1 in UTC
        ({"reason": {"text": "x"}}, "reason"),
        ({"reason_code": 5}, "reason_code"),
        ({"reason": "nul \x00 inside"}, "reason"),
        ({"export_id": ...}, "export_id"),
        ({"failed_at": ...}, "failed_at"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_is_422_naming_the_field(http: FlaskClient, world, change, field):
    response = http.post(URL, json=report(world, **change), headers=world["gateway"])
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["field"] == field
    assert db.session.execute(db.select(ExportFailure)).first() is None


def test_broken_json_is_400_and_not_json_is_415(http: FlaskClient, world):
    broken = http.post(
        URL,
        data=b'{"client_id": ',
        headers={**world["gateway"], "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    form = http.post(URL, data={"client_id": "x"}, headers=world["gateway"])
    assert form.status_code == 415


def test_only_gateway_credentials_may_report(http: FlaskClient, world, login):
    body = report(world)
    nothing = http.post(URL, json=body)
    assert nothing.status_code == 401
    assert nothing.mimetype == "application/problem+json"
    assert (
        nothing.headers["WWW-Authenticate"] == 'Basic realm="authserver-gateways", charset="UTF-8"'
    )

    wrong = http.post(URL, json=body, headers=basic(world["gateway"]["Authorization"], "nope"))
    assert wrong.status_code == 401

    partner = http.post(URL, json=body, headers=world["partner"])
    assert partner.status_code == 403
    assert partner.json["type"] == "https://auth.example.test/problems/not-a-gateway"

    admin = http.post(URL, json=body, headers=login("anna@example.com"))
    assert admin.status_code == 401

    assert db.session.execute(db.select(ExportFailure)).first() is None


def test_a_partner_access_token_is_refused(http: FlaskClient, world, client_access_token):
    response = http.post(
        URL, json=report(world), headers={"Authorization": f"Bearer {client_access_token}"}
    )
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_administrators_list_reports_newest_first_a_page_at_a_time(http, world, login):
    for number in range(3):
        posted = http.post(
            URL, json=report(world, export_id=f"exp-{number}"), headers=world["gateway"]
        )
        assert posted.status_code == 202
    headers = login("anna@example.com")
    url = f"/api/v1/clients/{world['client_id']}/export-failures"
    first = http.get(url + "?limit=2", headers=headers)
    assert first.status_code == 200
    assert [f["export_id"] for f in first.json["export_failures"]] == ["exp-2", "exp-1"]
    second = http.get(f"{url}?limit=2&before={first.json['next_before']}", headers=headers)
    assert [f["export_id"] for f in second.json["export_failures"]] == ["exp-0"]
    assert second.json["next_before"] is None


def test_reports_of_a_client_you_do_not_administer_are_404(http, world, directory, login):
    directory.user("bob@example.com", admin_of=("500100",))
    response = http.get(
        f"/api/v1/clients/{world['client_id']}/export-failures", headers=login("bob@example.com")
    )
    assert response.status_code == 404
    assert http.get(f"/api/v1/clients/{world['client_id']}/export-failures").status_code == 401


def test_both_endpoints_are_in_the_openapi_document(http: FlaskClient):
    spec = http.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/export-failures"]["post"]
    assert post["security"] == [{"gatewayBasic": []}]
    assert set(post["responses"]) >= {"200", "202", "401", "403", "409", "422"}
    assert spec["components"]["securitySchemes"]["gatewayBasic"]["scheme"] == "basic"
    assert "get" in spec["paths"]["/api/v1/clients/{client_id}/export-failures"]
