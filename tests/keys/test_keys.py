"""Signing keys: first key, encryption at rest, rotation, JWKS, the process cache."""

from __future__ import annotations

import threading
from datetime import timedelta

import jwt
import pytest
from conftest import make_config
from cryptography.fernet import Fernet
from support.oauth import get_token, partner

from authserver import keys, tokens
from authserver.extensions import db
from authserver.keys import material as key_material
from authserver.keys import rotation
from authserver.models import AuditEvent, SigningKey
from authserver.models._base import utcnow

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


def store(**options) -> keys.KeyStore:
    return keys.KeyStore(db.engine, **options)


def stored() -> list[SigningKey]:
    db.session.expire_all()
    return keys.list_keys(db.session)


def rotate(delay: int = 0, now=None, cipher=None, alg="ES256") -> SigningKey:
    key = keys.rotate(
        db.session, alg=alg, cipher=cipher, activation_delay=delay, max_token_lifetime=3600, now=now
    )
    db.session.commit()
    return key


def test_first_key_is_made_on_first_use(app_ctx):
    assert stored() == []
    key = store().signing_key()
    rows = stored()
    assert [row.kid for row in rows] == [key.kid]
    assert rows[0].alg == "ES256" and rows[0].retire_at is None


def test_racing_processes_make_exactly_one_first_key(app_ctx, monkeypatch):
    real = rotation.new_signing_key
    barrier = threading.Barrier(4, timeout=10)

    def slow_new_key(*args, **kwargs):
        key = real(*args, **kwargs)
        threading.Event().wait(0.2)  # widen the window between the check and the insert
        return key

    monkeypatch.setattr(rotation, "new_signing_key", slow_new_key)
    engine = db.engine
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(keys.KeyStore(engine).signing_key().kid)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(stored()) == 1
    assert set(results) == {stored()[0].kid}


def test_jwks_has_public_keys_only(app_ctx):
    store().signing_key()
    rotate(delay=600)
    jwks = store().jwks()
    assert len(jwks["keys"]) == 2
    for jwk in jwks["keys"]:
        assert {"kid", "alg", "use", "kty"} <= set(jwk)
        assert jwk["use"] == "sig" and jwk["alg"] == "ES256"
        assert not PRIVATE_MEMBERS & set(jwk)


def test_kid_is_the_rfc_7638_thumbprint(app_ctx):
    key = store().signing_key()
    jwk = key.public_jwk
    expected = key_material.thumbprint({name: jwk[name] for name in ("crv", "kty", "x", "y")})
    assert key.kid == expected


def test_private_keys_are_encrypted_at_rest_when_configured(app_ctx):
    secret = Fernet.generate_key().decode()
    key = store(encryption_key=secret).signing_key()
    row = stored()[0]
    assert row.encrypted is True
    assert b"PRIVATE KEY" not in bytes(row.private_key)
    # another process with the same key-encryption key loads it
    assert store(encryption_key=secret).signing_key().kid == key.kid
    with pytest.raises(keys.KeyEncryptionError):
        store().signing_key()
    with pytest.raises(keys.KeyEncryptionError):
        store(encryption_key=Fernet.generate_key().decode()).signing_key()


def test_key_encryption_key_can_be_rotated(app_ctx):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    key = store(encryption_key=old).signing_key()
    assert store(encryption_key=f"{new},{old}").signing_key().kid == key.kid


def test_malformed_key_encryption_key_is_refused():
    with pytest.raises(keys.KeyEncryptionError):
        keys.key_cipher("not a fernet key")


def test_unencrypted_key_is_stored_with_a_warning(app_ctx, caplog):
    store().signing_key()
    assert stored()[0].encrypted is False
    assert "stored unencrypted" in caplog.text


def test_rotation_publishes_first_and_signs_after_the_delay(app_ctx):
    first = store().signing_key()
    now = utcnow()
    new = rotate(delay=600, now=now)
    view = store()
    assert {jwk["kid"] for jwk in view.jwks(now)["keys"]} == {first.kid, new.kid}
    assert view.signing_key(now).kid == first.kid
    assert view.signing_key(now + timedelta(seconds=599)).kid == first.kid
    # the cached view switches at activation time without reloading
    assert view.signing_key(now + timedelta(seconds=600)).kid == new.kid
    old_row = next(row for row in stored() if row.kid == first.kid)
    assert old_row.retire_at == new.activates_at + timedelta(seconds=3600)


