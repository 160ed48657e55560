"""``authserver audit``: export and retention of the audit trail."""

from __future__ import annotations

import json
from datetime import timedelta

import click

from ..errors import AuthServerError
from ..services import audit, audit_trail
from .common import Duration, fail, instant


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
    start = instant(since)
    end = instant(until) if until else None
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
        fail(error)
        return
    click.echo(f"Purged {deleted} audit event{'' if deleted == 1 else 's'}.")
