"""Who is logged in to the console.

The Flask session (a signed cookie) holds only a random session handle
(and Flask-WTF's CSRF token); the session itself lives on the server
(:mod:`authserver.services.console_sessions`), so that logging out ends it
there: a copy of the cookie is worth nothing afterwards. A new password from
the directory, or the user's removal, ends every session at once. Rights
are never cached in the session; each page asks the services, which read
the current directory, exactly as the admin API does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar, cast
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from ..models import User
from ..request_id import request_id
from ..services import console_sessions
from ..services.admin_login import EXTENSION as ADMIN_LOGIN
from ..services.admin_login import AdminLogin
from ..services.audit import AuditContext
from . import bp

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

#: the key of the session handle in the Flask session
HANDLE = "sid"


@bp.before_request
def _forget_user() -> None:
    """Each request finds its user (and CSRF token) anew: ``g`` lives as long
    as the application context, which may span requests (in tests).
    """
    for name in ("user", "console_return_to", "csrf_token"):
        g.pop(name, None)


def login(user: User) -> None:
    """Start a fresh session for *user* (nothing from before login survives,
    and a session this browser had before ends on the server).
    """
    previous = session.get(HANDLE)
    session.clear()
    if previous is not None:
        console_sessions.end(previous)
    session.permanent = True
    session[HANDLE] = console_sessions.start(
        user,
        remote_addr=request.remote_addr,
        user_agent=request.user_agent.string,
    )


def logout() -> None:
    """End this browser's session: the cookie first (so that it is gone even
    if the database is down), then the session on the server.
    """
    handle = session.get(HANDLE)
    session.clear()
    g.user = None
    if handle is not None:
        console_sessions.end(handle)


def logout_everywhere() -> int:
    """End every session of the logged-in user, this one included (audited);
    how many ended.
    """
    ctx = audit_context()
    user = require_user()
    session.clear()
    g.user = None
    return console_sessions.end_all(user, ctx)


def current_user() -> User | None:
    """The logged-in user, or ``None`` (and the cookie is dropped) when the
    session is missing, has ended, or no longer matches the directory.
    """
    if "user" in g:
        return cast("User | None", g.user)
    user: User | None = None
    handle = session.get(HANDLE)
    if handle is not None:
        found = console_sessions.lookup(handle)
        if found is None:
            session.clear()
        else:
            user = found.user
            console_sessions.touch(found)
    g.user = user
    return user


def require_user() -> User:
    """The logged-in user; only for views behind :func:`login_required`."""
    user = current_user()
    assert user is not None
    return user


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page, and back here afterwards."""

    @functools.wraps(view)
    def wrapped(*args: object, **kwargs: object) -> ResponseReturnValue:
        if current_user() is None:
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for("console.login", next=safe_next(target)), 303)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def safe_next(target: str | None) -> str | None:
    """*target* if it is a path on this site, else ``None`` (no open redirect)."""
    if not target:
        return None
    target = target.rstrip("?")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or "\x00" in target
    ):
        return None
    return target


def audit_context() -> AuditContext:
    """Who acts and from where, for the audit trail (docs/rules.md, rule 8)."""
    user = require_user()
    return AuditContext(actor=user.email, remote_addr=request.remote_addr, request_id=request_id())


def admin_login() -> AdminLogin:
    """This app's admin login: the console checks e-mail and password, and
    throttles failures, exactly as the admin API does."""
    found: AdminLogin = current_app.extensions[ADMIN_LOGIN]
    return found
