"""Credential notices: every administrator of a client is told by e-mail
when its secret is rotated, an administrator is added or removed, an
organization is assigned, removed, enabled or disabled, or the client is
deleted.

Each function only adds outbox rows to the caller's transaction (the change
and its notice commit together); the services call one of them, with one
line, next to their audit record. A notice never holds a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..extensions import db
from ..models import Client, ClientAdministrator, User
from . import outbox


def administrator_emails(client_pk: int) -> list[str]:
    """The e-mail addresses of the client's administrators, sorted."""
    return list(
        db.session.execute(
            db.select(User.email)
            .join(ClientAdministrator, ClientAdministrator.user_id == User.id)
            .where(ClientAdministrator.client_pk == client_pk)
            .order_by(User.email)
        ).scalars()
    )


def _notify(
    kind: str,
    client: Client,
    actor: str,
    *,
    also: Iterable[str] = (),
    teccom_id: str | None = None,
    **params: Any,
) -> None:
    recipients = [*administrator_emails(client.id), *also]
    outbox.enqueue(
        kind,
        recipients,
        client_id=client.client_id,
        teccom_id=teccom_id,
        params={"client_name": client.name, "actor": actor, **params},
    )


def secret_rotated(
    client: Client, actor: str, *, grace_end: datetime | None, tokens_revoked: bool
) -> None:
    """The secret was rotated; *grace_end* is when the previous one stops."""
    _notify(
        "secret_rotated",
        client,
        actor,
        grace_end=grace_end.isoformat() if grace_end else None,
        tokens_revoked=tokens_revoked,
    )


def administrator_added(client: Client, actor: str, email: str) -> None:
    _notify("administrator_added", client, actor, email=email)


def administrator_removed(client: Client, actor: str, email: str) -> None:
    """The removed administrator is told too."""
    _notify("administrator_removed", client, actor, also=[email], email=email)


def organization_assigned(
    client: Client, actor: str, teccom_id: str, name: str, *, enabled: bool
) -> None:
    _notify(
        "organization_assigned",
        client,
        actor,
        teccom_id=teccom_id,
        organization=teccom_id,
        organization_name=name,
        enabled=enabled,
    )


def organization_unassigned(client: Client, actor: str, teccom_id: str, name: str) -> None:
    _notify(
        "organization_unassigned",
        client,
        actor,
        teccom_id=teccom_id,
        organization=teccom_id,
        organization_name=name,
    )


def organization_switched(
    client: Client, actor: str, teccom_id: str, name: str, *, enabled: bool
) -> None:
    """An assignment was enabled or disabled."""
    _notify(
        "organization_enabled" if enabled else "organization_disabled",
        client,
        actor,
        teccom_id=teccom_id,
        organization=teccom_id,
        organization_name=name,
    )


def client_deleted(client: Client, actor: str, organizations: list[str]) -> None:
    """Call before the delete: the administrators are read from the client."""
    _notify("client_deleted", client, actor, organizations=organizations)


def key_added(client: Client, actor: str, *, label: str, thumbprint: str) -> None:
    """A public key for ``private_key_jwt`` was registered."""
    _notify("key_added", client, actor, label=label, thumbprint=thumbprint)


def key_removed(client: Client, actor: str, *, label: str, thumbprint: str) -> None:
    _notify("key_removed", client, actor, label=label, thumbprint=thumbprint)


def secret_authentication_switched(client: Client, actor: str, *, enabled: bool) -> None:
    _notify("secret_auth_enabled" if enabled else "secret_auth_disabled", client, actor)


def jwks_uri_changed(client: Client, actor: str, jwks_uri: str | None) -> None:
    """The client's ``jwks_uri`` was set (or, with ``None``, removed)."""
    if jwks_uri:
        _notify("jwks_uri_set", client, actor, jwks_uri=jwks_uri)
    else:
        _notify("jwks_uri_removed", client, actor)
