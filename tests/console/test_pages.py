"""The console's pages through Flask's test client: the same rights as the
admin API (404 for a client one does not administer), refusals shown as
messages, secrets shown once (docs/rules.md, rules 1-5 and 8).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import Directory, make_config  # tests/conftest.py (rootdir conftest)
from flask import Flask
from flask.testing import FlaskClient

from authserver import credentials
from authserver.extensions import db
from authserver.models import Assignment, AuditEvent, Client, User

from .conftest import PASSWORD, form_token, login


@pytest.fixture
def app_config(database_url: str, tmp_path: Any) -> dict[str, Any]:
    return make_config(database_url, tmp_path, LOGIN_FAILURE_LIMIT="3/minute")


@pytest.fixture
def people(directory: Directory) -> Directory:
    """Anna administers 400100 and 400200; Ben administers 400300; Carl nothing."""
    directory.organization("400100", "Acme Parts GmbH")
    directory.organization("400200", "Acme Retail")
    directory.organization("400300", "Other Corp")
    directory.user(
        "anna@example.com", first_name="Anna", last_name="Berg", admin_of=("400100", "400200")
    )
    directory.user("ben@example.com", first_name="Ben", last_name="Meyer", admin_of=("400300",))
    directory.user("carl@example.com", first_name="Carl", last_name="Ohm")
    return directory


def create(http: FlaskClient, token: str, teccom_id: str = "400100") -> str:
    response = http.post("/clients", data={"teccom_id": teccom_id, "csrf_token": token})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.headers["Location"].split("/")[2]


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def flashed(http: FlaskClient, response: Any) -> list[str]:
    """Follow a 303 and return the messages shown at the top of the page."""
    assert response.status_code == 303, response.get_data(as_text=True)
    page = http.get(response.headers["Location"])
    return [
        re.sub(r"\s+", " ", m).strip()
        for m in re.findall(
            r'<div class="alert alert-\w+" role="\w+">\s*<svg.*?</svg><span>(.*?)</span>',
            page.get_data(as_text=True),
            re.S,
        )
    ]


# -- logging in ---------------------------------------------------------------------------------


def test_wrong_password_and_unknown_email_read_the_same_then_429(
    http: FlaskClient, people: Directory
) -> None:
    token = form_token(http.get("/login"))
    for email, password in (("anna@example.com", "wrong"), ("nobody@example.com", PASSWORD)):
        response = http.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 200
        assert '<div class="alert alert-error" role="alert">' in text(response)
        assert "Wrong e-mail or password." in text(response)
        with http.session_transaction() as session:
            assert "sid" not in session
    http.post(
        "/login", data={"email": "anna@example.com", "password": "wrong", "csrf_token": token}
    )
    throttled = http.post(
        "/login", data={"email": "anna@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert re.search(r"Too many failed attempts\. Try again in \d+ seconds\.", text(throttled))
    assert http.get("/clients").status_code == 303  # still not logged in


@pytest.mark.parametrize(
    ("next_", "target"),
    [
        ("/clients?org=400200", "/clients?org=400200"),
        ("https://evil.example/", "/clients"),
        ("//evil.example/x", "/clients"),
        ("/\\evil.example", "/clients"),
        ("javascript:alert(1)", "/clients"),
    ],
)
def test_login_returns_only_to_a_page_of_this_site(
    http: FlaskClient,
    people: Directory,
    next_: str,
    target: str,
) -> None:
    page = http.get("/login", query_string={"next": next_})
    response = http.post(
        "/login",
        data={
            "email": "ANNA@example.com ",
            "password": PASSWORD,
            "csrf_token": form_token(page),
            "next": next_,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == target


def test_anonymous_visitors_are_sent_to_the_login_page(
    http: FlaskClient, people: Directory
) -> None:
    assert http.get("/").headers["Location"] == "/login"
    for path in (
        "/clients",
        "/clients/cl_x/organizations",
        "/clients/cl_x/administrators",
        "/clients/cl_x/activity",
        "/clients/cl_x/credentials",
        "/clients/cl_x",
    ):
        response = http.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/login?next=/clients"), path
    token = form_token(http.get("/login"))
    response = http.post("/clients", data={"teccom_id": "400100", "csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    assert db.session.execute(db.select(Client)).first() is None


def test_logout_ends_the_session(http: FlaskClient, people: Directory) -> None:
    token = login(http, "anna@example.com")
    assert http.get("/logout").status_code == 405  # a link cannot log anyone out
    response = http.post("/logout", data={"csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (303, "/login?logged_out=1")
    assert "You are logged out." in text(http.get("/login?logged_out=1"))
    assert http.get("/clients").status_code == 303


def test_a_new_password_or_a_removed_user_ends_existing_sessions(
    http: FlaskClient, people: Directory
) -> None:
    login(http, "anna@example.com")
    assert http.get("/clients").status_code == 200
    anna = db.session.execute(db.select(User).where(User.email == "anna@example.com")).scalar_one()
    anna.password_hash = credentials.hash_secret("a new password from the portal")
    db.session.commit()
    assert http.get("/clients").status_code == 303
    login(http, "anna@example.com", "a new password from the portal")
    assert http.get("/clients").status_code == 200
    db.session.delete(anna)
    db.session.commit()
    assert http.get("/clients").status_code == 303


# -- rights: the same as the API -------------------------------------------------------------------------


CLIENT_PAGES = [
    "organizations",
    "administrators",
    "activity",
    "credentials",
    "organizations?dialog=rotate-secret",
    "",
]
CLIENT_ACTIONS = [
    ("secret", {"grace_period_seconds": "0"}),
    ("settings", {"name": "Mine", "access_token_lifetime": ""}),
    ("delete", {}),
    ("organizations", {"add-teccom_id": "400300", "add-enabled": "y"}),
    ("organizations", {"add-teccom_id": "400300", "add_email": "1"}),
    ("organizations", {"add-teccom_id": "", "add-enabled": "y"}),
    ("organizations/400100", {"edit-400100-enabled": ""}),
    ("organizations/400100/delete", {}),
    ("organizations/400100/test-email", {}),
    ("administrators", {"email": "ben@example.com"}),
    ("administrators", {"email": ""}),
    ("administrators/remove", {"email": "anna@example.com"}),
    ("credentials/keys", {"key": "{}", "label": ""}),
    ("credentials/keys/remove", {"thumbprint": "x"}),
    ("credentials/secret-authentication", {"enabled": "off"}),
    ("credentials/jwks-uri", {"jwks_uri": "https://partner.example/jwks"}),
    ("credentials/jwks-uri", {"jwks_uri": "ftp://partner.example/jwks"}),
    ("credentials/jwks-uri", {"jwks_uri": ""}),
    ("credentials/jwks-uri/remove", {}),
]


def test_every_client_page_is_404_for_someone_who_is_not_its_administrator(
    app: Flask,
    people: Directory,
) -> None:
    anna = app.test_client()
    client_id = create(anna, login(anna, "anna@example.com"))
    ben = app.test_client()  # administers an organization, not this client
    token = login(ben, "ben@example.com")
    for tab in CLIENT_PAGES:
        for target in (client_id, "cl_does_not_exist"):
            response = ben.get(f"/clients/{target}/{tab}".rstrip("/"))
            assert response.status_code == 404, tab
            assert "Client not found" in text(response)
    for path, data in CLIENT_ACTIONS:
        response = ben.post(f"/clients/{client_id}/{path}", data={**data, "csrf_token": token})
        assert response.status_code == 404, path
        assert '<h1 id="error-title">Client not found</h1>' in text(response)
    client = db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()
    db.session.refresh(client)
    assert [(o.teccom_id, o.enabled) for o in client.organizations] == [("400100", True)]
    assert len(client.secrets) == 1 and len(client.administrators) == 1
    denials = (
        db.session.execute(
            db.select(AuditEvent).where(
                AuditEvent.action == "authorization.denied", AuditEvent.actor == "ben@example.com"
            )
        )
        .scalars()
        .all()
    )
    assert len(denials) >= 5  # refused changes are in the audit trail, as over the API


def test_the_404_walk_covers_every_client_route(app: Flask) -> None:
    """CLIENT_PAGES and CLIENT_ACTIONS name every console route of a client:
    a route added later without a place in the walk above fails here."""
    pages = {page.split("?")[0] for page in CLIENT_PAGES}
    actions = {path for path, _ in CLIENT_ACTIONS}
    routes = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or "client_id" not in rule.arguments:
            continue
        url = rule.build({name: {"client_id": "C"}.get(name, "400100") for name in rule.arguments})[
            1
        ]
        suffix = url.removeprefix("/clients/C").lstrip("/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert suffix in (pages if method == "GET" else actions), (method, url)
            routes += 1
    assert routes == 19


def test_the_clients_page_is_404_for_an_organization_one_does_not_administer(
    http: FlaskClient,
    people: Directory,
) -> None:
    login(http, "anna@example.com")
    response = http.get("/clients?org=400300")
    assert response.status_code == 404
    assert "You are not an administrator of organization 400300." in text(response)


# -- steps 2-4: clients and secrets --------------------------------------------------------------------------


def test_the_clients_page_offers_create_or_shows_the_assigned_client(
    app: Flask,
    http: FlaskClient,
    people: Directory,
) -> None:
    token = login(http, "anna@example.com")
    page = text(http.get("/clients?org=400100"))
    assert "No API client yet." in page and "</svg> Create client</button>" in page
    client_id = create(http, token)
    page = text(http.get("/clients?org=400100"))
    assert "</svg> Create client</button>" not in page
    assert (
        f'Assigned to client <a href="/clients/{client_id}/organizations">Acme Parts GmbH API client</a>'
        f' <span class="muted mono">({client_id})</span>' in page
    )

    # someone else's client: said so, neither a link nor a button
    people.user("dora@example.com", admin_of=("400200",))
    other = app.test_client()
    other_id = create(other, login(other, "dora@example.com"), "400200")
    page = text(http.get("/clients?org=400200"))
    assert f'Already assigned to client <span class="mono">{other_id}</span>.' in page
    assert f'href="/clients/{other_id}' not in page
    assert "</svg> Create client</button>" not in page


def test_create_client_shows_the_secret_once(http: FlaskClient, people: Directory) -> None:
    token = login(http, "anna@example.com")
    response = http.post("/clients", data={"teccom_id": "400100", "csrf_token": token})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    client_id = response.headers["Location"].split("/")[2]
    secret = re.search(
        r'id="client-secret" value="([^"]+)"', response.get_data(as_text=True)
    ).group(1)
    assert "It is shown only this once and cannot be shown again." in text(response)
    client = db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()
    assert credentials.check_secret(client.secrets[0].secret_hash, secret)
    assert [a.user.email for a in client.administrators] == ["anna@example.com"]
    for path in (
        "/clients",
        "/clients?org=400100",
        f"/clients/{client_id}/organizations",
        f"/clients/{client_id}/administrators",
        f"/clients/{client_id}/activity",
        f"/clients/{client_id}/credentials",
    ):
        assert secret not in http.get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    ("teccom_id", "message", "status"),
    [
        ("400100", "Organization 400100 is already assigned to a client.", 303),
        ("400300", "You are not an administrator of organization 400300.", 303),
        ("999999", "You are not an administrator of organization 999999.", 303),
    ],
)
def test_create_client_refusals_are_shown_on_the_page(
    http: FlaskClient,
    people: Directory,
    teccom_id: str,
    message: str,
    status: int,
) -> None:
    token = login(http, "anna@example.com")
    create(http, token)
    response = http.post("/clients", data={"teccom_id": teccom_id, "csrf_token": token})
    assert response.status_code == status
    assert response.headers["Location"] == f"/clients?org={teccom_id}"
    assert message in flashed(
        http, http.post("/clients", data={"teccom_id": teccom_id, "csrf_token": token})
    )
    assert db.session.execute(db.select(db.func.count()).select_from(Client)).scalar_one() == 1


@pytest.mark.parametrize(
    ("grace", "revoke"), [("0", False), ("3600", True), ("86400", False), ("604800", True)]
)
def test_rotate_secret_with_each_offered_grace_period(
    http: FlaskClient,
    people: Directory,
    grace: str,
    revoke: bool,
) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    data = {
        "grace_period_seconds": grace,
        "csrf_token": token,
        **({"revoke_tokens": "y"} if revoke else {}),
    }
    response = http.post(f"/clients/{client_id}/secret", data=data)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(
        r'id="client-secret" value="([^"]+)"', response.get_data(as_text=True)
    ).group(1)
    client = db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()
    db.session.refresh(client)
    current = [s for s in client.secrets if s.expires_at is None]
    assert len(current) == 1 and credentials.check_secret(current[0].secret_hash, secret)
    assert len(client.secrets) == (1 if grace == "0" else 2)
    page = text(response)
    if grace == "0":
        assert "The previous secret no longer works." in page
    else:
        assert "The previous secret keeps working until" in page
    assert ("Every access token issued before now has been revoked." in page) is revoke
    assert (client.tokens_invalid_before is not None) is revoke


def test_rotate_secret_refuses_a_grace_period_that_is_not_offered(
    http: FlaskClient, people: Directory
) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    response = http.post(
        f"/clients/{client_id}/secret", data={"grace_period_seconds": "604801", "csrf_token": token}
    )
    assert flashed(http, response) == ["Choose one of the offered grace periods."]
    client = db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()
    assert len(client.secrets) == 1


def test_delete_client(http: FlaskClient, people: Directory) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    response = http.post(f"/clients/{client_id}/delete", data={"csrf_token": token})
    assert response.headers["Location"] == "/clients"
    assert flashed(http, response) == [
        f"Client {client_id} was deleted: its secret and tokens no longer work."
    ]
    assert db.session.execute(db.select(Client)).first() is None
    assert http.get(f"/clients/{client_id}/organizations").status_code == 404


# -- organizations ----------------------------------------------------------------------------------------


def test_add_organization_dialog_offers_only_assignable_organizations(
    http: FlaskClient, people: Directory
) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    page = http.get(f"/clients/{client_id}/organizations?dialog=add-organization").get_data(
        as_text=True
    )
    dialog = page[page.index('<dialog id="add-organization"') :]
    dialog = dialog[: dialog.index("</dialog>")]
    assert " open data-autoshow" in dialog[:120]
    assert re.findall(r'<option[^>]*value="(\d+)"', dialog) == ["400200"]


def test_add_organization_with_a_bad_email_is_refused_next_to_the_field(
    http: FlaskClient,
    people: Directory,
) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    response = http.post(
        f"/clients/{client_id}/organizations",
        data={
            "add-teccom_id": "400200",
            "add-notification_emails-0": "ops@acme.example",
            "add-notification_emails-1": "not an e-mail",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert (
        '<input class="input" type="email" id="add-notification_emails-1" name="add-notification_emails-1" '
        'value="not an e-mail"'
    ) in page
    assert ('aria-invalid="true" aria-describedby="add-notification_emails-1-error"> ') in page
    assert (
        '<p class="error" id="add-notification_emails-1-error">Enter a valid e-mail address, '
        "like name@example.com.</p>"
    ) in page
    assert (
        db.session.execute(db.select(Assignment).where(Assignment.teccom_id == "400200")).first()
        is None
    )


def test_add_email_without_javascript_adds_a_field(http: FlaskClient, people: Directory) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    response = http.post(
        f"/clients/{client_id}/organizations",
        data={
            "add-teccom_id": "400200",
            "add-notification_emails-0": "ops@acme.example",
            "add_email": "1",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="ops@acme.example"' in page
    assert 'name="add-notification_emails-1" value=""' in page
    assert (
        db.session.execute(db.select(Assignment).where(Assignment.teccom_id == "400200")).first()
        is None
    )


def test_add_edit_and_remove_an_organization(http: FlaskClient, people: Directory) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    response = http.post(
        f"/clients/{client_id}/organizations",
        data={
            "add-teccom_id": "400200",
            "add-notification_emails-0": "ops@acme.example",
            "add-notification_emails-1": "",
            "add-notification_emails-2": "EDI@acme.example",
            "csrf_token": token,
        },
    )
    assert flashed(http, response) == ["Organization 400200 was added."]
    assignment = db.session.execute(
        db.select(Assignment).where(Assignment.teccom_id == "400200")
    ).scalar_one()
    assert (assignment.enabled, assignment.notification_emails) == (
        False,
        ["ops@acme.example", "EDI@acme.example"],
    )

    response = http.post(
        f"/clients/{client_id}/organizations/400200",
        data={
            "edit-400200-enabled": "y",
            "edit-400200-notification_emails-0": "edi@acme.example",
            "csrf_token": token,
        },
    )
    assert flashed(http, response) == ["Organization 400200 was saved."]
    db.session.refresh(assignment)
    assert (assignment.enabled, assignment.notification_emails) == (True, ["edi@acme.example"])

    response = http.post(
        f"/clients/{client_id}/organizations/400200/delete", data={"csrf_token": token}
    )
    assert flashed(http, response) == ["Organization 400200 was removed from the client."]
    assert (
        db.session.execute(db.select(Assignment).where(Assignment.teccom_id == "400200")).first()
        is None
    )
    actions = db.session.execute(
        db.select(AuditEvent.action, AuditEvent.remote_addr)
        .where(AuditEvent.client_id == client_id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        ("client.created", "127.0.0.1"),
        ("organization.assigned", "127.0.0.1"),
        ("organization.updated", "127.0.0.1"),
        ("organization.unassigned", "127.0.0.1"),
    ]


def test_assigning_an_organization_of_another_client_is_refused(
    app: Flask, people: Directory
) -> None:
    people.user("dora@example.com", admin_of=("400200",))
    dora = app.test_client()
    create(dora, login(dora, "dora@example.com"), "400200")
    http = app.test_client()
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    response = http.post(
        f"/clients/{client_id}/organizations",
        data={
            "add-teccom_id": "400200",
            "add-enabled": "y",
            "csrf_token": token,
        },
    )
    assert flashed(http, response) == ["Organization 400200 is already assigned to another client."]
    response = http.post(
        f"/clients/{client_id}/organizations",
        data={
            "add-teccom_id": "400300",
            "add-enabled": "y",
            "csrf_token": token,
        },
    )
    assert flashed(http, response) == ["You are not an administrator of organization 400300."]


# -- administrators -----------------------------------------------------------------------------------------


def test_search_add_and_the_last_administrator(http: FlaskClient, people: Directory) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    base = f"/clients/{client_id}/administrators"

    response = http.post(f"{base}/remove", data={"email": "anna@example.com", "csrf_token": token})
    assert flashed(http, response) == [
        "A client must keep at least one administrator: add another administrator first, then remove this one."
    ]
    not_found = text(
        http.get(base, query_string={"dialog": "add-administrator", "email": "nobody@example.com"})
    )
    assert "User not found." in not_found
    assert '<button class="btn btn-primary" type="submit" disabled>OK</button>' in not_found
    found = text(
        http.get(base, query_string={"dialog": "add-administrator", "email": " Ben@Example.com "})
    )
    assert '<p class="found-name">Ben Meyer</p>' in found
    assert '<input type="hidden" name="email" value="ben@example.com">' in found

    response = http.post(base, data={"email": "ben@example.com", "csrf_token": token})
    assert flashed(http, response) == ["ben@example.com is now an administrator of this client."]
    response = http.post(base, data={"email": "ben@example.com", "csrf_token": token})
    assert flashed(http, response) == [
        "ben@example.com is already an administrator of this client."
    ]
    response = http.post(base, data={"email": "nobody@example.com", "csrf_token": token})
    assert flashed(http, response) == ["user not found"]

    response = http.post(f"{base}/remove", data={"email": "anna@example.com", "csrf_token": token})
    assert response.headers["Location"] == "/clients"
    assert flashed(http, response) == [f"You are no longer an administrator of client {client_id}."]
    assert http.get(base).status_code == 404


# -- activity --------------------------------------------------------------------------------------------------


def test_activity_is_newest_first_and_pages_back(http: FlaskClient, people: Directory) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    for enabled in ["", "y"] * 27:  # 54 edits + 1 creation: two pages
        http.post(
            f"/clients/{client_id}/organizations/400100",
            data={
                "edit-400100-enabled": enabled,
                "csrf_token": token,
            },
        )
    first = http.get(f"/clients/{client_id}/activity").get_data(as_text=True)
    rows = re.findall(r'<span class="action">([^<]+)</span>', first)
    assert len(rows) == 50 and rows[0] == "Organization edited"
    assert (
        '<span class="muted">enabled:</span> no → yes' in first
        or '<span class="muted">enabled:</span> yes → no' in first
    )
    older = re.search(r'href="(/clients/[^"]+/activity\?before=\d+)"', first).group(1)
    second = http.get(older.replace("&amp;", "&")).get_data(as_text=True)
    rows = re.findall(r'<span class="action">([^<]+)</span>', second)
    assert rows[-1] == "Client created" and len(rows) == 5
    assert "Older events" not in second


@pytest.mark.parametrize("before", ["0", "-1", "2147483648", "9223372036854775808"])
def test_activity_refuses_a_cursor_out_of_range_with_a_page(
    http: FlaskClient,
    people: Directory,
    before: str,
) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    response = http.get(f"/clients/{client_id}/activity?before={before}")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "before must be a positive integer cursor." in text(response)


# -- client names and settings ----------------------------------------------------------------


def test_create_client_takes_the_name_from_the_form_and_offers_the_default(
    http: FlaskClient, people: Directory
) -> None:
    token = login(http, "anna@example.com")
    page = text(http.get("/clients?org=400100"))
    assert (
        '<input class="input" id="client-name" name="name" type="text" required maxlength="100" '
        'value="Acme Parts GmbH API client"' in page
    )
    response = http.post(
        "/clients", data={"teccom_id": "400100", "name": " ERP production ", "csrf_token": token}
    )
    assert response.status_code == 201
    client_id = response.headers["Location"].split("/")[2]
    shown = text(http.get(f"/clients/{client_id}/organizations"))
    assert '<h1 class="client-title">ERP production</h1>' in shown
    assert f'<span class="mono" data-testid="client-id">{client_id}</span>' in shown
    assert "<title>ERP production · Organizations · authserver console</title>" in shown


def test_a_name_too_long_is_refused_with_the_reason(http: FlaskClient, people: Directory) -> None:
    token = login(http, "anna@example.com")
    response = http.post(
        "/clients", data={"teccom_id": "400100", "name": "n" * 101, "csrf_token": token}
    )
    assert response.status_code == 303
    assert flashed(http, response) == ["The client name may have at most 100 characters."]
    assert db.session.execute(db.select(Client)).first() is None


def test_edit_client_saves_the_settings_and_the_activity_shows_them_humanized(
    http: FlaskClient, people: Directory
) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    response = http.post(
        f"/clients/{client_id}/settings",
        data={
            "csrf_token": token,
            "name": "Web shop",
            "description": "The shop's order export",
            "contacts": "ops@example.com\ndev@example.com",
            "access_token_lifetime": "1800",
        },
    )
    assert response.status_code == 303
    assert flashed(http, response) == ["The client was saved."]
    page = text(http.get(f"/clients/{client_id}/organizations"))
    assert '<h1 class="client-title">Web shop</h1>' in page
    assert "<dt>Token lifetime</dt><dd>30 minutes</dd>" in page
    assert (
        '<span class="email">ops@example.com</span> <span class="email">dev@example.com</span>'
        in page
    )
    activity = text(http.get(f"/clients/{client_id}/activity"))
    assert '<span class="action">Client edited</span>' in activity
    assert '<span class="muted">name:</span> Acme Parts GmbH API client → Web shop' in activity
    assert '<span class="muted">description:</span> none → The shop&#39;s order export' in activity
    assert '<span class="muted">access-token lifetime:</span> the default → 30 minutes' in activity
    http.post(
        f"/clients/{client_id}/secret", data={"csrf_token": token, "grace_period_seconds": "3600"}
    )
    activity = text(http.get(f"/clients/{client_id}/activity"))
    assert '<span class="muted">grace period:</span> 1 hour' in activity
    assert '<span class="muted">tokens revoked:</span> no' in activity
    assert "grace period seconds" not in activity


def test_edit_client_refuses_a_bad_contact_and_changes_nothing(
    http: FlaskClient, people: Directory
) -> None:
    token = login(http, "anna@example.com")
    client_id = create(http, token)
    response = http.post(
        f"/clients/{client_id}/settings",
        data={"csrf_token": token, "name": "Shop", "contacts": "nope", "access_token_lifetime": ""},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/clients/{client_id}/organizations?dialog=edit-client"
    (message,) = flashed(http, response)
    assert message.startswith("Not a valid e-mail address: ")
    client = db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()
    assert (client.name, client.contacts) == ("Acme Parts GmbH API client", [])


def test_each_live_secret_shows_when_it_was_last_used(
    app: Flask, http: FlaskClient, people: Directory
) -> None:
    from authserver.models import ClientSecret
    from authserver.models._base import utcnow

    token = login(http, "anna@example.com")
    client_id = create(http, token)
    page = text(http.get(f"/clients/{client_id}/organizations"))
    assert "· not used yet</dd>" in page
    secret = db.session.execute(db.select(ClientSecret)).scalar_one()
    secret.last_used_at = utcnow()
    db.session.commit()
    page = text(http.get(f"/clients/{client_id}/organizations"))
    assert f"· last used {secret.last_used_at.strftime('%Y-%m-%d %H:%M')} UTC</dd>" in page


@pytest.mark.parametrize("path", ["/client", "/clients/cl_x/nope", "/nope/deeper"])
def test_a_mistyped_console_address_is_an_html_404_page(http: FlaskClient, path: str) -> None:
    response = http.get(path)
    assert (response.status_code, response.mimetype) == (404, "text/html")
    page = text(response)
    assert '<h1 id="error-title">Page not found</h1>' in page
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_a_wrong_method_on_a_console_page_is_an_html_405_page(http: FlaskClient) -> None:
    response = http.delete("/clients")
    assert (response.status_code, response.mimetype) == (405, "text/html")
    assert '<h1 id="error-title">Not possible here</h1>' in text(response)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("method", "path", "mimetype"),
    [
        ("GET", "/api/v1/nope", "application/problem+json"),
        ("GET", "/api", "application/problem+json"),
        ("PUT", "/api/v1/clients", "application/problem+json"),
        ("GET", "/.well-known/nope", "application/problem+json"),
        ("GET", "/oauth2/token", "application/json"),
    ],
)
def test_machine_endpoints_keep_their_error_format(
    http: FlaskClient, method: str, path: str, mimetype: str
) -> None:
    response = http.open(path, method=method)
    assert response.status_code in (404, 405)
    assert response.mimetype == mimetype


def test_the_not_found_card_does_not_repeat_its_title(http: FlaskClient, people: Directory) -> None:
    login(http, "anna@example.com")
    page = text(http.get("/clients/cl_does_not_exist/organizations"))
    assert page.count("Client not found") == 2  # the <title> and the heading
    assert "you are not one of its administrators" in page
