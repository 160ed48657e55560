"""The budget of failed argon2 verifications: past it, unknown client ids and
clients over their own failure count get 429 before any hashing, while a
known client within its count, and any client the cache answers, go on."""

from __future__ import annotations

import os
import threading

import pytest
from conftest import make_config
from support.oauth import Creds, assert_oauth_error, partner, token_request

from authserver import credentials
from authserver.oauth2.argon2_budget import VerificationBudget, network_of
from authserver.oauth2.client_auth import AuthenticationFailed, SecretVerifier, TooManyFailures
from authserver.oauth2.client_record import ClientRecord
from authserver.throttle import FailureThrottle

BUDGET = 3
REDIS_URL = os.environ.get("AUTHSERVER_TEST_REDIS_URL")


@pytest.fixture
def app_config(database_url, tmp_path):
    return make_config(
        database_url,
        tmp_path,
        ARGON2_FAILURE_BUDGET=f"{BUDGET}/minute",  # "per second" made slow enough to test
        AUTH_FAILURE_LIMIT="2/minute",
    )


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


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("10.0.0.1", "10.0.0.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("-", "-"),
        ("not an address", "not an address"),
    ],
)
def test_addresses_are_grouped_per_24_and_per_64(address, network):
    assert network_of(address) == network


def flood(http, client_id: str, count: int) -> list[int]:
    """*count* wrong secrets for *client_id*, each from another network."""
    return [
        token_request(http, Creds(client_id, "wrong"), remote_addr=f"198.51.{n}.1").status_code
        for n in range(count)
    ]


def test_past_the_budget_unknown_client_ids_are_refused_before_hashing(http, app_ctx, argon2_calls):
    assert flood(http, "cl_unknown_a", BUDGET) == [401] * BUDGET
    assert len(argon2_calls) == BUDGET
    refused = token_request(http, Creds("cl_unknown_b", "x"), remote_addr="192.0.2.1")
    assert_oauth_error(refused, 429, "temporarily_unavailable")
    assert refused.headers["Retry-After"] == "1"
    assert len(argon2_calls) == BUDGET  # no hashing for it


def test_past_the_budget_a_known_client_within_its_count_is_still_verified(
    http, directory, argon2_calls
):
    creds = partner(directory, "400100")
    flood(http, "cl_unknown", BUDGET)
    assert token_request(http, creds, remote_addr="192.0.2.1").status_code == 200
    assert len(argon2_calls) == BUDGET + 1
    # verified: the cache answers it from now on, however many failures follow
    flood(http, creds.client_id, 5)
    for _ in range(3):
        assert token_request(http, creds, remote_addr="192.0.2.1").status_code == 200


def test_past_the_budget_a_client_over_its_own_failure_count_is_refused(
    http, directory, argon2_calls
):
    creds = partner(directory, "400100")
    assert flood(http, creds.client_id, BUDGET) == [401] * BUDGET  # its own count: 2/minute
    calls = len(argon2_calls)
    refused = token_request(http, creds, remote_addr="192.0.2.1")
    assert_oauth_error(refused, 429, "temporarily_unavailable")
    assert len(argon2_calls) == calls


def test_failures_are_counted_per_24_network_too(http, app_ctx):
    statuses = [
        token_request(http, Creds("cl_unknown", "wrong"), remote_addr=f"203.0.113.{n}").status_code
        for n in range(1, 5)
    ]
    # two failures per network (2/minute), before the budget (3) is spent
    assert statuses == [401, 401, 429, 429]


def test_verifier_budget_without_http():
    """The hook in the verifier, with plain objects."""
    budget = VerificationBudget("2/minute", "1/minute")
    verifier = SecretVerifier(FailureThrottle("100/minute", "t"), budget=budget)
    record = ClientRecord(
        pk=1,
        client_id="cl_known",
        kind="partner",
        tokens_invalid_before=None,
        secrets=((1, credentials.hash_secret("right")),),
        organizations=("400100",),
    )
    clients = {"cl_known": record}
    for n in range(2):
        with pytest.raises(AuthenticationFailed):
            verifier.authenticate(clients.get, f"cl_unknown_{n}", "x", f"192.0.2.{n}")
    with pytest.raises(TooManyFailures):
        verifier.authenticate(clients.get, "cl_unknown_9", "x", "192.0.2.9")
    assert verifier.authenticate(clients.get, "cl_known", "right", "192.0.2.10") is record


def test_with_an_instance_file_the_workers_share_one_budget(tmp_path):
    """``authserver serve`` gives its workers one file: a verification one
    worker lets through spends the budget of the others, so an instance does
    the budget, not workers × the budget. A client id's own count stays per worker."""
    workers = [
        VerificationBudget("1/minute", "5/minute", instance_file=str(tmp_path / "budget"))
        for _ in range(2)
    ]
    assert workers[0].retry_after("cl_unknown", known=False) == 0  # taken
    assert workers[1].retry_after("cl_other_unknown", known=False) == 1  # 429, Retry-After 1
    assert workers[1].retry_after("cl_known", known=True) == 0  # within its own count
    apart = [VerificationBudget("1/minute", "5/minute") for _ in range(2)]
    assert apart[0].retry_after("cl_unknown", known=False) == 0
    assert apart[1].retry_after("cl_other_unknown", known=False) == 0  # per process


@pytest.mark.parametrize("storage", ["memory", "file", "redis"])
def test_of_many_unknown_client_ids_at_once_only_the_budget_goes_through(tmp_path, storage):
    """An unknown client id takes its share of the budget when it is checked,
    not after its 33 ms of hashing: otherwise every request checked meanwhile
    would go through too (with Redis a flood got 2.2 verifications a second
    past a budget of one every two seconds)."""
    if storage == "redis" and not REDIS_URL:
        pytest.skip("AUTHSERVER_TEST_REDIS_URL is not set")
    budget = VerificationBudget(
        "2/minute",
        "5/minute",
        REDIS_URL if storage == "redis" else None,
        instance_file=str(tmp_path / "budget") if storage == "file" else None,
    )
    if storage == "redis":
        budget._all.clear("all")
    start = threading.Barrier(8)
    waits: list[int] = []

    def check(n: int) -> None:
        start.wait()
        waits.append(budget.retry_after(f"cl_unknown_{n}", known=False))

    threads = [threading.Thread(target=check, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [0, 0] + [1] * 6


def test_with_redis_the_instance_file_is_not_used(tmp_path):
    """Redis shares the budget between instances too: it wins over the file."""
    budget = VerificationBudget(
        "1/minute", "5/minute", "redis://127.0.0.1:1", instance_file=str(tmp_path / "budget")
    )
    assert isinstance(budget._all, FailureThrottle)
    assert not (tmp_path / "budget").exists()
