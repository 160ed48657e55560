"""Admin login and admin tokens at the service level."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app

from authserver import credentials
from authserver.errors import TooManyRequests, Unauthorized
from authserver.extensions import db
from authserver.services import admin_login

PASSWORD = "correct horse battery staple"


def login() -> admin_login.AdminLogin:
    """The admin login of the app under test (made by the app factory)."""
    found: admin_login.AdminLogin = current_app.extensions[admin_login.EXTENSION]
    return found


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_FAILURE_LIMIT": "3/minute", "ADMIN_TOKEN_LIFETIME": 600}


def test_right_password_returns_the_user_whatever_the_case_of_the_email(directory):
    anna = directory.user("anna@example.com")
    assert login().authenticate("  Anna@Example.COM ", PASSWORD, "192.0.2.1").id == anna.id


@pytest.mark.parametrize(
    "email, password",
    [("anna@example.com", "wrong"), ("nobody@example.com", PASSWORD), ("", PASSWORD)],
)
def test_wrong_email_and_wrong_password_answer_the_same(directory, email, password):
    directory.user("anna@example.com")
    with pytest.raises(Unauthorized) as info:
        login().authenticate(email, password, "192.0.2.1")
    assert info.value.detail == "The e-mail or the password is wrong."
    assert info.value.code == 401


def test_user_without_password_cannot_log_in(directory):
    directory.user("nopass@example.com", password=None)
    with pytest.raises(Unauthorized) as info:
        login().authenticate("nopass@example.com", "", "192.0.2.1")
    assert info.value.detail == admin_login.INVALID_LOGIN


def test_unknown_email_still_runs_one_argon2_verification(directory, monkeypatch):
    verified = []
    real = credentials.check_secret

    def spy(secret_hash, secret):
        verified.append(secret_hash)
        return real(secret_hash, secret)

    monkeypatch.setattr(credentials, "check_secret", spy)
    with pytest.raises(Unauthorized):
        login().authenticate("nobody@example.com", PASSWORD, "192.0.2.1")
    assert verified == [credentials.dummy_hash()]
    assert verified[0].startswith("$argon2id$")


def test_failures_per_email_are_limited_then_429_even_with_the_right_password(directory):
    directory.user("anna@example.com")
    for n in range(3):
        with pytest.raises(Unauthorized):
            login().authenticate("anna@example.com", "wrong", f"192.0.2.{n}")
    with pytest.raises(TooManyRequests) as info:
        login().authenticate("anna@example.com", PASSWORD, "192.0.2.99")
    assert 1 <= info.value.retry_after <= 60
    assert info.value.code == 429


def test_failures_per_address_are_limited_across_emails(directory):
    directory.user("anna@example.com")
    for n in range(3):
        with pytest.raises(Unauthorized):
            login().authenticate(f"guess{n}@example.com", "wrong", "198.51.100.7")
    with pytest.raises(TooManyRequests):
        login().authenticate("anna@example.com", PASSWORD, "198.51.100.7")
    # another address is not slowed down
    assert (
        login().authenticate("anna@example.com", PASSWORD, "198.51.100.8").email
        == "anna@example.com"
    )


def test_admin_token_round_trip(directory, app):
    anna = directory.user("anna@example.com")
    token, expires_in = login().issue_token(anna)
    assert expires_in == 600
    assert login().verify_token(token).id == anna.id
    header = jwt.get_unverified_header(token)
    assert (header["typ"], header["alg"]) == ("admin+jwt", "HS256")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == "authserver-admin"
    assert claims["iss"] == app.config["ISSUER"]
    assert claims["sub"] == str(anna.id)
    assert claims["exp"] - claims["iat"] == 600


def test_admin_token_is_not_signed_with_the_flask_secret_itself(directory, app):
    anna = directory.user("anna@example.com")
    token, _ = login().issue_token(anna)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token, app.config["SECRET_KEY"], algorithms=["HS256"], audience="authserver-admin"
        )


def _forge(app, **changes):
    """A token made like an admin token, with *changes* to claims or header."""
    now = int(time.time())
    claims = {
        "iss": app.config["ISSUER"],
        "aud": "authserver-admin",
        "sub": "1",
        "email": "anna@example.com",
        "iat": now,
        "exp": now + 60,
        "jti": "x",
    }
    headers = {"typ": "admin+jwt"}
    headers.update(changes.pop("headers", {}))
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, login()._key, algorithm="HS256", headers=headers)


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 120},
        {"aud": "export-subscription-api"},
        {"iss": "https://evil.example"},
        {"headers": {"typ": "at+jwt"}},
        {"headers": {"typ": "JWT"}},
        {"jti": None},
        {"sub": "not-a-number"},
        {"email": "someone-else@example.com"},
    ],
)
def test_tampered_or_expired_admin_tokens_are_refused(directory, app, changes):
    directory.user("anna@example.com")
    assert login().verify_token(_forge(app)).email == "anna@example.com"
    with pytest.raises(Unauthorized) as info:
        login().verify_token(_forge(app, **changes))
    assert info.value.detail == "The bearer token is invalid or expired."


def test_client_access_token_is_refused_as_admin_token(directory, app):
    directory.user("anna@example.com")
    key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    access_token = jwt.encode(
        {
            "iss": app.config["ISSUER"],
            "sub": "cl_x",
            "client_id": "cl_x",
            "aud": "export-subscription-api",
            "iat": now,
            "exp": now + 300,
            "jti": "j",
            "scope": "export",
            "organizations": ["400100"],
        },
        key,
        algorithm="ES256",
        headers={"typ": "at+jwt", "kid": "k1"},
    )
    with pytest.raises(Unauthorized):
        login().verify_token(access_token)


@pytest.mark.parametrize("garbage", ["", "not a jwt", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_tokens_are_refused(directory, garbage):
    with pytest.raises(Unauthorized):
        login().verify_token(garbage)


def test_token_of_a_user_who_left_the_directory_is_refused(directory):
    anna = directory.user("anna@example.com")
    token, _ = login().issue_token(anna)
    db.session.delete(anna)
    db.session.commit()
    with pytest.raises(Unauthorized):
        login().verify_token(token)
