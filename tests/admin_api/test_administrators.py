"""docs/rules.md, rule 5 through HTTP."""

from __future__ import annotations

import pytest


@pytest.fixture
def anna(directory, login):
    directory.user("anna@example.com", first_name="Anna", last_name="Berg", admin_of=("400100",))
    directory.user("ben@example.com", first_name="Ben", last_name="Olsen")
    return login("anna@example.com")


@pytest.fixture
def base(http, anna):
    client_id = http.post("/api/v1/clients", json={"teccom_id": "400100"}, headers=anna).json[
        "client_id"
    ]
    return f"/api/v1/clients/{client_id}/administrators"


def test_look_up_a_user(http, anna, base):
    response = http.get("/api/v1/users?email=BEN@example.com", headers=anna)
    assert response.status_code == 200
    assert response.json == {"email": "ben@example.com", "first_name": "Ben", "last_name": "Olsen"}


def test_look_up_an_unknown_user_is_404(http, anna, base):
    response = http.get("/api/v1/users?email=nobody@example.com", headers=anna)
    assert response.status_code == 404
    assert response.json == {
        "type": "https://auth.example.test/problems/user-not-found",
        "title": "User not found",
        "status": 404,
        "detail": "user not found",
        "field": "email",
    }


@pytest.mark.parametrize("email", ["ben@example.com", "nobody@example.com"])
def test_look_up_by_someone_who_administers_no_client_is_403(http, anna, email):
    # docs/rules.md, rule 5: a client administrator may look users up; anna has no client yet
    response = http.get(f"/api/v1/users?email={email}", headers=anna)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.json == {
        "type": "https://auth.example.test/problems/not-client-administrator",
        "title": "Not a client administrator",
        "status": 403,
        "detail": "Only an administrator of a client may look users up by e-mail.",
    }


def test_look_up_without_email_is_422(http, anna):
    response = http.get("/api/v1/users", headers=anna)
    assert (response.status_code, response.json["field"]) == (422, "email")


def test_add_list_remove(http, anna, base):
    added = http.post(base, json={"email": "Ben@example.com"}, headers=anna)
    assert added.status_code == 201
    assert added.json == {"email": "ben@example.com", "first_name": "Ben", "last_name": "Olsen"}
    assert [a["email"] for a in http.get(base, headers=anna).json] == [
        "anna@example.com",
        "ben@example.com",
    ]
    assert http.delete(f"{base}/ben@example.com", headers=anna).status_code == 204
    assert [a["email"] for a in http.get(base, headers=anna).json] == ["anna@example.com"]


def test_add_unknown_user_is_404_and_twice_is_409(http, anna, base):
    unknown = http.post(base, json={"email": "nobody@example.com"}, headers=anna)
    assert (unknown.status_code, unknown.json["detail"]) == (404, "user not found")
    assert http.post(base, json={"email": "ben@example.com"}, headers=anna).status_code == 201
    twice = http.post(base, json={"email": "ben@example.com"}, headers=anna)
    assert twice.status_code == 409
    assert twice.json["type"] == "https://auth.example.test/problems/already-administrator"


def test_removing_the_last_administrator_is_409_with_a_clear_message(http, anna, base):
    response = http.delete(f"{base}/anna@example.com", headers=anna)
    assert response.status_code == 409
    assert response.json == {
        "type": "https://auth.example.test/problems/last-administrator",
        "title": "Last administrator",
        "status": 409,
        "detail": "A client must keep at least one administrator: "
        "add another administrator first, then remove this one.",
    }


def test_removing_someone_who_is_not_an_administrator_is_404(http, anna, base):
    response = http.delete(f"{base}/ben@example.com", headers=anna)
    assert response.status_code == 404
    assert response.json["type"] == "https://auth.example.test/problems/administrator-not-found"
