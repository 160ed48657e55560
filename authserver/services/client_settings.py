"""Editing a client's settings: name, description, technical contacts and
access-token lifetime (the rules are in :mod:`.client_profile`).

Any administrator of the client may edit them. The change and its audit
event (``client.updated``, with each changed field as ``[old, new]``) are
committed together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ValidationError
from ..extensions import db
from ..models import Client, User
from . import audit
from .client_profile import (
    validate_access_token_lifetime,
    validate_contacts,
    validate_description,
    validate_name,
)
from .clients import lock_administered_client, write_transaction

#: the settings a client's administrators may change
EDITABLE = ("name", "description", "contacts", "access_token_lifetime")


def validate_settings(changes: Mapping[str, object], max_token_lifetime: int) -> dict[str, Any]:
    """The cleaned *changes*; every field at fault is in the error's ``errors``.

    :raises ValidationError: an unknown field or a bad value.
    """
    checks: dict[str, Callable[[object], Any]] = {
        "name": validate_name,
        "description": validate_description,
        "contacts": validate_contacts,
        "access_token_lifetime": lambda value: validate_access_token_lifetime(
            value, max_token_lifetime
        ),
    }
    cleaned: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for field, value in changes.items():
        if field not in checks:
            problems.append({"field": field, "message": "Unknown field."})
            continue
        try:
            cleaned[field] = checks[field](value)
        except ValidationError as error:
            problems.extend(error.errors)
    if problems:
        first = problems[0]
        raise ValidationError(first["message"], field=first["field"], errors=problems)
    return cleaned


@write_transaction
def update_client(
    user: User,
    client_id: str,
    ctx: audit.AuditContext,
    changes: Mapping[str, object],
    *,
    max_token_lifetime: int,
) -> Client:
    """Change the settings of a client that *user* administers.

    :param changes: some of :data:`EDITABLE`; ``access_token_lifetime`` is
        ``None`` for the server's default or seconds up to *max_token_lifetime*.
    :raises ClientNotFound: no such client, or *user* is not its administrator.
    :raises ValidationError: an unknown field or a bad value (nothing changes).
    """
    cleaned = validate_settings(changes, max_token_lifetime)
    client = lock_administered_client(user, client_id, ctx, "client.update")
    changed: dict[str, list[Any]] = {}
    for field, value in cleaned.items():
        old = getattr(client, field)
        if old != value:
            changed[field] = [list(old) if isinstance(old, list) else old, value]
            setattr(client, field, value)
    if changed:
        audit.record(
            ctx, "client.updated", client_id=client.client_id, details={"changes": changed}
        )
    db.session.commit()
    return client
