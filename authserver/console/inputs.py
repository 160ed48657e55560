"""Characters no database column can hold are refused before any view runs.

PostgreSQL text cannot hold a NUL character (it answers ``DataError``), and
nothing in the directory or among the clients is named with one, so a NUL in
the address, the query or a form of the console is bad input: a 400 page,
exactly like the admin API's :func:`~authserver.admin_api.base.refuse_nul_in_path`
and ``Text`` fields, and the database never sees it. The login form is the
exception: its refusal is the form's own "Wrong e-mail or password."
(see :func:`has_nul` and :mod:`.views.auth`).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from . import bp

NUL_REFUSED = (
    "The address or the form holds a NUL character, which nothing here can be named with. "
    "Remove it and try again."
)


def has_nul(*values: str | None) -> bool:
    """Whether any of *values* holds a NUL character."""
    return any("\x00" in value for value in values if value)


def _pairs_have_nul(pairs: MultiDict[str, str]) -> bool:
    items: Iterable[tuple[str, str]] = pairs.items(multi=True)
    return any(has_nul(key, value) for key, value in items)


@bp.before_request
def refuse_nul() -> None:
    """400 for a NUL character in the path, the query or a form (but the login form's)."""
    if has_nul(request.path) or _pairs_have_nul(request.args):
        raise BadRequest(NUL_REFUSED)
    if request.endpoint != "console.login" and _pairs_have_nul(request.form):
        raise BadRequest(NUL_REFUSED)
