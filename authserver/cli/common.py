"""What the commands share: how a refusal is printed, and the option types."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from ..errors import AuthServerError


def fail(error: AuthServerError) -> None:
    click.echo(f"Error: {error.detail}", err=True)
    sys.exit(1)


class Duration(click.ParamType[timedelta]):
    """``400d``, ``30d``, ``12h``, ``90m``: a number and a unit (days, hours, minutes)."""

    name = "duration"
    UNITS = {"d": "days", "h": "hours", "m": "minutes"}

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        number, unit = text[:-1], text[-1:]
        if unit not in self.UNITS or not number.isdigit() or int(number) > 100_000:
            self.fail(f"{value!r} is not a duration such as 400d, 12h or 90m", param, ctx)
        return timedelta(**{self.UNITS[unit]: int(number)})


def instant(value: str) -> datetime:
    """An ISO 8601 date or date-time; UTC unless it says otherwise."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
