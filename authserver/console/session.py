"""Who is logged in to the console.

The Flask session (a signed cookie) holds the user's id, when they logged
in, and a fingerprint of their password hash: a new password from the
directory, or the user's removal, ends every session at once. Rights are
never cached in the session; each page asks the services, which read the
current directory, exactly as the admin API does.
"""
from __future__ import annotations

import functools
import hashlib
import time
from typing import Callable, TypeVar, cast
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from ..admin_api.base import request_id
from ..extensions import db
from ..models import User
from ..services.audit import AuditContext
from . import bp
from .security import SESSION_MAX_SECONDS

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


@bp.before_request
def _forget_user() -> None:
    """Each request finds its user (and CSRF token) anew: ``g`` lives as long
    as the application context, which may span requests (in tests).
    """
    for name in ("user", "console_return_to", "csrf_token"):
        g.pop(name, None)


def login(user: User) -> None:
    """Start a fresh session for *user* (nothing from before login survives)."""
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["fp"] = _fingerprint(user)
    session["since"] = int(time.time())


def logout() -> None:
    session.clear()


def current_user() -> User | None:
    """The logged-in user, or ``None`` (and the session is dropped) when the
    session is missing, too old, or no longer matches the directory.
    """
    if "user" in g:
        return cast("User | None", g.user)
    user: User | None = None
    uid = session.get("uid")
    if isinstance(uid, int) and time.time() - float(session.get("since", 0)) < SESSION_MAX_SECONDS:
        user = db.session.get(User, uid)
        if user is not None and (
            user.password_hash is None or session.get("fp") != _fingerprint(user)
        ):
            user = None
    if user is None and "uid" in session:
        session.clear()
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
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


def audit_context() -> AuditContext:
    """Who acts and from where, for the audit trail (DESIGN.md rule 8)."""
    user = require_user()
    return AuditContext(actor=user.email, remote_addr=request.remote_addr, request_id=request_id())
