"""docs/rules.md, rules 1-3 through HTTP: creating, reading, deleting clients and
rotating their secrets."""

from __future__ import annotations

from datetime import datetime

import pytest

from authserver import credentials
from authserver.extensions import db
from authserver.models import AuditEvent, ClientSecret


@pytest.fixture
def anna(directory, login):
    directory.user("anna@example.com", admin_of=("400100", "400200"))
    return login("anna@example.com")


@pytest.fixture
def created(http, anna):
    response = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna)
    assert response.status_code == 201
    return response


def test_create_answers_201_with_the_secret_once(http, anna, created):
    body = created.json
    assert created.headers["Location"] == f"/api/v1/clients/{body['client_id']}"
    assert created.headers["Cache-Control"] == "no-store"
    assert len(body["client_secret"]) == 43
    assert [
        (o["teccom_id"], o["enabled"], o["notification_emails"]) for o in body["organizations"]
    ] == [("400100", True, [])]
    (stored,) = db.session.execute(db.select(ClientSecret.secret_hash)).scalars()
    assert credentials.check_secret(stored, body["client_secret"])
    shown = http.get(created.headers["Location"], headers=anna)
    assert shown.status_code == 200
    assert "client_secret" not in shown.json
    assert body["client_secret"] not in shown.get_data(as_text=True)
    assert stored not in shown.get_data(as_text=True)
    assert {k: v for k, v in body.items() if k != "client_secret"} == shown.json
    assert shown.json["previous_secret_expires_at"] is None


@pytest.mark.parametrize("in_directory", [True, False], ids=["existing", "unknown"])
def test_create_for_an_organization_not_administered_is_403(http, directory, anna, in_directory):
    """An unknown TecCom ID reads the same: the answer never tells whether it exists."""
    if in_directory:
        directory.organization("900900")
    response = http.post("/api/v1/clients", json={"teccom_id": "900900"}, headers=anna)
    assert response.status_code == 403
    assert response.json == {
        "type": "https://auth.example.test/problems/not-organization-admin",
        "title": "Not an administrator of the organization",
        "status": 403,
        "detail": "You are not an administrator of organization 900900.",
    }


def test_create_for_an_assigned_organization_is_409(http, anna, created):
    response = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna)
    assert response.status_code == 409
    assert (
        response.json["type"] == "https://auth.example.test/problems/organization-already-assigned"
    )
    assert response.json["detail"] == "Organization 400100 is already assigned to a client."


def test_list_shows_the_callers_clients(http, anna, created):
    second = http.post("/api/v1/clients", json={"teccom_id": "400200"}, headers=anna).json
    response = http.get("/api/v1/clients", headers=anna)
    assert response.status_code == 200
    assert [c["client_id"] for c in response.json] == [
        created.json["client_id"],
        second["client_id"],
    ]
    assert all("client_secret" not in c for c in response.json)


def test_me_lists_organizations_with_their_clients(http, anna, created):
    response = http.get("/api/v1/me", headers=anna)
    assert response.json["organizations"] == [
        {
            "teccom_id": "400100",
            "name": "Org 400100",
            "kind": "supplier",
            "client_id": created.json["client_id"],
        },
        {"teccom_id": "400200", "name": "Org 400200", "kind": "supplier", "client_id": None},
    ]


def test_delete_answers_204_then_the_client_is_gone(http, anna, created):
    location = created.headers["Location"]
    response = http.delete(location, headers=anna)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert http.get(location, headers=anna).status_code == 404
    assert http.delete(location, headers=anna).status_code == 404
    actions = (
        db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    )
    assert actions == ["client.created", "client.deleted"]


