"""Fetching a client's ``jwks_uri``: https only and no loopback/private
address unless allowed, a timeout, a size limit, ``Cache-Control`` honoured,
the last good copy kept; and a client that authenticates with those keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.assertions import assertion_form, key_pair, sign
from support.jwks_server import JwksServer
from support.oauth import partner

from authserver import jwks_uri as jwks_fetch
from authserver.extensions import db
from authserver.jwks_uri import JwksFetcher, JwksFetchError, cache_seconds
from authserver.models import User
from authserver.services import audit, client_keys

ISSUER = "https://auth.example.test"


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def test_plain_http_and_loopback_are_refused_unless_allowed(jwks_server):
    strict = JwksFetcher(allow_local=False)
    with pytest.raises(JwksFetchError, match="https"):
        strict.fetch(jwks_server.url)
    with pytest.raises(JwksFetchError, match="non-public address"):
        strict.fetch(jwks_server.url.replace("http://", "https://"))
    with pytest.raises(JwksFetchError, match="non-public address"):
        strict.fetch("https://10.0.0.1/jwks")
    with pytest.raises(JwksFetchError, match="https"):
        strict.fetch("https://user:pw@partner.example/jwks")
    assert jwks_server.hits == 0
    assert JwksFetcher(allow_local=True).fetch(jwks_server.url) == ((), 300)


def test_a_slow_server_times_out(jwks_server):
    jwks_server.delay = 1.0
    with pytest.raises(JwksFetchError, match="unreachable"):
        JwksFetcher(allow_local=True, timeout=0.2).fetch(jwks_server.url)


def test_a_large_key_set_is_refused(jwks_server):
    jwks_server.body = b'{"keys": [], "pad": "' + b"x" * 2000 + b'"}'
    with pytest.raises(JwksFetchError, match="too large"):
        JwksFetcher(allow_local=True, max_bytes=1000).fetch(jwks_server.url)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"keys": {}}', b'{"keys": [1]}'])
def test_not_a_jwk_set_is_refused(jwks_server, body):
    jwks_server.body = body
    with pytest.raises(JwksFetchError):
        JwksFetcher(allow_local=True).fetch(jwks_server.url)


def test_cache_control_is_honoured_and_the_last_good_copy_kept(jwks_server):
    jwk = key_pair("EC").public_jwk()
    jwks_server.serve_keys(jwk, **{"Cache-Control": "public, max-age=60"})
    fetcher = JwksFetcher(allow_local=True)
    assert fetcher.keys(jwks_server.url) == (jwk,)
    assert fetcher.keys(jwks_server.url) == (jwk,)
    assert jwks_server.hits == 1
    jwks_server.serve_keys(jwk, **{"Cache-Control": "no-store"})
    other = JwksFetcher(allow_local=True)
    other.keys(jwks_server.url)
    other.keys(jwks_server.url)
    assert jwks_server.hits == 3
    jwks_server.status = 500
    assert other.keys(jwks_server.url) == (jwk,)  # the last good copy


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 300),
        ("max-age=120", 120),
        ("public, max-age=999999", 3600),
        ("no-cache", 0),
        ("private, no-store", 0),
        ("public", 300),
    ],
)
def test_cache_seconds(header, seconds):
    assert cache_seconds(header, 300, 3600) == seconds


def test_a_client_authenticates_with_the_keys_at_its_jwks_uri(http, directory, jwks_server):
    creds = partner(directory, "400100")
    pair = key_pair("EC")
    jwks_server.serve_keys(pair.public_jwk(kid="k1"), **{"Cache-Control": "max-age=60"})
    user = db.session.execute(
        db.select(User).where(User.email == "admin-400100@example.com")
    ).scalar_one()
    client_keys.set_jwks_uri(user, creds.client_id, audit.CLI, jwks_server.url, allow_local=True)
    form = assertion_form(
        sign(pair, creds.client_id, ISSUER, headers={"kid": "k1"}), grant_type="client_credentials"
    )
    assert http.post("/oauth2/token", data=form).status_code == 200
    other = key_pair("EC")
    form = assertion_form(sign(other, creds.client_id, ISSUER), grant_type="client_credentials")
    assert http.post("/oauth2/token", data=form).status_code == 401


def test_an_unknown_kid_fetches_again_at_most_once_a_minute(jwks_server, monkeypatch):
    old, new = key_pair("EC").public_jwk(kid="old"), key_pair("EC").public_jwk(kid="new")
    jwks_server.serve_keys(old, **{"Cache-Control": "max-age=3600"})
    fetcher = JwksFetcher(allow_local=True)
    assert fetcher.keys(jwks_server.url) == (old,)
    jwks_server.serve_keys(old, new, **{"Cache-Control": "max-age=3600"})
    assert fetcher.keys(jwks_server.url, refresh=True) == (old,)  # fetched under a minute ago
    assert jwks_server.hits == 1
    monkeypatch.setattr(jwks_fetch, "MIN_REFRESH_SECONDS", 0.0)
    assert fetcher.keys(jwks_server.url, refresh=True) == (old, new)
    assert jwks_server.hits == 2
