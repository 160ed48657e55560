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
    "export_failure.reported": "Failed export reported",
    "mail.sent": "E-mail sent",
    "mail.failed": "E-mail failed",
    "mail.test_requested": "Test e-mail requested",
}


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


def detail_value(value: Any, key: str = "") -> str:
    """One value of an audit event's details, readable (``changes`` as old → new)."""
    if isinstance(value, dict):
        if key == "changes":
            return "; ".join(
                f"{name.replace('_', ' ')}: {detail_value(change[0])} → {detail_value(change[1])}"
                if isinstance(change, list) and len(change) == 2
                else f"{name}: {detail_value(change)}"
                for name, change in value.items()
            )
        return "; ".join(
            f"{name.replace('_', ' ')}: {detail_value(item)}" for name, item in value.items()
        )
    if value is None:
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
