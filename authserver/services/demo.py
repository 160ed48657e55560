"""The demo start (``authserver demo setup``, run by ``make run``).

Loads the demo directory shipped in the package, makes sure the demo client
exists, and hands back fresh credentials for it. Secrets are only stored as
hashes, so the only way to show a working secret again is to rotate it: every
run rotates the demo client's secret at once (no grace period) and the audit
trail records the rotation. Refused in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ..errors import NotInProduction
from ..extensions import db
from ..models import KIND_GATEWAY, Client, ClientAdministrator, User
from . import assignments, audit, clients, secret_rotation
from .clients import IssuedCredentials
from .directory import ImportSummary, import_directory, parse_directory

#: the organization of the demo client and its first administrator
DEMO_ORGANIZATION = "400100"
DEMO_ADMIN_EMAIL = "anna@example.com"


@dataclass(frozen=True)
class DemoSetup:
    """What ``demo setup`` did, and the credentials to show once."""

    directory: ImportSummary
    client_id: str
    client_secret: str
    client_created: bool
    admin_email: str
    admin_password: str


def demo_directory() -> bytes:
    """The demo directory file shipped in ``authserver/demo/directory.json``."""
    return resources.files("authserver").joinpath("demo/directory.json").read_bytes()


def setup_demo(ctx: audit.AuditContext, *, environment: str) -> DemoSetup:
    """Import the demo directory and issue fresh demo client credentials.

    :param environment: the application's ``ENV``; ``production`` is refused.
    :raises NotInProduction: when *environment* is ``production``.
    """
    if environment == "production":
        raise NotInProduction("The demo setup is refused when AUTHSERVER_ENV=production.")
    raw = demo_directory()
    summary = import_directory(raw, ctx)
    admin_password = _demo_password(raw, DEMO_ADMIN_EMAIL)
    anna = db.session.execute(db.select(User).where(User.email == DEMO_ADMIN_EMAIL)).scalar_one()

    client = clients.organization_client(DEMO_ORGANIZATION)
    if client is None:
        issued = clients.create_client(anna, DEMO_ORGANIZATION, ctx, name="Demo client")
        return DemoSetup(
            summary, issued.client.client_id, issued.client_secret, True, anna.email, admin_password
        )

    if db.session.get(ClientAdministrator, (client.id, anna.id)) is None:
        client.administrators.append(ClientAdministrator(user_id=anna.id))
        audit.record(ctx, "administrator.added", client_id=client.client_id, target=anna.email)
    for assignment in client.organizations:
        if assignment.teccom_id == DEMO_ORGANIZATION and not assignment.enabled:
            assignment.enabled = True
            audit.record(
                ctx,
                "organization.updated",
                client_id=client.client_id,
                target=DEMO_ORGANIZATION,
                details={"changes": {"enabled": [False, True]}},
            )
    rotated = secret_rotation.rotate_client_secret(client, ctx, grace_period_seconds=0)
    return DemoSetup(
        summary, client.client_id, rotated.client_secret, False, anna.email, admin_password
    )


def _demo_password(raw: bytes, email: str) -> str:
    """The demo password of *email*, as written in the demo file."""
    password = next(user.password for user in parse_directory(raw).users if user.email == email)
    assert password is not None, "the demo administrator needs a password"
    return password


#: the demo Export service's gateway credentials, and where its reports go
DEMO_GATEWAY_NAME = "Demo Export service"
DEMO_NOTIFICATION_EMAIL = "edi@acme-parts.example"


def setup_demo_notifications(ctx: audit.AuditContext, *, environment: str) -> IssuedCredentials:
    """Give the demo organization a notification address (when it has none)
    and hand out fresh credentials of the demo Export service's gateway, to
    report failed exports with (its secret is rotated on every run).

    :raises NotInProduction: when *environment* is ``production``.
    """
    if environment == "production":
        raise NotInProduction("The demo setup is refused when AUTHSERVER_ENV=production.")
    anna = db.session.execute(db.select(User).where(User.email == DEMO_ADMIN_EMAIL)).scalar_one()
    client = clients.organization_client(DEMO_ORGANIZATION)
    assert client is not None, "setup_demo makes the demo client first"
    assignment = next(a for a in client.organizations if a.teccom_id == DEMO_ORGANIZATION)
    if not assignment.notification_emails:
        assignments.update_assignment(
            anna,
            client.client_id,
            DEMO_ORGANIZATION,
            ctx,
            notification_emails=[DEMO_NOTIFICATION_EMAIL],
        )
    gateway = db.session.execute(
        db.select(Client).where(Client.kind == KIND_GATEWAY, Client.name == DEMO_GATEWAY_NAME)
    ).scalar_one_or_none()
    if gateway is None:
        return clients.create_gateway(DEMO_GATEWAY_NAME, ctx)
    rotated = secret_rotation.rotate_client_secret(gateway, ctx, grace_period_seconds=0)
    return IssuedCredentials(gateway, rotated.client_secret)
