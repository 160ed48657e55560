"""The ``authserver`` console command (a Flask CLI group).

Every command calls a service; none holds a business rule of its own.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from flask_migrate import cli as migrate_cli

from . import keys
from .errors import AuthServerError, InvalidDirectoryFile, UserNotFound
from .extensions import db
from .mail.cli import mail_group
from .models._base import utcnow
from .services import audit, audit_trail, clients, console_sessions, signing_keys
from .services import demo as demo_service
from .services import directory as directory_service
from .services.administrators import find_user


def _create_app() -> Flask:
    from . import create_app
    from .config import ConfigError

    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def is_ours(command: click.Command | None) -> bool:
    """Whether *command* is defined in this package (not by Flask or an extension)."""
    module = getattr(getattr(command, "callback", None), "__module__", None) or ""
    return module == __package__ or module.startswith(f"{__package__}.")


class CommandLine(FlaskGroup):
    """The ``authserver`` command: a Flask CLI group that offers only this
    package's commands, without Flask's generic options and commands
    (``--app``, ``--env-file``, ``run``, ``shell``...), which do not apply.
    Commands of extensions still run when called by name; they are not listed.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(add_default_commands=False, add_version_option=False, **options)
        self.params = [param for param in self.params if param.name == "help"]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if is_ours(self.get_command(ctx, name))]


@click.group(cls=CommandLine, create_app=_create_app)
def main() -> None:
    """authserver: OAuth2 client-credentials authorization server."""


class _OperatorCommands(click.Group):
    """Lists only the commands an operator needs; the others still run."""

    def __init__(self, *args: Any, listed: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listed = listed

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name in self.listed]


def _database(**options: object) -> None:
    """Database migrations: upgrade, downgrade, current, history."""
    click.get_current_context().invoke(migrate_cli.db.callback, **options)


#: Flask-Migrate's ``db`` group; an operator needs ``upgrade`` (and may look back)
db_group = _OperatorCommands(
    "db",
    callback=_database,
    params=list(migrate_cli.db.params),
    commands=dict(migrate_cli.db.commands),
    listed=("upgrade", "downgrade", "current", "history"),
    help=_database.__doc__,
)


def _fail(error: AuthServerError) -> None:
    click.echo(f"Error: {error.detail}", err=True)
    sys.exit(1)


class Duration(click.ParamType[timedelta]):
    """``400d``, ``30d``, ``12h``, ``90m``: a number and a unit (days, hours, minutes)."""

    name = "duration"
    UNITS = {"d": "days", "h": "hours", "m": "minutes"}

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        number, unit = text[:-1], text[-1:]
        if unit not in self.UNITS or not number.isdigit() or int(number) > 100_000:
            self.fail(f"{value!r} is not a duration such as 400d, 12h or 90m", param, ctx)
        return timedelta(**{self.UNITS[unit]: int(number)})


