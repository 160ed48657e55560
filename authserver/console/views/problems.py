"""The problem types of the admin API, explained (RFC 9457 §3.1.1).

Every ``application/problem+json`` answer names its kind of problem with a
``type`` URI of this deployment, ``{issuer}/problems/{type}``; that URI is
this page, which says what the problem means and what to do about it. No
login is needed and the database is not asked (not even who is logged in):
the page holds nothing but documentation, and answers during an outage too.
"""

from __future__ import annotations

from flask import abort, g, render_template
from flask.typing import ResponseReturnValue

from ...errors import problem_types
from .. import bp


@bp.get("/problems/")
def problems() -> ResponseReturnValue:
    """Every problem type, with its status and explanation."""
    g.user = None  # documentation: the header does not ask who is logged in
    return render_template("console/problems.html", types=problem_types(), selected=None)


@bp.get("/problems/<type_suffix>")
def problem(type_suffix: str) -> ResponseReturnValue:
    """One problem type (404 for a type that does not exist)."""
    g.user = None  # documentation: the header does not ask who is logged in
    types = problem_types()
    if type_suffix not in types:
        abort(404)
    return render_template("console/problems.html", types=types, selected=type_suffix)
