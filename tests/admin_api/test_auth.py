"""``POST /api/v1/auth/login`` and the admin token over HTTP."""

from __future__ import annotations

import jwt
import pytest

PASSWORD = "correct horse battery staple"
INVALID_LOGIN = {
    "type": "https://auth.example.test/problems/unauthorized",
    "title": "Authentication required",
    "status": 401,
    "detail": "The e-mail or the password is wrong.",
}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_FAILURE_LIMIT": "3/minute"}


def test_login_answers_a_bearer_token(http, directory, app):
    directory.user("anna@example.com", first_name="Anna", last_name="Berg")
    response = http.post(
        "/api/v1/auth/login", json={"email": "Anna@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert sorted(response.json) == ["access_token", "expires_in", "token_type"]
    assert (response.json["token_type"], response.json["expires_in"]) == ("Bearer", 900)
    assert jwt.get_unverified_header(response.json["access_token"])["typ"] == "admin+jwt"
    me = http.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {response.json['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json == {
        "email": "anna@example.com",
        "first_name": "Anna",
        "last_name": "Berg",
        "organizations": [],
    }


@pytest.mark.parametrize(
    "email, password", [("anna@example.com", "wrong"), ("nobody@example.com", PASSWORD)]
)
def test_wrong_email_and_wrong_password_answer_exactly_the_same(http, directory, email, password):
    directory.user("anna@example.com")
    response = http.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 401
    assert response.json == INVALID_LOGIN
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="authserver-admin"'


def test_repeated_failures_answer_429_with_retry_after(http, directory):
    directory.user("anna@example.com")
    for _ in range(3):
        assert (
            http.post(
                "/api/v1/auth/login", json={"email": "anna@example.com", "password": "x"}
            ).status_code
            == 401
        )
    response = http.post(
        "/api/v1/auth/login", json={"email": "anna@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.json["type"] == "https://auth.example.test/problems/too-many-requests"
    assert response.json["detail"] == "Too many failed logins; try again later."


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "anna@example.com"}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": "anna@example.com", "password": PASSWORD, "admin": True}, "admin"),
        ({"email": 7, "password": PASSWORD}, "email"),
    ],
)
def test_login_with_bad_fields_is_422_naming_the_field(http, directory, body, field):
    response = http.post("/api/v1/auth/login", json=body)
    assert response.status_code == 422
    assert response.json["field"] == field
    assert response.json["type"] == "https://auth.example.test/problems/validation-error"


def test_a_token_stays_valid_only_while_the_user_is_in_the_directory(http, directory, login):
    from authserver.extensions import db

    anna = directory.user("anna@example.com")
    headers = login("anna@example.com")
    assert http.get("/api/v1/me", headers=headers).status_code == 200
    db.session.delete(anna)
    db.session.commit()
    response = http.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json["detail"] == "The bearer token is invalid or expired."
