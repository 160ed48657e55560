"""The ``authserver`` console command (a Flask CLI group), one module per
command group.

Every command parses and prints; the services decide (none holds a business
rule of its own).
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup
from flask_migrate import cli as migrate_cli

from ..mail.cli import mail_group
from .audit import audit_group
from .clients import clients_group, gateways_group
from .demo import demo_group
from .directory import directory_group
from .keys import keys_group
from .serve import serve
from .sessions import sessions_group

#: the package whose commands ``authserver --help`` lists
PACKAGE = "authserver"


def _create_app() -> Flask:
    from .. import create_app
    from ..config import ConfigError

    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def is_ours(command: click.Command | None) -> bool:
    """Whether *command* is defined in this package (not by Flask or an extension)."""
    module = getattr(getattr(command, "callback", None), "__module__", None) or ""
    return module == PACKAGE or module.startswith(f"{PACKAGE}.")


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