def test_rotate_with_grace_period(http, anna, created):
    client_id = created.json["client_id"]
    response = http.post(
        f"/api/v1/clients/{client_id}/secret", json={"grace_period_seconds": 3600}, headers=anna
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert sorted(body) == [
        "client_id",
        "client_secret",
        "previous_secret_expires_at",
        "tokens_revoked",
    ]
    assert body["client_secret"] != created.json["client_secret"]
    assert body["tokens_revoked"] is False
    expires = datetime.fromisoformat(body["previous_secret_expires_at"])
    shown = http.get(f"/api/v1/clients/{client_id}", headers=anna).json
    assert datetime.fromisoformat(shown["previous_secret_expires_at"]) == expires
    assert (
        3599
        <= (expires - datetime.fromisoformat(shown["secret_created_at"])).total_seconds()
        <= 3600
    )
    hashes = (
        db.session.execute(db.select(ClientSecret.secret_hash).order_by(ClientSecret.id))
        .scalars()
        .all()
    )
    assert [credentials.check_secret(h, created.json["client_secret"]) for h in hashes] == [
        True,
        False,
    ]
    assert [credentials.check_secret(h, body["client_secret"]) for h in hashes] == [False, True]


def _token_status(http, client_id, secret):
    response = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    return response.status_code, response.json.get("error")


def test_a_new_rotation_drops_a_secret_still_in_its_grace_period(http, anna, created):
    # docs/rules.md, rule 3: at most two secrets are live, the new one and the one it replaces
    client_id = created.json["client_id"]
    first = created.json["client_secret"]
    rotate = {"grace_period_seconds": 3600}
    second = http.post(f"/api/v1/clients/{client_id}/secret", json=rotate, headers=anna).json
    assert _token_status(http, client_id, first) == (200, None)  # in its grace period
    third = http.post(f"/api/v1/clients/{client_id}/secret", json=rotate, headers=anna).json
    assert _token_status(http, client_id, first) == (401, "invalid_client")
    assert _token_status(http, client_id, second["client_secret"]) == (200, None)
    assert _token_status(http, client_id, third["client_secret"]) == (200, None)
    assert third["previous_secret_expires_at"] is not None
    assert db.session.execute(db.select(db.func.count()).select_from(ClientSecret)).scalar() == 2


def test_the_rotation_says_that_it_drops_older_secrets(http):
    spec = http.get("/api/v1/openapi.json").json
    said = "A new rotation drops at once any older secret that is still in its grace period."
    operation = spec["paths"]["/api/v1/clients/{client_id}/secret"]["post"]
    assert said in " ".join(operation["description"].split())
    assert said in spec["components"]["schemas"]["RotatedSecret"]["description"]


def test_rotate_without_body_stops_the_old_secret_at_once(http, anna, created):
    client_id = created.json["client_id"]
    response = http.post(f"/api/v1/clients/{client_id}/secret", headers=anna)
    assert response.status_code == 200
    assert response.json["previous_secret_expires_at"] is None
    (stored,) = db.session.execute(db.select(ClientSecret.secret_hash)).scalars()
    assert credentials.check_secret(stored, response.json["client_secret"])


def test_rotate_and_revoke_tokens(http, anna, created):
    client_id = created.json["client_id"]
    response = http.post(
        f"/api/v1/clients/{client_id}/secret", json={"revoke_tokens": True}, headers=anna
    )
    assert response.json["tokens_revoked"] is True
    assert (
        http.get(f"/api/v1/clients/{client_id}", headers=anna).json["tokens_invalid_before"]
        is not None
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"grace_period_seconds": -1}, "grace_period_seconds"),
        ({"grace_period_seconds": 604801}, "grace_period_seconds"),
        ({"grace_period_seconds": "60"}, "grace_period_seconds"),
        ({"grace_period_seconds": 1.5}, "grace_period_seconds"),
        ({"grace_period_seconds": True}, "grace_period_seconds"),
        ({"revoke_tokens": "yes"}, "revoke_tokens"),
        ({"revoke_tokens": 1}, "revoke_tokens"),
        ({"client_secret": "mine"}, "client_secret"),
    ],
)
def test_rotate_with_bad_values_is_422(http, anna, created, body, field):
    client_id = created.json["client_id"]
    response = http.post(f"/api/v1/clients/{client_id}/secret", json=body, headers=anna)
    assert response.status_code == 422
    assert response.json["field"] == field
    (stored,) = db.session.execute(db.select(ClientSecret.secret_hash)).scalars()
    assert credentials.check_secret(stored, created.json["client_secret"])


def test_secrets_never_reach_the_audit_trail(http, anna, created):
    client_id = created.json["client_id"]
    rotated = http.post(
        f"/api/v1/clients/{client_id}/secret", json={"grace_period_seconds": 5}, headers=anna
    )
    trail = http.get(f"/api/v1/clients/{client_id}/events", headers=anna).get_data(as_text=True)
    assert created.json["client_secret"] not in trail and rotated.json["client_secret"] not in trail
    assert "$argon2" not in trail


