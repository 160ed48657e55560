"""Failure throttling, in memory and in Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from authserver.throttle import FailureThrottle

REDIS_URL = os.environ.get("AUTHSERVER_TEST_REDIS_URL")
STORAGES = [None] + ([REDIS_URL] if REDIS_URL else [])


@pytest.fixture(params=STORAGES, ids=lambda s: "redis" if s else "memory")
def throttle(request):
    return FailureThrottle("3/minute", f"test-{uuid.uuid4().hex}", request.param)


def test_allows_until_the_limit_of_failures(throttle):
    for _ in range(3):
        assert throttle.retry_after("client-a") == 0
        throttle.failed("client-a")
    wait = throttle.retry_after("client-a")
    assert 1 <= wait <= 60


def test_keys_are_counted_apart(throttle):
    for _ in range(3):
        throttle.failed("client-a")
    assert throttle.retry_after("client-a") > 0
    assert throttle.retry_after("client-b") == 0
    assert throttle.retry_after("client-b", "client-a") > 0


def test_clear_forgets_failures(throttle):
    for _ in range(3):
        throttle.failed("10.0.0.1")
    throttle.clear("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0


def test_unreachable_redis_falls_back_to_memory():
    throttle = FailureThrottle("2/minute", "t", "redis://127.0.0.1:1/0")
    throttle.failed("k")
    throttle.failed("k")
    assert throttle.retry_after("k") > 0


def test_a_throttle_says_whether_its_counts_are_shared():
    """Shared counts cost a round trip per call (client authentication then
    waits for them outside the worker's gate, :mod:`authserver.gate`)."""
    assert FailureThrottle("3/minute", "t").shared is False
    assert FailureThrottle("3/minute", "t", "redis://127.0.0.1:1").shared is True


def test_take_counts_within_the_limit_in_one_step(throttle):
    for _ in range(3):
        assert throttle.take("k") is True
    assert throttle.take("k") is False
    assert throttle.retry_after("k") > 0
    assert throttle.take("other") is True
