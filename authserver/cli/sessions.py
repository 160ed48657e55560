"""``authserver sessions``: login sessions of the browser console."""

from __future__ import annotations

import sys

import click

from ..errors import AuthServerError, UserNotFound
from ..services import audit, console_sessions
from ..services.administrators import find_user
from .common import fail


@click.group("sessions")
def sessions_group() -> None:
    """Login sessions of the browser console."""


@sessions_group.command("revoke")
@click.option("--user", "email", required=True, help="E-mail of the user.")
def sessions_revoke(email: str) -> None:
    """End every console session of a user at once.

    Audited as session.revoked_all.

    Their browsers get the login page on their next request.
    """
    try:
        user = find_user(email)
    except UserNotFound:
        click.echo(f"Error: no user {email!r} in the directory.", err=True)
        sys.exit(1)
    except AuthServerError as error:
        fail(error)
        return
    ended = console_sessions.end_all(user, audit.CLI)
    click.echo(f"Ended {_sessions(ended)} of {user.email}.")


@sessions_group.command("purge")
def sessions_purge() -> None:
    """Delete console sessions that have ended by time.

    Sessions end after an idle or an absolute limit.

    Logging in purges them too; this is for a scheduled job.
    """
    click.echo(f"Purged {_sessions(console_sessions.purge())} that had expired.")


def _sessions(count: int) -> str:
    return f"{count} console session{'' if count == 1 else 's'}"
