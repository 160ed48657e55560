"""``authserver keys rotate``, ``keys list`` and ``keys purge`` through Flask's
CLI runner: the commands parse and print; the rules live in
:mod:`authserver.keys.rotation` and :mod:`authserver.services.signing_keys`.
"""

from __future__ import annotations

import re
from datetime import timedelta

from authserver.extensions import db
from authserver.keys import list_keys
from authserver.keys.rotation import ensure_key
from authserver.models import AuditEvent, SigningKey
from authserver.models._base import utcnow


def audit_trail() -> list[tuple[str, str | None]]:
    return [
        (event.action, event.target)
        for event in db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars()
    ]


def test_rotate_publishes_a_pending_key_and_keeps_the_old_one_long_enough(app, runner, app_ctx):
    first = runner.invoke(args=["keys", "rotate"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["keys", "rotate"])
    assert re.fullmatch(r"new key \S+ \(ES256\) published; signs from \S+\n", second.output)
    old, new = list_keys(db.session)[-2:]
    config = app.config
    lifetime = config["MAX_TOKEN_LIFETIME"] + config["KEY_CACHE_SECONDS"]
    assert new.activates_at - new.created_at == timedelta(seconds=config["KEY_ACTIVATION_DELAY"])
    assert old.retire_at == new.activates_at + timedelta(seconds=lifetime)
    assert [action for action, _ in audit_trail()] == ["signing_key.rotated"] * 2


def test_purge_deletes_only_retired_keys_and_audits_each(runner, app_ctx):
    now = utcnow()
    for _ in range(3):
        runner.invoke(args=["keys", "rotate"])
    oldest, middle, newest = (key.kid for key in list_keys(db.session))
    db.session.execute(  # every token the oldest key signed has expired; the middle one's not
        db.update(SigningKey)
        .where(SigningKey.kid == oldest)
        .values(retire_at=now - timedelta(seconds=1))
    )
    db.session.execute(
        db.update(SigningKey)
        .where(SigningKey.kid == middle)
        .values(retire_at=now + timedelta(hours=1))
    )
    db.session.commit()

    result = runner.invoke(args=["keys", "purge"])

    assert result.exit_code == 0, result.output
    assert result.output == f"purged retired key {oldest}\n1 retired key purged.\n"
    db.session.expire_all()
    assert {key.kid for key in list_keys(db.session)} == {middle, newest}
    assert audit_trail()[-1] == ("signing_key.purged", oldest)


def test_purge_with_nothing_retired_changes_nothing(runner, app_ctx):
    runner.invoke(args=["keys", "rotate"])
    before = [key.kid for key in list_keys(db.session)]
    result = runner.invoke(args=["keys", "purge"])
    assert result.output == "0 retired keys purged.\n"
    assert [key.kid for key in list_keys(db.session)] == before
    assert [action for action, _ in audit_trail()] == ["signing_key.rotated"]


def test_list_shows_each_key_with_its_state(app, runner, app_ctx):
    ensure_key(db.engine, "ES256", None)  # the first key, made on first use
    app.config["KEY_ACTIVATION_DELAY"] = 600
    runner.invoke(args=["keys", "rotate"])
    lines = runner.invoke(args=["keys", "list"]).output.splitlines()
    assert [line.split()[2] for line in lines] == ["active", "pending"]
