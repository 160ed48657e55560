"""The replay store: each ``jti`` of a client is accepted once (RFC 7523 §3
item 7), in the database or in Redis, and entries expire with the assertion."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from authserver.extensions import db
from authserver.models import UsedAssertion
from authserver.oauth2.replay import DatabaseReplayStore, RedisReplayStore, replay_key

REDIS_URL = os.environ.get("AUTHSERVER_TEST_REDIS_URL")


def test_the_database_accepts_a_jti_once_per_client(app_ctx):
    store = DatabaseReplayStore(lambda: db.engine)
    expires = time.time() + 60
    assert store.first_use("cl_a", "jti-1", expires) is True
    assert store.first_use("cl_a", "jti-1", expires) is False
    assert store.first_use("cl_b", "jti-1", expires) is True  # another client's jti
    assert store.first_use("cl_a", "jti-2", expires) is True


def test_expired_entries_are_purged(app_ctx):
    store = DatabaseReplayStore(lambda: db.engine)
    store.first_use("cl_a", "old", time.time() - 1)
    store._next_purge = 0.0
    store.first_use("cl_a", "new", time.time() + 60)
    keys = set(db.session.execute(db.select(UsedAssertion.key)).scalars())
    assert keys == {replay_key("cl_a", "new")}


def test_keys_never_hold_the_raw_jti(app_ctx):
    assert replay_key("cl_a", "x" * 10_000) == replay_key("cl_a", "x" * 10_000)
    assert len(replay_key("cl_a", "x" * 10_000)) == 64
    assert replay_key("cl_a", "b") != replay_key("cl_ab", "")


@pytest.mark.skipif(not REDIS_URL, reason="AUTHSERVER_TEST_REDIS_URL is not set")
def test_redis_accepts_a_jti_once_and_lets_it_expire(app_ctx):
    assert REDIS_URL is not None
    store = RedisReplayStore(REDIS_URL, DatabaseReplayStore(lambda: db.engine))
    jti = uuid.uuid4().hex
    assert store.first_use("cl_a", jti, time.time() + 60) is True
    assert store.first_use("cl_a", jti, time.time() + 60) is False
    ttl = store.redis.ttl("authserver:assertion:" + replay_key("cl_a", jti))
    assert 0 < ttl <= 62
    store.redis.close()


def test_an_unreachable_redis_falls_back_to_the_database(app_ctx):
    store = RedisReplayStore("redis://127.0.0.1:1/0", DatabaseReplayStore(lambda: db.engine))
    assert store.first_use("cl_a", "j", time.time() + 60) is True
    assert store.first_use("cl_a", "j", time.time() + 60) is False
    assert db.session.execute(db.select(UsedAssertion)).scalar_one()
    store.redis.close()
