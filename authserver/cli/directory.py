"""``authserver directory import``: the portal's directory file."""

from __future__ import annotations

import sys
from typing import BinaryIO

import click

from ..errors import InvalidDirectoryFile
from ..services import audit
from ..services import directory as directory_service


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
