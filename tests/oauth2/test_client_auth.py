"""Secret verification: verified-credential cache, throttle, dummy work, concurrency bound."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import make_config
from support.oauth import assert_oauth_error, partner, set_enabled, token_request

from authserver import credentials
from authserver.extensions import db
from authserver.models import Client
from authserver.oauth2.client_auth import AuthenticationFailed, SecretVerifier, TooManyFailures
from authserver.oauth2.client_record import ClientRecord, load_client
from authserver.oauth2.endpoints import EXTENSION
from authserver.services import audit, secret_rotation
from authserver.throttle import FailureThrottle


@pytest.fixture
def app_config(database_url, tmp_path):
    return make_config(database_url, tmp_path, AUTH_FAILURE_LIMIT="3/minute")


@pytest.fixture
def argon2_calls(monkeypatch):
    """Counts real argon2 verifications (the real function still runs)."""
    calls: list[str] = []
    real = credentials.check_secret

    def counting(secret_hash, secret):
        calls.append(secret_hash)
        return real(secret_hash, secret)

    monkeypatch.setattr(credentials, "check_secret", counting)
    return calls


def test_one_query_reads_client_live_secrets_and_enabled_organizations(app, directory):
    creds = partner(directory, "400100", "400200", "400300")
    set_enabled(creds.client_id, "400200", False)
    with db.engine.connect() as connection:
        record = load_client(connection, creds.client_id)
    assert isinstance(record, ClientRecord)
    assert record.client_id == creds.client_id
    assert record.kind == "partner"
    assert record.organizations == ("400100", "400300")
    assert len(record.secrets) == 1
    with db.engine.connect() as connection:
        assert load_client(connection, "cl_unknown") is None


def test_a_verified_secret_is_not_hashed_again(http, directory, argon2_calls):
    creds = partner(directory, "400100")
    for _ in range(5):
        assert token_request(http, creds).status_code == 200
    assert len(argon2_calls) == 1


def test_failures_are_never_cached(http, directory, argon2_calls):
    creds = partner(directory, "400100")
    good = creds.client_secret
    creds.client_secret = "wrong"
    for _ in range(2):
        assert_oauth_error(token_request(http, creds), 401, "invalid_client")
    assert len(argon2_calls) == 2
    creds.client_secret = good
    assert token_request(http, creds).status_code == 200


def test_a_cached_secret_does_not_match_a_wrong_one(http, directory):
    creds = partner(directory, "400100")
    assert token_request(http, creds).status_code == 200
    creds.client_secret = creds.client_secret.upper()
    assert_oauth_error(token_request(http, creds), 401, "invalid_client")


def test_unknown_client_costs_a_dummy_verification(http, app_ctx, argon2_calls):
    response = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "cl_nobody", "client_secret": "x"},
    )
    assert_oauth_error(response, 401, "invalid_client")
    assert argon2_calls == [credentials.dummy_hash()]


def test_repeated_failures_for_a_client_are_throttled_before_argon2(http, directory, argon2_calls):
    creds = partner(directory, "400100")
    good = creds.client_secret
    creds.client_secret = "wrong"
    for _ in range(3):
        assert_oauth_error(
            token_request(http, creds, remote_addr="10.0.0.1"), 401, "invalid_client"
        )
    response = token_request(http, creds, remote_addr="10.0.0.1")
    body = assert_oauth_error(response, 429, "temporarily_unavailable")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert body["error_description"] == "Too many failed client authentications; retry later."
    assert len(argon2_calls) == 3
    # the right secret from the failing address has to wait too
    creds.client_secret = good
    assert_oauth_error(
        token_request(http, creds, remote_addr="10.0.0.1"), 429, "temporarily_unavailable"
    )
    assert len(argon2_calls) == 3


def test_an_unverified_client_is_not_locked_out_by_failures_from_elsewhere(
    http, directory, argon2_calls
):
    creds = partner(directory, "400100")
    good = creds.client_secret
    creds.client_secret = "guess"
    for n in range(12):
        token_request(http, creds, remote_addr=f"192.0.2.{n // 3}")
    # the secret was never verified in this process: no cache entry helps here
    creds.client_secret = good
    assert token_request(http, creds, remote_addr="203.0.113.5").status_code == 200


def test_a_verified_client_is_not_locked_out_by_others_failures(http, directory, argon2_calls):
    creds = partner(directory, "400100")
    assert token_request(http, creds).status_code == 200
    attacker = partner(directory, "400200", email="other@example.com")
    attacker.client_id = creds.client_id
    attacker.client_secret = "guess"
    for _ in range(4):
        token_request(http, attacker, remote_addr="192.0.2.7")
    assert_oauth_error(
        token_request(http, attacker, remote_addr="192.0.2.7"), 429, "temporarily_unavailable"
    )
    # the legitimate client (cached) still gets tokens, from anywhere
    assert token_request(http, creds).status_code == 200
    assert token_request(http, creds, remote_addr="192.0.2.7").status_code == 200


def test_failures_from_one_address_are_throttled_across_client_ids(http, app_ctx, argon2_calls):
    for n in range(3):
        response = http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": f"cl_guess{n}",
                "client_secret": "x",
            },
            environ_base={"REMOTE_ADDR": "198.51.100.1"},
        )
        assert_oauth_error(response, 401, "invalid_client")
    response = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "cl_guess9", "client_secret": "x"},
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    assert_oauth_error(response, 429, "temporarily_unavailable")
    assert len(argon2_calls) == 3


def test_successes_are_not_counted(http, directory):
    creds = partner(directory, "400100")
    app_server = http.application.extensions[EXTENSION]
    for _ in range(10):
        app_server.verifier.forget()  # every request verifies with argon2 again
        assert token_request(http, creds).status_code == 200


def test_expired_grace_secret_is_not_served_from_the_cache(app, directory):
    creds = partner(directory, "400100")
    client = db.session.execute(
        db.select(Client).where(Client.client_id == creds.client_id)
    ).scalar_one()
    verifier = SecretVerifier(FailureThrottle("100/minute", "t"))

    def load(client_id):
        with db.engine.connect() as connection:
            return load_client(connection, client_id)

    assert (
        verifier.authenticate(load, creds.client_id, creds.client_secret, "a").client_id
        == creds.client_id
    )
    secret_rotation.rotate_client_secret(client, audit.CLI)
    with pytest.raises(AuthenticationFailed):
        verifier.authenticate(load, creds.client_id, creds.client_secret, "a")


def test_argon2_verifications_are_bounded(app, directory, monkeypatch):
    creds = partner(directory, "400100")
    running = []
    peak = []
    lock = threading.Lock()
    real = credentials.check_secret

    def slow(secret_hash, secret):
        with lock:
            running.append(1)
            peak.append(len(running))
        time.sleep(0.05)
        try:
            return real(secret_hash, secret)
        finally:
            with lock:
                running.pop()

    monkeypatch.setattr(credentials, "check_secret", slow)
    with db.engine.connect() as connection:
        record = load_client(connection, creds.client_id)
    verifier = SecretVerifier(FailureThrottle("100/minute", "t"), max_concurrent=2)
    errors = []

    def attempt():
        try:
            verifier.authenticate(lambda _id: record, creds.client_id, "wrong", "a")
        except AuthenticationFailed:
            pass
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(peak) == 6
    assert max(peak) == 2


def test_throttled_verifier_raises_before_loading_argon2(app, directory, argon2_calls):
    creds = partner(directory, "400100")
    with db.engine.connect() as connection:
        record = load_client(connection, creds.client_id)
    verifier = SecretVerifier(FailureThrottle("1/minute", "t2"))
    with pytest.raises(AuthenticationFailed):
        verifier.authenticate(lambda _id: record, creds.client_id, "wrong", "a")
    with pytest.raises(TooManyFailures) as caught:
        verifier.authenticate(lambda _id: record, creds.client_id, creds.client_secret, "a")
    assert caught.value.retry_after >= 1
    assert len(argon2_calls) == 1


def test_no_free_argon2_slot_is_busy(app, directory, monkeypatch):
    from authserver.oauth2 import client_auth

    creds = partner(directory, "400100")
    with db.engine.connect() as connection:
        record = load_client(connection, creds.client_id)
    verifier = SecretVerifier(FailureThrottle("100/minute", "t3"), max_concurrent=1)
    monkeypatch.setattr(client_auth, "ARGON2_WAIT_SECONDS", 0.01)
    verifier._slots.acquire()
    try:
        with pytest.raises(client_auth.VerifierBusy):
            verifier.authenticate(lambda _id: record, creds.client_id, creds.client_secret, "a")
    finally:
        verifier._slots.release()


def test_a_connection_dropped_by_postgresql_is_retried(app, http, directory, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite connections cannot be dropped from outside")
    creds = partner(directory, "400100")
    assert token_request(http, creds).status_code == 200
    db.session.execute(
        db.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    db.session.commit()
    assert token_request(http, creds).status_code == 200