def _instant(value: str) -> datetime:
    """An ISO 8601 date or date-time; UTC unless it says otherwise."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.group("clients")
def clients_group() -> None:
    """Manage API clients."""


@clients_group.command("create")
@click.option("--org", "teccom_id", required=True, help="TecCom ID of the organization.")
@click.option("--admin", "admin_email", required=True, help="E-mail of its first administrator.")
@click.option("--name", default="", help='Its name (default: "<organization name> API client").')
def clients_create(teccom_id: str, admin_email: str, name: str) -> None:
    """Create a client for an organization.

    The same rules as in the admin API (docs/rules.md, rule 1): ADMIN must
    administer the organization.

    Prints the client id and the secret; the secret is not shown again.
    """
    try:
        user = find_user(admin_email)
    except AuthServerError:
        click.echo(f"Error: no user {admin_email!r} in the directory.", err=True)
        sys.exit(1)
    if directory_service.find_organization(teccom_id) is None:  # an operator may know this
        click.echo(f"Error: Organization {teccom_id} is not in the directory.", err=True)
        sys.exit(1)
    try:
        issued = clients.create_client(user, teccom_id, audit.CLI, name=name or None)
    except AuthServerError as error:
        _fail(error)
        return
    click.echo(f"client_id:     {issued.client.client_id}")
    click.echo(f"client_secret: {issued.client_secret}")
    click.echo("Store the secret now: it is not shown again.", err=True)


@click.group("gateways")
def gateways_group() -> None:
    """Manage API gateway (resource server) credentials."""


@gateways_group.command("create")
@click.argument("name")
def gateways_create(name: str) -> None:
    """Make credentials for an API gateway.

    A gateway may introspect any token and never gets one itself.
    """
    issued = clients.create_gateway(name, audit.CLI)
    click.echo(f"client_id:     {issued.client.client_id}")
    click.echo(f"client_secret: {issued.client_secret}")
    click.echo("Store the secret now: it is not shown again.", err=True)


@click.group("directory")
def directory_group() -> None:
    """The portal directory: organizations, users, admins."""


@directory_group.command("import")
@click.argument("file", type=click.File("rb"))
def directory_import(file: BinaryIO) -> None:
    """Import a directory FILE (JSON): all or nothing.

    An upsert of organizations and users (see README).

    A bad file is refused with the location at fault and changes nothing.
    """
    try:
        summary = directory_service.import_directory(file.read(), audit.CLI)
    except InvalidDirectoryFile as error:
        click.echo(f"Error: {file.name} was not imported; nothing changed.", err=True)
        for problem in error.problems:
            click.echo(f"  {file.name}: {problem}", err=True)
        sys.exit(1)
    click.echo(
        f"Imported {file.name}: "
        f"organizations {summary.organizations_created} created, "
        f"{summary.organizations_updated} updated, {summary.organizations_unchanged} unchanged; "
        f"users {summary.users_created} created, {summary.users_updated} updated, "
        f"{summary.users_unchanged} unchanged."
    )


@click.group("demo")
def demo_group() -> None:
    """Demo data for development (refused in production)."""


@demo_group.command("setup")
def demo_setup() -> None:
    """Load the demo data and print fresh demo credentials.

    Loads the demo directory, makes sure the demo client exists, and prints
    how to log in and a working token request.

    Secrets are stored only as hashes, so every run rotates the demo client's
    secret (the previous one stops working at once) to be able to show it.
    """
    try:
        setup = demo_service.setup_demo(audit.CLI, environment=current_app.config["ENV"])
    except AuthServerError as error:
        _fail(error)
        return
    issuer = str(current_app.config["ISSUER"]).rstrip("/")
    summary = setup.directory
    updated = summary.organizations_updated + summary.users_updated
    click.echo(
        f"Demo directory: {summary.organizations_created} organizations and "
        f"{summary.users_created} users created, {updated} updated."
    )
    state = (
        "created"
        if setup.client_created
        else "secret rotated (the previous demo secret no longer works)"
    )
    click.echo(f"Demo client {setup.client_id}: {state}.")
    click.echo("")
    click.echo(f"Console:  {issuer}/")
    click.echo(f"  log in as {setup.admin_email} / {setup.admin_password}")
    click.echo("Token:")
    click.echo(
        f"  curl -s -u {setup.client_id}:{setup.client_secret} "
        f"-d grant_type=client_credentials {issuer}/oauth2/token"
    )
    _print_demo_mail(issuer)


def _print_demo_mail(issuer: str) -> None:
    """The demo's mail lines: where mails go, and a failed export to report."""
    from .mail.worker import WorkerSettings

    gateway = demo_service.setup_demo_notifications(
        audit.CLI, environment=current_app.config["ENV"]
    )
    settings = WorkerSettings.from_config(current_app.config, current_app.instance_path)
    where = settings.smtp.describe() if settings.smtp else f"files (.eml) in {settings.mail_dir}/"
    window = current_app.config["MAIL_DIGEST_WINDOW"]
    client = clients.organization_client(demo_service.DEMO_ORGANIZATION)
    assert client is not None
    body = (
        f'{{\\"client_id\\": \\"{client.client_id}\\", \\"organization\\": \\"400100\\", '
        '\\"export_id\\": \\"demo-$(date +%s)\\", '
        '\\"failed_at\\": \\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\", '
        '\\"reason\\": \\"The ERP answered 503 Service Unavailable.\\"}'
    )
    click.echo("")
    click.echo(f"Mail: the server delivers mails to {where}")
    click.echo(
        f"Failed export (as the demo Export service, gateway {gateway.client.client_id}); "
        f"its mail to {demo_service.DEMO_NOTIFICATION_EMAIL} follows within {window + 3} s:"
    )
    click.echo(
        f"  curl -s -u {gateway.client.client_id}:{gateway.client_secret} "
        f'-H "Content-Type: application/json" -d "{body}" {issuer}/api/v1/export-failures'
    )


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
        _fail(error)
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


@click.group("audit")
def audit_group() -> None:
    """The audit trail: export and retention."""


@audit_group.command("export")
@click.option("--since", required=True, help="ISO 8601 date or date-time (UTC unless given).")
@click.option("--until", default=None, help="Up to this instant (exclusive); default: now.")
@click.option(
    "--format", "format_", type=click.Choice(["ndjson"]), default="ndjson", show_default=True
)
def audit_export(since: str, until: str | None, format_: str) -> None:
    """Export audit events as NDJSON, oldest first.

    Writes the events from --since on to stdout, one JSON object a line.
    """
    start = _instant(since)
    end = _instant(until) if until else None
    for event in audit_trail.export(start, end):
        click.echo(json.dumps(event, ensure_ascii=False, separators=(",", ":")))


@audit_group.command("purge")
@click.option("--older-than", required=True, type=Duration(), help="e.g. 400d (at least 30d).")
def audit_purge(older_than: timedelta) -> None:
    """Delete audit events older than --older-than; for cron.

    The purge itself is audited (audit.purged).
    """
    try:
        deleted = audit_trail.purge(older_than, audit.CLI)
    except AuthServerError as error:
        _fail(error)
        return
    click.echo(f"Purged {deleted} audit event{'' if deleted == 1 else 's'}.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, help="Worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Run the production server, draining it on SIGTERM.

    On SIGTERM, /readyz fails for AUTHSERVER_DRAIN_SECONDS, then the server stops.
    """
    from . import serving

    sys.exit(serving.serve(host, port, workers, float(current_app.config["DRAIN_SECONDS"])))


def register(app: Flask) -> None:
    """Attach the command groups to *app* (``flask --app`` and ``authserver`` alike)."""
    app.cli.add_command(db_group)
    app.cli.add_command(clients_group)
    app.cli.add_command(gateways_group)
    app.cli.add_command(directory_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(keys_group)
    app.cli.add_command(sessions_group)
    app.cli.add_command(mail_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(serve)
