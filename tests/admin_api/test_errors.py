"""Everything under /api/v1 answers problem+json (RFC 9457), never a 500 for
bad input; request ids and remote addresses for the audit trail."""

from __future__ import annotations

import json

import pytest

from authserver.extensions import db
from authserver.models import AuditEvent


@pytest.fixture
def anna(directory, login):
    directory.user("anna@example.com", admin_of=("400100", "400200"))
    return login("anna@example.com")


def test_malformed_json_is_400(http, anna):
    response = http.post(
        "/api/v1/clients", data='{"teccom_id": ', content_type="application/json", headers=anna
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json == {
        "type": "https://auth.example.test/problems/malformed-request",
        "title": "Malformed request",
        "status": 400,
        "detail": "The request body is not valid JSON.",
    }


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_wrong_content_type_is_415(http, anna, content_type):
    response = http.post(
        "/api/v1/clients", data='{"teccom_id": "400100"}', content_type=content_type, headers=anna
    )
    assert response.status_code == 415
    assert response.json["type"] == "https://auth.example.test/problems/unsupported-media-type"
    assert response.json["detail"] == "Send the request body as application/json."


@pytest.mark.parametrize(
    "body, field",
    [
        ({"teccom_id": "400100", "client_id": "cl_mine"}, "client_id"),
        ({"teccom_id": "400100", "secret_hash": "$argon2id$"}, "secret_hash"),
        ({}, "teccom_id"),
        ({"teccom_id": 400100}, "teccom_id"),
        ({"teccom_id": ""}, "teccom_id"),
        ({"teccom_id": "4" * 33}, "teccom_id"),
    ],
)
def test_unknown_or_bad_fields_are_422_naming_the_field(http, anna, body, field):
    response = http.post("/api/v1/clients", json=body, headers=anna)
    assert response.status_code == 422
    assert response.json["field"] == field
    assert response.json["detail"].startswith(f"{field}: ")
    assert response.json["errors"][0]["field"] == field
    assert db.session.execute(db.select(AuditEvent)).first() is None


@pytest.mark.parametrize("body", ["[]", "null", '"text"', "7"])
def test_a_body_that_is_not_an_object_is_422(http, anna, body):
    response = http.post(
        "/api/v1/clients", data=body, content_type="application/json", headers=anna
    )
    assert response.status_code == 422
    assert response.json["type"] == "https://auth.example.test/problems/validation-error"


def test_unknown_path_is_404_problem(http, anna):
    response = http.get("/api/v1/nothing-here", headers=anna)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404


def test_wrong_method_is_405_problem_with_allow(http, anna):
    response = http.put("/api/v1/clients", json={}, headers=anna)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_too_large_body_is_413_problem(http, anna):
    response = http.post(
        "/api/v1/clients",
        data='{"teccom_id": "' + "x" * 20000 + '"}',
        content_type="application/json",
        headers=anna,
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_a_body_the_schema_allows_can_be_too_large(http, anna):
    """Twenty notification e-mails of 320 characters are valid, but written
    as JSON escapes they are over the 16 KiB limit: 413 (documented with
    every operation that takes a body), before the body is parsed."""
    emails = ["\u00e9" * 320] * 20
    body = '{"teccom_id": "400200", "notification_emails": ' + json.dumps(emails) + "}"
    assert len(body) > 16 * 1024
    client_id = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna).json[
        "client_id"
    ]
    response = http.post(
        f"/api/v1/clients/{client_id}/organizations",
        data=body,
        content_type="application/json",
        headers=anna,
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_request_id_is_echoed_and_kept_in_the_audit_event(http, anna):
    response = http.post(
        "/api/v1/clients",
        json={"teccom_id": "400100"},
        headers={**anna, "X-Request-ID": "trace-42"},
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "trace-42"
    event = db.session.execute(db.select(AuditEvent)).scalar_one()
    assert (event.request_id, event.remote_addr) == ("trace-42", "127.0.0.1")


@pytest.mark.parametrize("incoming", [None, "", "x" * 65, "bad id\twith tab", "<script>"])
def test_a_missing_or_odd_request_id_is_replaced(http, anna, incoming):
    headers = dict(anna)
    if incoming is not None:
        headers["X-Request-ID"] = incoming
    first = http.get("/api/v1/me", headers=headers).headers["X-Request-ID"]
    second = http.get("/api/v1/nothing", headers=headers).headers["X-Request-ID"]
    assert len(first) == 32 and first != incoming and first != second


def test_x_forwarded_for_is_ignored_without_trusted_proxies(http, anna):
    http.post(
        "/api/v1/clients",
        json={"teccom_id": "400100"},
        headers={**anna, "X-Forwarded-For": "203.0.113.50"},
    )
    assert db.session.execute(db.select(AuditEvent.remote_addr)).scalar_one() == "127.0.0.1"


@pytest.mark.parametrize(
    "method, path, body, status, field",
    [
        ("POST", "/api/v1/clients", {"teccom_id": "4001\u000000"}, 422, "teccom_id"),
        ("GET", "/api/v1/users?email=ben%00@example.com", None, 422, "email"),
        ("GET", "/api/v1/clients/cl_%00x", None, 404, None),
        ("DELETE", "/api/v1/clients/cl_x/administrators/a%00@example.com", None, 404, None),
    ],
)
def test_nul_characters_are_refused_on_every_database(
    http, anna, method, path, body, status, field
):
    response = http.open(path, method=method, json=body, headers=anna)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.json.get("field") == field


@pytest.mark.parametrize(
    "path, field, body",
    [
        ("/api/v1/clients", "teccom_id", '{"teccom_id": "\\ud800"}'),
        ("/api/v1/auth/login", "email", '{"email": "\\udfff@example.com", "password": "x"}'),
        ("/api/v1/auth/login", "password", '{"email": "a@example.com", "password": "\\ud800"}'),
    ],
)
def test_lone_surrogates_are_422_naming_the_field(http, anna, path, field, body):
    # valid JSON, but no UTF-8 text (and so no database column) can hold it
    response = http.post(path, data=body, content_type="application/json", headers=anna)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["field"] == field
    assert response.json["detail"] == f"{field}: Must be valid Unicode text (no lone surrogates)."


def test_lone_surrogates_in_nested_fields_are_422(http, anna):
    created = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna)
    client_id = created.json["client_id"]
    for method, path, body, field in [
        ("POST", "organizations", '{"teccom_id": "4002\\ud80000"}', "teccom_id"),
        ("POST", "administrators", '{"email": "\\ud800@example.com"}', "email"),
        (
            "PATCH",
            "organizations/400100",
            '{"notification_emails": ["\\ud800"]}',
            "notification_emails.0",
        ),
    ]:
        response = http.open(
            f"/api/v1/clients/{client_id}/{path}",
            method=method,
            data=body,
            content_type="application/json",
            headers=anna,
        )
        assert response.status_code == 422, (path, response.json)
        assert response.json["field"] == field


def test_json_nested_too_deep_to_decode_is_400(http, anna):
    body = "[" * 5000 + "]" * 5000  # under the 16 KiB limit, deeper than json can decode
    response = http.post(
        "/api/v1/clients", data=body, content_type="application/json", headers=anna
    )
    assert response.status_code == 400
    assert response.json == {
        "type": "https://auth.example.test/problems/malformed-request",
        "title": "Malformed request",
        "status": 400,
        "detail": "The request body is not valid JSON.",
    }


@pytest.mark.parametrize(
    "body",
    [
        '{"teccom_id": "400100", "n": ' + "1" * 4301 + "}",  # past Python's int digit limit
        '{"teccom_id": "400100", "n": NaN}',  # RFC 8259 §6: no NaN or Infinity
        '{"teccom_id": "400100", "n": Infinity}',
        '{"teccom_id": "400100", "n": -Infinity}',
        b'{"teccom_id": "\xff"}',  # not UTF-8
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/clients"])
def test_json_that_python_cannot_or_should_not_decode_is_400(http, anna, path, body):
    response = http.post(path, data=body, content_type="application/json", headers=anna)
    assert response.status_code == 400
    assert response.json == {
        "type": "https://auth.example.test/problems/malformed-request",
        "title": "Malformed request",
        "status": 400,
        "detail": "The request body is not valid JSON.",
    }


def test_authentication_comes_before_the_content_type(http):
    response = http.post("/api/v1/clients", data="teccom_id=400100", content_type="text/plain")
    assert response.status_code == 401
    assert response.json["detail"] == "A bearer token from /api/v1/auth/login is required."
    login = http.post("/api/v1/auth/login", data="a@example.com", content_type="text/plain")
    assert login.status_code == 415
    assert login.json["type"] == "https://auth.example.test/problems/unsupported-media-type"


# --- every 422 lists its errors; problem types are pages of this server ----------------


def _created(http, anna):
    response = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna)
    assert response.status_code == 201
    return response.json["client_id"]


def test_a_schema_error_is_422_with_the_errors_array(http, anna):
    response = http.post("/api/v1/clients", json={"teccom_id": 7, "x": 1}, headers=anna)
    assert response.status_code == 422
    assert response.json == {
        "type": "https://auth.example.test/problems/validation-error",
        "title": "Invalid value",
        "status": 422,
        "detail": "teccom_id: Not a valid string.",
        "field": "teccom_id",
        "errors": [
            {"field": "teccom_id", "message": "Not a valid string."},
            {"field": "x", "message": "Unknown field."},
        ],
    }


def test_a_bad_e_mail_is_422_with_the_same_errors_array(http, anna):
    client_id = _created(http, anna)
    response = http.post(
        f"/api/v1/clients/{client_id}/organizations",
        json={"teccom_id": "400200", "notification_emails": ["ok@example.com", "nope", "a@b@c"]},
        headers=anna,
    )
    assert response.status_code == 422
    body = response.json
    assert (body["type"], body["title"], body["field"]) == (
        "https://auth.example.test/problems/validation-error",
        "Invalid value",
        "notification_emails.1",
    )
    assert [e["field"] for e in body["errors"]] == [
        "notification_emails.1",
        "notification_emails.2",
    ]
    assert all(e["message"].startswith("Not a valid e-mail address: ") for e in body["errors"])
    assert body["detail"] == body["errors"][0]["message"]


def test_a_value_the_database_cannot_hold_is_422_with_the_errors_array(app):
    from sqlalchemy.exc import DataError

    from authserver import error_handlers

    with app.test_request_context("/api/v1/clients", method="POST"):
        response = error_handlers.handle_data_error(DataError("INSERT", {}, ValueError()))
    assert response.status_code == 422
    assert response.json == {
        "type": "https://auth.example.test/problems/validation-error",
        "title": "Invalid value",
        "status": 422,
        "detail": "A value in the request cannot be stored or searched.",
        "errors": [
            {"field": "", "message": "A value in the request cannot be stored or searched."}
        ],
    }


def test_problem_types_are_pages_of_this_server_that_explain_them(http, anna):
    refused = http.get("/api/v1/clients/cl_nope", headers=anna)
    assert refused.status_code == 404
    type_uri = refused.json["type"]
    assert type_uri == "https://auth.example.test/problems/client-not-found"
    page = http.get(type_uri.removeprefix("https://auth.example.test"))
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "<h1>Client not found</h1>" in text
    assert "you are not one of its administrators" in text
    index = http.get("/problems/")
    assert index.status_code == 200
    for suffix in ("validation-error", "last-administrator", "unauthorized", "client-not-found"):
        assert f'href="/problems/{suffix}"' in index.get_data(as_text=True)


def test_an_unknown_problem_type_is_an_html_404(http):
    response = http.get("/problems/no-such-problem")
    assert (response.status_code, response.mimetype) == (404, "text/html")
    assert "Page not found" in response.get_data(as_text=True)