# --- name, description, contacts, access-token lifetime ---------------------------------


def test_a_new_client_is_named_after_its_organization_with_no_settings(created):
    body = created.json
    assert (body["name"], body["description"], body["contacts"]) == (
        "Org 400100 API client",
        "",
        [],
    )
    assert body["access_token_lifetime"] is None
    assert body["secrets"] == [
        {"created_at": body["secret_created_at"], "expires_at": None, "last_used_at": None}
    ]


def test_create_with_a_name_description_and_contacts(http, anna):
    response = http.post(
        "/api/v1/clients",
        json={
            "teccom_id": "400100",
            "name": "ERP production",
            "description": "SAP in Hamburg",
            "contacts": ["ops@example.com"],
        },
        headers=anna,
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["name"], body["description"], body["contacts"]) == (
        "ERP production",
        "SAP in Hamburg",
        ["ops@example.com"],
    )


def test_patch_changes_the_settings_and_the_activity_says_so(http, anna, created):
    url = created.headers["Location"]
    response = http.patch(
        url,
        json={"name": "Shop", "contacts": ["a@example.com", "b@example.com"]},
        headers=anna,
    )
    assert response.status_code == 200, response.json
    assert (response.json["name"], response.json["contacts"], response.json["description"]) == (
        "Shop",
        ["a@example.com", "b@example.com"],
        "",
    )
    assert http.get(url, headers=anna).json == response.json
    assert http.get("/api/v1/clients", headers=anna).json[0]["name"] == "Shop"
    (event,) = http.get(f"{url}/events", headers=anna).json["events"][:1]
    assert (event["action"], event["details"]) == (
        "client.updated",
        {
            "changes": {
                "name": ["Org 400100 API client", "Shop"],
                "contacts": [[], ["a@example.com", "b@example.com"]],
            }
        },
    )


def test_patch_sets_and_resets_the_access_token_lifetime(http, anna, created):
    url = created.headers["Location"]
    for lifetime in (60, 3600, None):
        response = http.patch(url, json={"access_token_lifetime": lifetime}, headers=anna)
        assert (response.status_code, response.json["access_token_lifetime"]) == (200, lifetime)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": ""}, ["name"]),
        ({"name": "n" * 101}, ["name"]),
        ({"description": "d" * 501}, ["description"]),
        ({"contacts": ["ok@example.com", "nope"]}, ["contacts.1"]),
        ({"contacts": [f"c{i}@example.com" for i in range(6)]}, ["contacts"]),
        ({"access_token_lifetime": 59}, ["access_token_lifetime"]),
        ({"access_token_lifetime": 3601}, ["access_token_lifetime"]),
        ({"access_token_lifetime": "300"}, ["access_token_lifetime"]),
        ({"client_id": "cl_other"}, ["client_id"]),
        ({"name": "", "description": 5}, ["description", "name"]),
    ],
)
def test_patch_with_bad_values_is_422_listing_every_field(http, anna, created, body, fields):
    url = created.headers["Location"]
    response = http.patch(url, json=body, headers=anna)
    assert response.status_code == 422, response.json
    assert [e["field"] for e in response.json["errors"]] == fields
    assert response.json["field"] == fields[0]
    assert http.get(url, headers=anna).json == {
        k: v for k, v in created.json.items() if k != "client_secret"
    }


def test_each_live_secret_shows_when_it_last_got_a_token(http, anna, created):
    import base64

    from authserver.oauth2.endpoints import server

    body = created.json
    basic = base64.b64encode(f"{body['client_id']}:{body['client_secret']}".encode()).decode()
    token = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert token.status_code == 200
    url = created.headers["Location"]
    assert http.get(url, headers=anna).json["secrets"][0]["last_used_at"] is None
    server().usage.flush()  # what each process does once a minute
    (secret,) = http.get(url, headers=anna).json["secrets"]
    assert secret["last_used_at"] is not None and secret["expires_at"] is None
    rotated = http.post(f"{url}/secret", json={"grace_period_seconds": 3600}, headers=anna)
    assert rotated.status_code == 200
    current, previous = http.get(url, headers=anna).json["secrets"]
    assert (current["expires_at"], current["last_used_at"]) == (None, None)
    assert previous["expires_at"] == rotated.json["previous_secret_expires_at"]
    assert previous["last_used_at"] == secret["last_used_at"]
