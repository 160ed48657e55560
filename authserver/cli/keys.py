"""``authserver keys``: token signing keys (rotate, list, purge, re-encrypt)."""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask import current_app

from .. import keys
from ..extensions import db
from ..models._base import utcnow
from ..services import audit, signing_keys
from .common import Duration


@click.group("keys")
def keys_group() -> None:
    """Manage token signing keys."""


@keys_group.command("rotate")
@click.option(
    "--if-older-than",
    "older_than",
    type=Duration(),
    default=None,
    help="Only when the newest key is older than this, e.g. 30d (for cron).",
)
def keys_rotate(older_than: timedelta | None) -> None:
    """Publish a new signing key (it signs after a delay).

    The key signs after AUTHSERVER_KEY_ACTIVATION_DELAY seconds.

    The previous key keeps signing until then and stays in the JWKS until
    every token it signed has expired.
    """
    if older_than is None:
        key = signing_keys.rotate(current_app.config, audit.CLI)
    else:
        found = signing_keys.rotate_if_older(current_app.config, audit.CLI, older_than)
        if found is None:
            click.echo(f"newest key is not older than {older_than.days} days: not rotated")
            return
        key = found
    click.echo(
        f"new key {key.kid} ({key.alg}) published; signs from {key.activates_at.isoformat()}"
    )


@keys_group.command("purge")
def keys_purge() -> None:
    """Delete retired signing keys; for a scheduled job.

    A key is retired when no token it signed is still valid.
    """
    purged = signing_keys.purge_retired(audit.CLI)
    for kid in purged:
        click.echo(f"purged retired key {kid}")
    click.echo(f"{len(purged)} retired key{'' if len(purged) == 1 else 's'} purged.")


@keys_group.command("reencrypt")
def keys_reencrypt() -> None:
    """Encrypt the signing keys under the newest encryption key.

    Every private key is encrypted again under the first key of
    AUTHSERVER_KEY_ENCRYPTION_KEY. To change the key-encryption key: configure
    "NEW,OLD" on every instance, run this once, then configure "NEW" alone.
    """
    try:
        kids = signing_keys.reencrypt(current_app.config, audit.CLI)
    except keys.KeyEncryptionError as error:
        click.echo(f"Error: {error}; nothing changed.", err=True)
        sys.exit(1)
    click.echo(f"{len(kids)} signing key{'' if len(kids) == 1 else 's'} re-encrypted.")


@keys_group.command("list")
def keys_list() -> None:
    """Show every stored signing key with its state.

    States: pending, active, retiring, retired.
    """
    now = utcnow()
    stored = keys.list_keys(db.session())
    if not stored:
        click.echo("no signing keys yet (the first one is made on first use)")
    for key in stored:
        retire = key.retire_at.isoformat() if key.retire_at else "-"
        click.echo(
            f"{key.kid}  {key.alg:<5}  {keys.key_state(key, stored, now):<8}  "
            f"activates {key.activates_at.isoformat()}  retires {retire}  "
            f"{'encrypted' if key.encrypted else 'UNENCRYPTED'}"
        )