def test_old_key_stays_published_until_its_tokens_have_expired(app_ctx):
    first = store().signing_key()
    now = utcnow()
    token = tokens.issue(
        first,
        issuer="i",
        audience="a",
        client_id="c",
        api_scopes=["export"],
        organizations=["1"],
        lifetime=3600,
        now=now.timestamp(),
    ).access_token
    new = rotate(delay=0, now=now)
    view = store()
    later = now + timedelta(seconds=3599)
    assert view.signing_key(later).kid == new.kid
    assert first.kid in {jwk["kid"] for jwk in view.jwks(later)["keys"]}
    assert (
        tokens.decode(
            token,
            keys=lambda kid: view.verification_key(kid, later),
            issuer="i",
            audience="a",
            now=later.timestamp(),
        )
        is not None
    )
    retired = now + timedelta(seconds=3601)
    assert first.kid not in {jwk["kid"] for jwk in view.jwks(retired)["keys"]}
    assert view.verification_key(first.kid, retired) is None


def test_only_the_newest_active_key_signs(app_ctx):
    store().signing_key()
    now = utcnow()
    second = rotate(delay=0, now=now + timedelta(seconds=1))
    third = rotate(delay=0, now=now + timedelta(seconds=2))
    view = store()
    assert view.signing_key(now + timedelta(seconds=3)).kid == third.kid
    states = {
        row.kid: keys.key_state(row, stored(), now + timedelta(seconds=3)) for row in stored()
    }
    assert sorted(states.values()) == ["active", "retiring", "retiring"]
    assert states[third.kid] == "active" and states[second.kid] == "retiring"


def test_unknown_kid_reloads_the_cache_at_most_once_per_interval(app_ctx):
    view = store(cache_seconds=3600, refresh_interval=3600)
    view.signing_key()
    other_view = store()
    new = rotate(delay=0)
    assert other_view.verification_key(new.kid) is not None  # a fresh view sees it
    # the old view reloads on the unknown kid only if its last load is older than the interval
    assert view.verification_key(new.kid) is None
    fast = store(cache_seconds=3600, refresh_interval=0)
    fast.signing_key()
    newer = rotate(delay=0)
    assert fast.verification_key(newer.kid) is not None


def test_purge_retired(app_ctx):
    first = store().signing_key()
    now = utcnow()
    rotate(delay=0, now=now)
    assert keys.purge_retired(db.session, now + timedelta(seconds=3601)) == 1
    db.session.commit()
    assert first.kid not in [row.kid for row in stored()]


@pytest.fixture
def app_config(database_url, tmp_path):
    return make_config(database_url, tmp_path, KEY_ACTIVATION_DELAY=0)


def test_cli_rotate_and_list(app, runner, directory):
    creds = partner(directory, "400100")
    http = app.test_client()
    before = get_token(http, creds)
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "published" in result.output
    listing = runner.invoke(args=["keys", "list"])
    assert listing.exit_code == 0
    lines = listing.output.strip().splitlines()
    assert len(lines) == 2
    assert "UNENCRYPTED" in listing.output
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "signing_key.rotated")
    ).scalar_one()
    assert event.actor == "cli"
    # the token signed before the rotation still verifies against the published keys
    jwks = http.get("/oauth2/jwks").get_json()
    assert len(jwks["keys"]) == 2
    kid = jwt.get_unverified_header(before)["kid"]
    jwk = next(key for key in jwks["keys"] if key["kid"] == kid)
    jwt.decode(before, jwt.PyJWK(jwk), algorithms=["ES256"], audience="export-subscription-api")


def test_cli_list_with_no_keys(runner, app_ctx):
    result = runner.invoke(args=["keys", "list"])
    assert result.exit_code == 0
    assert "no signing keys" in result.output


def test_cli_rotate_keeps_the_old_key_published_past_the_key_cache(app, runner, directory):
    """A process may sign with the old key until its key cache refreshes, so the
    old key stays published for the longest token lifetime plus that refresh time."""
    partner(directory, "400100")
    get_token(app.test_client(), partner(directory, "400200", email="b@example.com"))
    (old,) = keys.list_keys(db.session)
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    db.session.expire_all()
    old, new = keys.list_keys(db.session)
    slack = app.config["MAX_TOKEN_LIFETIME"] + app.config["KEY_CACHE_SECONDS"]
    assert (old.retire_at - new.activates_at).total_seconds() == slack
