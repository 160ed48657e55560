"""``authserver demo setup``: demo data for development (refused in production)."""

from __future__ import annotations

import click
from flask import current_app

from ..errors import AuthServerError
from ..services import audit, clients
from ..services import demo as demo_service
from .common import fail


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
        fail(error)
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
    from ..mail.worker import WorkerSettings

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
