"""The console at the limits of its input: the most notification e-mails an
assignment may hold (docs/rules.md, rule 4), and characters no database column
can hold. A refusal is a page or a message next to the field, never a 500
and never application/problem+json.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import Directory  # tests/conftest.py (rootdir conftest)
from flask.testing import FlaskClient

from authserver.extensions import db
from authserver.models import Assignment
from authserver.services.assignments import MAX_NOTIFICATION_EMAILS

from .conftest import form_token, login

TOO_MANY = f"At most {MAX_NOTIFICATION_EMAILS} notification e-mails: remove this one or another."


@pytest.fixture
def people(directory: Directory) -> Directory:
    """Anna administers 400100 and 400200."""
    directory.organization("400100", "Acme Parts GmbH")
    directory.organization("400200", "Acme Retail")
    directory.user(
        "anna@example.com", first_name="Anna", last_name="Berg", admin_of=("400100", "400200")
    )
    return directory


@pytest.fixture
def anna(http: FlaskClient, people: Directory) -> str:
    """Anna logged in; her CSRF token."""
    return login(http, "anna@example.com")


@pytest.fixture
def client_id(http: FlaskClient, anna: str) -> str:
    response = http.post("/clients", data={"teccom_id": "400100", "csrf_token": anna})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.headers["Location"].split("/")[2]


def emails(prefix: str, count: int) -> dict[str, str]:
    return {f"{prefix}-notification_emails-{n}": f"ops{n}@acme.example" for n in range(count)}


def dialog(response: Any, name: str) -> str:
    page = response.get_data(as_text=True)
    start = page.index(f'<dialog id="{name}"')
    return page[start : page.index("</dialog>", start)]


def email_inputs(html: str) -> list[str]:
    """The values of the e-mail fields in *html*."""
    return re.findall(r'<input class="input" type="email" [^>]*value="([^"]*)"', html)


def add_email_button(html: str) -> str:
    found = re.search(r'<button class="btn btn-small" type="submit" name="add_email"[^>]*>', html)
    assert found, "no + Add email button"
    return found.group(0)


def stored_emails(teccom_id: str = "400100") -> list[str]:
    db.session.expire_all()
    assignment = db.session.execute(
        db.select(Assignment).where(Assignment.teccom_id == teccom_id)
    ).scalar_one_or_none()
    return [] if assignment is None else list(assignment.notification_emails)


# -- the most notification e-mails --------------------------------------------------------------------------


def test_an_assignment_with_the_most_emails_shows_them_with_no_blank_field_and_no_add_button(
    http: FlaskClient,
    anna: str,
    client_id: str,
) -> None:
    saved = http.post(
        f"/clients/{client_id}/organizations/400100",
        data={
            "edit-400100-enabled": "y",
            **emails("edit-400100", MAX_NOTIFICATION_EMAILS),
            "csrf_token": anna,
        },
    )
    assert saved.status_code == 303
    assert len(stored_emails()) == MAX_NOTIFICATION_EMAILS
    page = http.get(saved.headers["Location"])
    assert page.status_code == 200
    edit = dialog(page, "edit-organization-400100")
    assert email_inputs(edit) == [f"ops{n}@acme.example" for n in range(MAX_NOTIFICATION_EMAILS)]
    assert add_email_button(edit).endswith(" disabled>")
    assert not add_email_button(dialog(page, "add-organization")).endswith(" disabled>")


def test_add_email_at_the_most_emails_adds_no_field(
    http: FlaskClient, anna: str, client_id: str
) -> None:
    http.post(
        f"/clients/{client_id}/organizations/400100",
        data={
            "edit-400100-enabled": "y",
            **emails("edit-400100", MAX_NOTIFICATION_EMAILS),
            "csrf_token": anna,
        },
    )
    response = http.post(
        f"/clients/{client_id}/organizations/400100",
        data={
            "edit-400100-enabled": "y",
            **emails("edit-400100", MAX_NOTIFICATION_EMAILS),
            "add_email": "1",
            "csrf_token": anna,
        },
    )
    assert response.status_code == 200
    edit = dialog(response, "edit-organization-400100")
    assert len(email_inputs(edit)) == MAX_NOTIFICATION_EMAILS
    assert add_email_button(edit).endswith(" disabled>")


@pytest.mark.parametrize(
    ("path", "prefix", "extra"),
    [
        ("organizations/400100", "edit-400100", {}),
        ("organizations", "add", {"add-teccom_id": "400200"}),
    ],
)
def test_more_than_the_most_emails_are_refused_next_to_the_fields_past_the_limit(
    http: FlaskClient,
    anna: str,
    client_id: str,
    path: str,
    prefix: str,
    extra: dict[str, str],
) -> None:
    response = http.post(
        f"/clients/{client_id}/{path}",
        data={
            f"{prefix}-enabled": "y",
            **extra,
            **emails(prefix, MAX_NOTIFICATION_EMAILS + 5),
            "csrf_token": anna,
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        len(email_inputs(page[page.index(f'data-prefix="{prefix}-notification_emails"') :])) >= 25
    )
    for n in range(MAX_NOTIFICATION_EMAILS + 5):
        marked = (
            f'<p class="error" id="{prefix}-notification_emails-{n}-error">{TOO_MANY}</p>' in page
        )
        assert marked is (n >= MAX_NOTIFICATION_EMAILS), n
    assert stored_emails() == []
    assert stored_emails("400200") == []


def test_repeated_emails_count_once(http: FlaskClient, anna: str, client_id: str) -> None:
    data = {
        **emails("edit-400100", MAX_NOTIFICATION_EMAILS),
        "edit-400100-notification_emails-20": "ops0@acme.example",
    }
    response = http.post(
        f"/clients/{client_id}/organizations/400100",
        data={
            "edit-400100-enabled": "y",
            **data,
            "csrf_token": anna,
        },
    )
    assert response.status_code == 303
    assert len(stored_emails()) == MAX_NOTIFICATION_EMAILS


# -- NUL characters --------------------------------------------------------------------------------------------------


def test_a_nul_in_the_login_form_is_a_wrong_e_mail_or_password(
    http: FlaskClient, people: Directory
) -> None:
    token = form_token(http.get("/login"))
    for email, password in [("a\x00@example.com", "x"), ("anna@example.com", "correct horse\x00")]:
        response = http.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        assert "Wrong e-mail or password." in response.get_data(as_text=True)


def test_a_nul_in_the_login_forms_next_is_ignored(http: FlaskClient, people: Directory) -> None:
    token = form_token(http.get("/login"))
    response = http.post(
        "/login",
        data={
            "email": "anna@example.com",
            "password": "correct horse battery staple",
            "next": "/clients\x00",
            "csrf_token": token,
        },
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/clients")


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/login?next=/clients%00", None),
        ("GET", "/clients?org=4001%0000", None),
        ("GET", "/clients/{id}/administrators?dialog=add-administrator&email=%00", None),
        (
            "GET",
            "/clients/{id}/administrators?dialog=add-administrator&email=a%00@example.com",
            None,
        ),
        ("GET", "/clients/x%00y/organizations", None),
        ("GET", "/clients/{id}/activity?before=1%00", None),
        ("POST", "/clients", {"teccom_id": "4001\x0000"}),
        ("POST", "/clients/{id}/administrators", {"email": "a\x00@example.com"}),
        ("POST", "/clients/{id}/administrators/remove", {"email": "anna@example.com\x00"}),
        (
            "POST",
            "/clients/{id}/organizations",
            {"add-teccom_id": "400200", "add-notification_emails-0": "a\x00@b.example"},
        ),
        ("POST", "/clients/{id}/organizations/4001%0000", {"edit-4001\x0000-enabled": "y"}),
        ("POST", "/clients/{id}/organizations/40%000/delete", {}),
    ],
)
def test_a_nul_in_the_address_the_query_or_a_form_is_a_400_page(
    http: FlaskClient,
    anna: str,
    client_id: str,
    method: str,
    path: str,
    data: dict[str, str] | None,
) -> None:
    before = db.session.execute(db.select(Assignment.teccom_id)).scalars().all()
    form = None if data is None else {**data, "csrf_token": anna}
    response = http.open(path.replace("{id}", client_id), method=method, data=form)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The address or the form holds a NUL character" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(db.select(Assignment.teccom_id)).scalars().all() == before
    assert http.get(f"/clients/{client_id}/organizations").status_code == 200  # still logged in
