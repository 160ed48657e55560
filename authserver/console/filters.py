"""Jinja filters for the console: times, audit actions, details."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask

from . import bp
from .login import current_user

#: how the Activity tab names audit actions; others are shown humanized
ACTION_LABELS = {
    "client.created": "Client created",
    "client.deleted": "Client deleted",
    "client.secret_rotated": "Secret rotated",
    "organization.assigned": "Organization added",
    "organization.updated": "Organization edited",
    "organization.unassigned": "Organization removed",
    "administrator.added": "Administrator added",
    "administrator.removed": "Administrator removed",
    "authorization.denied": "Change refused",
    "client.updated": "Client edited",
    "export_failure.reported": "Failed export reported",
    "mail.sent": "E-mail sent",
    "mail.failed": "E-mail failed",
    "mail.test_requested": "Test e-mail requested",
}

#: how the Activity tab names the fields of an event's details; a field not
#: named here is shown with spaces (and ``_seconds`` as a duration)
DETAIL_LABELS = {
    "grace_period_seconds": "grace period",
    "previous_expires_at": "previous secret valid until",
    "revoke_tokens": "tokens revoked",
    "notification_emails": "notification e-mails",
    "access_token_lifetime": "access-token lifetime",
    "teccom_id": "TecCom ID",
    "client_id": "client ID",
}

#: reasons of a refused change (``authorization.denied``), as sentences
REASONS = {
    "not_client_administrator": "not an administrator of the client",
    "not_organization_administrator": "not an administrator of the organization",
}

_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def when(value: datetime | None, seconds: bool = False) -> str:
    """``2025-03-01 14:05 UTC``: one unambiguous clock for everyone."""
    if value is None:
        return ""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    text = action.replace(".", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def duration(seconds: int) -> str:
    """``3600`` -> ``1 hour``, ``5400`` -> ``1 hour 30 minutes``, ``0`` -> ``none``."""
    if seconds <= 0:
        return "none"
    parts = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts)


def detail_label(key: str) -> str:
    """The name of a field of an event's details, as a person says it."""
    if key in DETAIL_LABELS:
        return DETAIL_LABELS[key]
    return key.removesuffix("_seconds").replace("_", " ")


def change_value(change: Any, key: str) -> str:
    """One change of a ``changes`` detail: ``[old, new]`` as ``old → new``."""
    if isinstance(change, list) and len(change) == 2:
        return f"{detail_value(change[0], key)} → {detail_value(change[1], key)}"
    return detail_value(change, key)


def detail_value(value: Any, key: str = "") -> str:
    """One value of an audit event's details, readable (``changes`` as old → new,
    durations in words, reasons as sentences)."""
    if isinstance(value, dict):
        if key == "changes":
            return "; ".join(
                f"{detail_label(name)}: {change_value(change, name)}"
                for name, change in value.items()
            )
        return "; ".join(
            f"{detail_label(name)}: {detail_value(item, name)}" for name, item in value.items()
        )
    if key.endswith(("_seconds", "lifetime")):
        if isinstance(value, int) and not isinstance(value, bool):
            return duration(value)
        if value is None:
            return "the default"
    if key == "reason" and value in REASONS:
        return REASONS[value]
    if key == "operation" and isinstance(value, str):
        return action_label(value).lower()
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, str) and "T" in value and ":" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return when(moment) if moment.tzinfo else value
    return str(value)


@bp.context_processor
def _console_user() -> dict[str, Any]:
    current_user()  # sets g.user for the header of every page
    return {}


def register(app: Flask) -> None:
    """The filters, for the console's templates (Jinja has one namespace per app)."""
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["action_label"] = action_label
    app.jinja_env.filters["detail_value"] = detail_value
    app.jinja_env.filters["detail_label"] = detail_label
    app.jinja_env.filters["change_value"] = change_value
    app.jinja_env.filters["duration"] = duration
