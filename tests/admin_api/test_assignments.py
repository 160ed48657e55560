"""docs/rules.md, rule 4 through HTTP."""

from __future__ import annotations

import pytest

from authserver.extensions import db
from authserver.models import Assignment


@pytest.fixture
def anna(directory, login):
    directory.user("anna@example.com", admin_of=("400100", "400200"))
    directory.organization("900900")
    return login("anna@example.com")


@pytest.fixture
def base(http, anna):
    client_id = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna).json[
        "client_id"
    ]
    return f"/api/v1/clients/{client_id}/organizations"


def test_assign_edit_unassign(http, anna, base):
    response = http.post(
        base,
        json={
            "teccom_id": "400200",
            "enabled": False,
            "notification_emails": ["ops@example.com", "erp@example.com"],
        },
        headers=anna,
    )
    assert response.status_code == 201
    assert response.headers["Location"] == f"{base}/400200"
    assert {
        k: response.json[k] for k in ("teccom_id", "name", "enabled", "notification_emails")
    } == {
        "teccom_id": "400200",
        "name": "Org 400200",
        "enabled": False,
        "notification_emails": ["ops@example.com", "erp@example.com"],
    }
    patched = http.patch(f"{base}/400200", json={"enabled": True}, headers=anna)
    assert patched.status_code == 200
    assert (patched.json["enabled"], patched.json["notification_emails"]) == (
        True,
        ["ops@example.com", "erp@example.com"],
    )
    listed = http.get(base, headers=anna)
    assert [(a["teccom_id"], a["enabled"]) for a in listed.json] == [
        ("400100", True),
        ("400200", True),
    ]
    assert http.delete(f"{base}/400200", headers=anna).status_code == 204
    assert [a["teccom_id"] for a in http.get(base, headers=anna).json] == ["400100"]


def test_assign_defaults_to_enabled_without_emails(http, anna, base):
    response = http.post(base, json={"teccom_id": "400200"}, headers=anna)
    assert (response.json["enabled"], response.json["notification_emails"]) == (True, [])


def test_assign_an_organization_not_administered_is_403(http, anna, base):
    response = http.post(base, json={"teccom_id": "900900"}, headers=anna)
    assert response.status_code == 403
    assert response.json["type"] == "https://auth.example.test/problems/not-organization-admin"


def test_assign_an_assigned_organization_is_409(http, anna, base):
    response = http.post(base, json={"teccom_id": "400100"}, headers=anna)
    assert response.status_code == 409
    assert response.json["detail"] == "Organization 400100 is already assigned to this client."


@pytest.mark.parametrize(
    "emails, field",
    [
        (["not-an-email"], "notification_emails.0"),
        (["ok@example.com", "a@b@example.com"], "notification_emails.1"),
        ([7], "notification_emails.0"),
        ("ops@example.com", "notification_emails"),
    ],
)
def test_bad_notification_email_is_422_naming_it(http, anna, base, emails, field):
    response = http.post(
        base, json={"teccom_id": "400200", "notification_emails": emails}, headers=anna
    )
    assert response.status_code == 422
    assert response.json["field"] == field
    assert (
        db.session.execute(db.select(Assignment).where(Assignment.teccom_id == "400200")).first()
        is None
    )
    patched = http.patch(f"{base}/400100", json={"notification_emails": emails}, headers=anna)
    assert (patched.status_code, patched.json["field"]) == (422, field)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"enabled": "false"}, "enabled"),
        ({"enabled": None}, "enabled"),
        ({"teccom_id": "400200"}, "teccom_id"),
        ({"client_pk": 1}, "client_pk"),
    ],
)
def test_patch_refuses_bad_or_unknown_fields(http, anna, base, body, field):
    response = http.patch(f"{base}/400100", json=body, headers=anna)
    assert response.status_code == 422
    assert response.json["field"] == field


def test_edit_or_remove_an_organization_not_assigned_is_404(http, anna, base):
    for response in (
        http.patch(f"{base}/400200", json={"enabled": False}, headers=anna),
        http.delete(f"{base}/400200", headers=anna),
    ):
        assert response.status_code == 404
        assert response.json["detail"] == "Organization 400200 is not assigned to this client."


def test_edit_needs_the_organization_right_now_not_at_login(http, anna, base):
    from authserver.models import OrganizationAdmin

    db.session.execute(db.delete(OrganizationAdmin).where(OrganizationAdmin.teccom_id == "400100"))
    db.session.commit()
    response = http.patch(f"{base}/400100", json={"enabled": False}, headers=anna)
    assert response.status_code == 403
    assert http.delete(f"{base}/400100", headers=anna).status_code == 403
