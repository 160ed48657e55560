"""``authserver clients`` and ``authserver gateways``: credentials made by an operator."""

from __future__ import annotations

import sys

import click

from ..errors import AuthServerError
from ..services import audit, clients
from ..services import directory as directory_service
from ..services.administrators import find_user
from .common import fail


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
        fail(error)
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
