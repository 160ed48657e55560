"""Key hygiene for scheduled jobs: ``keys rotate --if-older-than`` rotates only
when due, ``keys reencrypt`` moves every private key under a new
key-encryption key (``MultiFernet.rotate``), all or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, MultiFernet

from authserver import keys
from authserver.extensions import db
from authserver.keys.material import new_signing_key
from authserver.models import AuditEvent, SigningKey
from authserver.models._base import utcnow
from authserver.services import audit, signing_keys


def stored() -> list[SigningKey]:
    db.session.expire_all()
    return keys.list_keys(db.session())


def add_key(cipher: MultiFernet | None, age: timedelta = timedelta()) -> SigningKey:
    created = utcnow() - age
    key = new_signing_key("ES256", cipher, now=created)
    key.created_at = created
    db.session.add(key)
    db.session.commit()
    return key


def actions() -> list[str]:
    return list(db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def test_rotate_if_older_than_rotates_only_a_key_past_the_age(app, runner, app_ctx):
    add_key(None, age=timedelta(days=10))
    not_due = runner.invoke(args=["keys", "rotate", "--if-older-than", "30d"])
    assert (not_due.exit_code, not_due.output) == (
        0,
        "newest key is not older than 30 days: not rotated\n",
    )
    assert len(stored()) == 1 and actions() == []
    due = runner.invoke(args=["keys", "rotate", "--if-older-than", "9d"])
    assert due.exit_code == 0, due.output
    assert due.output.startswith("new key ")
    assert len(stored()) == 2 and actions() == ["signing_key.rotated"]
    again = runner.invoke(
        args=["keys", "rotate", "--if-older-than", "9d"]
    )  # the pending key is new
    assert again.output.endswith("not rotated\n")
    assert len(stored()) == 2


def test_rotate_if_older_than_makes_a_key_when_there_is_none(runner, app_ctx):
    result = runner.invoke(args=["keys", "rotate", "--if-older-than", "30d"])
    assert result.exit_code == 0, result.output
    assert len(stored()) == 1


def test_rotate_refuses_a_malformed_age(runner, app_ctx):
    result = runner.invoke(args=["keys", "rotate", "--if-older-than", "thirty"])
    assert result.exit_code == 2
    assert "not a duration" in result.output


def test_reencrypt_moves_every_key_under_the_new_key_encryption_key(app, app_ctx):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    encrypted = add_key(keys.key_cipher(old))
    plain = add_key(None)
    app.config["KEY_ENCRYPTION_KEY"] = f"{new},{old}"
    kids = signing_keys.reencrypt(app.config, audit.CLI)
    assert sorted(kids) == sorted([encrypted.kid, plain.kid])
    only_new = keys.key_cipher(new)
    assert only_new is not None
    for key in stored():
        assert key.encrypted is True
        assert b"PRIVATE KEY" in only_new.decrypt(key.private_key)
    store = keys.KeyStore(db.engine, alg="ES256", encryption_key=new, cache_seconds=30)
    assert store.verification_key(encrypted.kid) is not None  # loads without the old key
    assert actions() == ["signing_key.reencrypted"]


def test_reencrypt_changes_nothing_when_a_key_cannot_be_decrypted(app, runner, app_ctx):
    unknown = add_key(keys.key_cipher(Fernet.generate_key().decode()))
    before = bytes(unknown.private_key)
    add_key(None)
    app.config["KEY_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    result = runner.invoke(args=["keys", "reencrypt"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: signing key {unknown.kid} cannot be decrypted with "
        "AUTHSERVER_KEY_ENCRYPTION_KEY; nothing changed.\n"
    )
    rows = {key.kid: key for key in stored()}
    assert bytes(rows[unknown.kid].private_key) == before
    assert sum(key.encrypted for key in rows.values()) == 1
    assert actions() == []


def test_reencrypt_needs_a_key_encryption_key(app, runner, app_ctx):
    add_key(None)
    app.config["KEY_ENCRYPTION_KEY"] = None
    result = runner.invoke(args=["keys", "reencrypt"])
    assert result.exit_code == 1
    assert "set AUTHSERVER_KEY_ENCRYPTION_KEY" in result.stderr


@pytest.mark.parametrize("count", [1, 2])
def test_reencrypt_cli_says_how_many(app, runner, app_ctx, count):
    for _ in range(count):
        add_key(None)
    app.config["KEY_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    result = runner.invoke(args=["keys", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{count} signing key{'' if count == 1 else 's'} re-encrypted.\n"
