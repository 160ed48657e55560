"""POST /oauth2/token over HTTP: RFC 6749 §4.4, §2.3.1, §3.2, §5.1, §5.2."""

from __future__ import annotations

import base64

import jwt
import pytest
from support.oauth import (
    Creds,
    assert_oauth_error,
    basic,
    custom_client,
    delete_client,
    endpoint_request,
    gateway,
    partner,
    token_request,
)

from authserver import credentials
from authserver.extensions import db
from authserver.models import Client
from authserver.services import audit, secret_rotation
from authserver.tokens import MAX_TOKEN_LENGTH

URL = "/oauth2/token"
FORM = "application/x-www-form-urlencoded"


def test_basic_authentication_gets_a_token(http, directory):
    creds = partner(directory, "400100")
    response = token_request(http, creds)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "export subscription org:400100"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.mimetype == "application/json"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256"


def test_post_authentication_gets_a_token(http, directory):
    creds = partner(directory, "400100")
    response = token_request(http, creds, method="post")
    assert response.status_code == 200
    assert response.get_json()["scope"] == "export subscription org:400100"


def test_get_is_405(http):
    response = http.get(URL)
    assert_oauth_error(response, 405, "invalid_request")
    assert "POST" in response.headers["Allow"]


def test_body_over_the_limit_is_refused_before_hashing(http, directory, monkeypatch):
    creds = partner(directory, "400100")
    calls = []
    real = credentials.check_secret
    monkeypatch.setattr(credentials, "check_secret", lambda *a: calls.append(1) or real(*a))
    response = http.post(
        URL,
        data={"grant_type": "client_credentials", "padding": "x" * (16 * 1024)},
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    assert_oauth_error(response, 413, "invalid_request")
    assert calls == []


def test_json_body_is_invalid_request(http, directory):
    creds = partner(directory, "400100")
    response = http.post(
        URL,
        json={"grant_type": "client_credentials"},
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_a_body_that_is_not_utf8_is_invalid_request_and_says_so(http, directory):
    creds = partner(directory, "400100")
    response = http.post(
        URL,
        data=b"grant_type=client_credentials&scope=\xff",
        content_type=FORM,
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    body = assert_oauth_error(response, 400, "invalid_request")
    assert body["error_description"] == "The request body is not valid UTF-8 form data."


def test_missing_grant_type_is_invalid_request(http, directory):
    creds = partner(directory, "400100")
    response = http.post(
        URL,
        data={"scope": "export"},
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_grant_type_in_the_query_string_does_not_count(http, directory):
    creds = partner(directory, "400100")
    response = http.post(
        URL + "?grant_type=client_credentials",
        data={"x": "1"},
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "grant_type", ["authorization_code", "password", "refresh_token", "CLIENT_CREDENTIALS"]
)
def test_unsupported_grant_type(http, directory, grant_type):
    creds = partner(directory, "400100")
    response = token_request(http, creds, grant_type=grant_type)
    body = assert_oauth_error(response, 400, "unsupported_grant_type")
    assert grant_type not in body.get("error_description", "")


@pytest.mark.parametrize(
    "body",
    [
        "grant_type=client_credentials&grant_type=client_credentials",
        "grant_type=client_credentials&scope=export&scope=subscription",
        "grant_type=client_credentials&client_id=a&client_id=b",
    ],
)
def test_repeated_parameter_is_invalid_request(http, directory, body):
    creds = partner(directory, "400100")
    response = http.post(
        URL,
        data=body,
        content_type=FORM,
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_two_authentication_methods_are_invalid_request(http, directory):
    creds = partner(directory, "400100")
    response = http.post(
        URL,
        data={
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
        },
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_basic_with_the_same_client_id_in_the_body_is_fine(http, directory):
    creds = partner(directory, "400100")
    response = http.post(
        URL,
        data={"grant_type": "client_credentials", "client_id": creds.client_id},
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    assert response.status_code == 200


def test_basic_with_another_client_id_in_the_body_is_invalid_request(http, directory):
    creds = partner(directory, "400100")
    response = http.post(
        URL,
        data={"grant_type": "client_credentials", "client_id": "cl_other"},
        headers={"Authorization": basic(creds.client_id, creds.client_secret)},
    )
    assert_oauth_error(response, 400, "invalid_request")


def _assert_invalid_client(response):
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="authserver"')


def test_no_authentication_is_invalid_client(http):
    _assert_invalid_client(http.post(URL, data={"grant_type": "client_credentials"}))


def test_client_id_alone_is_invalid_client(http, directory):
    creds = partner(directory, "400100")
    _assert_invalid_client(
        http.post(URL, data={"grant_type": "client_credentials", "client_id": creds.client_id})
    )


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic ",
        "Basic",
        "",
        "Basic " + base64.b64encode(b":").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Basic " + base64.b64encode(b"cl_x:y").decode()[:-2],
        "Bearer abc.def.ghi",
    ],
)
def test_malformed_basic_header_is_invalid_client(http, authorization):
    response = http.post(
        URL, data={"grant_type": "client_credentials"}, headers={"Authorization": authorization}
    )
    _assert_invalid_client(response)


def test_unknown_client_is_invalid_client(http, app_ctx):
    _assert_invalid_client(
        http.post(
            URL,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic("cl_nobody", "x" * 43)},
        )
    )


@pytest.mark.parametrize("path", [URL, "/oauth2/introspect", "/oauth2/revoke"])
@pytest.mark.parametrize("method", ["basic", "post"])
def test_nul_in_the_client_id_is_an_unknown_client_on_every_database(http, directory, path, method):
    # PostgreSQL refuses NUL in a query parameter; the answer must not depend on that
    creds = partner(directory, "400100")
    data = {"grant_type": "client_credentials", "token": "x"}
    headers = {}
    if method == "basic":
        headers["Authorization"] = basic(creds.client_id + "\x00", creds.client_secret)
    else:
        data.update(client_id=creds.client_id + "\x00", client_secret=creds.client_secret)
    _assert_invalid_client(http.post(path, data=data, headers=headers))


@pytest.mark.parametrize("method", ["basic", "post"])
def test_wrong_secret_is_invalid_client(http, directory, method):
    creds = partner(directory, "400100")
    creds.client_secret = creds.client_secret[:-1] + (
        "A" if creds.client_secret[-1] != "A" else "B"
    )
    response = token_request(http, creds, method=method)
    _assert_invalid_client(response)


@pytest.mark.parametrize("method", ["basic", "post"])
def test_empty_secret_is_invalid_client(http, directory, method):
    creds = partner(directory, "400100")
    creds.client_secret = ""
    _assert_invalid_client(token_request(http, creds, method=method))


def test_credentials_in_the_query_string_are_ignored(http, directory):
    creds = partner(directory, "400100")
    response = http.post(
        f"{URL}?client_id={creds.client_id}&client_secret={creds.client_secret}",
        data={"grant_type": "client_credentials"},
    )
    _assert_invalid_client(response)


def test_gateway_never_gets_a_token(http, app_ctx):
    creds = gateway()
    assert_oauth_error(token_request(http, creds), 400, "unauthorized_client")
    assert_oauth_error(token_request(http, creds, method="post"), 400, "unauthorized_client")


URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize("method", ["basic", "post"])
def test_secret_with_every_url_safe_character(http, app_ctx, method):
    creds = custom_client("cl_urlsafe", URL_SAFE, "400100")
    response = token_request(http, creds, method=method)
    assert response.status_code == 200, response.get_json()


def test_basic_credentials_are_form_urldecoded(http, app_ctx):
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic."""
    creds = custom_client("cl:üñí côde+%/", "s3cr:t +%&=/?#ü", "400100")
    assert token_request(http, creds).status_code == 200
    assert token_request(http, creds, method="post").status_code == 200
    # the same credentials without form-encoding do not authenticate
    raw = base64.b64encode(f"{creds.client_id}:{creds.client_secret}".encode()).decode()
    _assert_invalid_client(
        http.post(
            URL,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + raw},
        )
    )


def test_plus_in_basic_credentials_means_space(http, app_ctx):
    custom_client("cl_space", "with space", "400100")
    raw = base64.b64encode(b"cl_space:with+space").decode()
    response = http.post(
        URL, data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic " + raw}
    )
    assert response.status_code == 200


def test_rotated_secret_stops_working_at_once(http, directory):
    creds = partner(directory, "400100")
    assert token_request(http, creds).status_code == 200  # now cached in this process
    client = db.session.execute(
        db.select(Client).where(Client.client_id == creds.client_id)
    ).scalar_one()
    rotated = secret_rotation.rotate_client_secret(client, audit.CLI)
    _assert_invalid_client(token_request(http, creds))
    creds.client_secret = rotated.client_secret
    assert token_request(http, creds).status_code == 200


def test_grace_period_secret_works_until_it_expires(http, directory):
    from datetime import timedelta

    from authserver.models import ClientSecret
    from authserver.models._base import utcnow

    creds = partner(directory, "400100")
    assert token_request(http, creds).status_code == 200
    client = db.session.execute(
        db.select(Client).where(Client.client_id == creds.client_id)
    ).scalar_one()
    rotated = secret_rotation.rotate_client_secret(client, audit.CLI, grace_period_seconds=3600)
    assert token_request(http, creds).status_code == 200
    old = db.session.execute(
        db.select(ClientSecret).where(ClientSecret.expires_at.is_not(None))
    ).scalar_one()
    old.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    _assert_invalid_client(token_request(http, creds))
    creds.client_secret = rotated.client_secret
    assert token_request(http, creds).status_code == 200


def test_deleted_client_stops_at_once(http, directory):
    creds = partner(directory, "400100")
    assert token_request(http, creds).status_code == 200
    delete_client(creds.client_id)
    _assert_invalid_client(token_request(http, creds))


def test_never_a_500_for_odd_input(http, directory):
    creds = partner(directory, "400100")
    auth = {"Authorization": basic(creds.client_id, creds.client_secret)}
    odd = [
        (b"grant_type=client_credentials&scope=%ff%fe", FORM),
        (b"\xff\xfe\x00", FORM),
        (b"grant_type=client_credentials&scope=" + b"a" * 5000, FORM),
        (b"%%%%&&&===", FORM),
        (b"grant_type=client_credentials", "multipart/form-data; boundary=x"),
        (b"grant_type=client_credentials", "text/plain"),
        (b"", FORM),
    ]
    for body, content_type in odd:
        response = http.post(URL, data=body, content_type=content_type, headers=auth)
        assert response.status_code in (200, 400), (body, response.status_code)
        if response.status_code == 400:
            assert response.get_json()["error"] in {"invalid_request", "invalid_scope"}


def test_a_token_too_large_for_introspection_is_not_issued(http, directory):
    """Every token issued fits MAX_TOKEN_LENGTH, so it can always be
    introspected and revoked; a client with too many organizations for one
    token narrows the request with ``org:`` scopes."""
    orgs = [str(400000 + n) for n in range(460)]
    creds = partner(directory, *orgs)
    body = assert_oauth_error(token_request(http, creds), 400, "invalid_scope")
    assert body["error_description"] == (
        "The token would be too large; ask for fewer organizations with org: scopes."
    )
    narrowed = token_request(http, creds, scope=" ".join(f"org:{t}" for t in orgs[:400]))
    assert narrowed.status_code == 200
    token = narrowed.get_json()["access_token"]
    assert 10_000 < len(token) <= MAX_TOKEN_LENGTH
    watcher = gateway("gw-large")
    answer = endpoint_request(http, "/oauth2/introspect", watcher, token=token).get_json()
    assert answer["active"] is True and len(answer["organizations"]) == 400
    assert endpoint_request(http, "/oauth2/revoke", creds, token=token).status_code == 200
    assert endpoint_request(http, "/oauth2/introspect", watcher, token=token).get_json() == {
        "active": False
    }


# --- a client's own token lifetime; the last use of each secret ------------------------------


def _client(client_id):
    return db.session.execute(db.select(Client).where(Client.client_id == client_id)).scalar_one()


def _lifetime(response):
    claims = jwt.decode(response.json["access_token"], options={"verify_signature": False})
    return response.json["expires_in"], claims["exp"] - claims["iat"]


def test_a_client_gets_tokens_with_its_own_lifetime_or_the_servers(app, http, directory):
    creds = partner(directory, "400100")
    assert _lifetime(token_request(http, creds)) == (300, 300)
    _client(creds.client_id).access_token_lifetime = 1800
    db.session.commit()
    assert _lifetime(token_request(http, creds)) == (1800, 1800)


def test_no_token_lives_longer_than_the_servers_maximum(app, http, directory):
    creds = partner(directory, "400100")
    _client(creds.client_id).access_token_lifetime = 7200  # written around the service's check
    db.session.commit()
    assert _lifetime(token_request(http, creds)) == (3600, 3600)


def test_each_secret_records_its_last_token_without_a_write_per_token(app, http, directory):
    from authserver.models._base import utcnow
    from authserver.oauth2.endpoints import server

    creds = partner(directory, "400100")
    client = _client(creds.client_id)
    rotated = secret_rotation.rotate_client_secret(client, audit.CLI, grace_period_seconds=3600)
    old_creds = Creds(creds.client_id, creds.client_secret)
    new_creds = Creds(creds.client_id, rotated.client_secret)
    for _ in range(3):
        assert token_request(http, old_creds).status_code == 200
    db.session.expire_all()
    assert [s.last_used_at for s in _client(creds.client_id).secrets] == [None, None]

    before = utcnow().replace(microsecond=0)
    assert server().usage.flush() == 1
    db.session.expire_all()
    old, new = sorted(_client(creds.client_id).secrets, key=lambda s: s.id)
    assert old.last_used_at is not None and old.last_used_at >= before
    assert new.last_used_at is None  # the new secret has not got a token yet

    assert token_request(http, new_creds).status_code == 200
    assert server().usage.flush() == 1
    db.session.expire_all()
    old_again, new = sorted(_client(creds.client_id).secrets, key=lambda s: s.id)
    assert new.last_used_at is not None and old_again.last_used_at == old.last_used_at
    assert server().usage.flush() == 0  # nothing new: no write


def test_introspection_and_revocation_do_not_count_as_use(app, http, directory):
    from support.oauth import endpoint_request

    from authserver.oauth2.endpoints import server

    creds = partner(directory, "400100")
    token = token_request(http, creds).json["access_token"]
    assert server().usage.flush() == 1
    assert endpoint_request(http, "/oauth2/introspect", creds, token, "basic").status_code == 200
    assert server().usage.flush() == 0
