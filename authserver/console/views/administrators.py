"""The Administrators and Activity tabs (docs/rules.md, rules 5 and 8)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...errors import UserNotFound, ValidationError
from ...models import User, normalize_email
from ...services import administrators as administrators_service
from ...services import clients as clients_service
from ...services import events as events_service
from .. import bp
from ..errors import return_to
from ..forms import AdministratorForm
from ..login import audit_context, login_required, require_user
from .clients import client_page


@bp.get("/clients/<client_id>/administrators")
@login_required
def administrators(client_id: str) -> ResponseReturnValue:
    """The list, and the + Add user dialog whose Search is a GET of this page."""
    user = require_user()
    client = clients_service.get_client(user, client_id)
    search_email = request.args.get("email", "").strip()[:320]
    found: User | None = None
    if search_email and request.args.get("dialog") == "add-administrator":
        try:
            found = administrators_service.look_up_user(user, search_email)
        except UserNotFound:
            found = None  # the dialog says "user not found"
    return client_page(
        "console/client/administrators.html",
        client,
        "administrators",
        administrators=administrators_service.list_administrators(user, client_id),
        search_email=search_email,
        found=found,
    )


@bp.post("/clients/<client_id>/administrators")
@login_required
def add_administrator(client_id: str) -> ResponseReturnValue:
    user = require_user()
    return_to(url_for("console.administrators", client_id=client_id))
    form = AdministratorForm()
    if not form.validate():
        clients_service.get_client(user, client_id)
        raise ValidationError("Search for a user by e-mail first.", field="email")
    administrators_service.add_administrator(user, client_id, form.email.data, audit_context())
    flash(f"{normalize_email(form.email.data)} is now an administrator of this client.", "success")
    return redirect(url_for("console.administrators", client_id=client_id), 303)


@bp.post("/clients/<client_id>/administrators/remove")
@login_required
def remove_administrator(client_id: str) -> ResponseReturnValue:
    """The bin, after its confirmation; the last administrator stays (rule 5)."""
    user = require_user()
    return_to(url_for("console.administrators", client_id=client_id))
    form = AdministratorForm()
    if not form.validate():
        clients_service.get_client(user, client_id)
        raise ValidationError("Choose an administrator to remove.", field="email")
    email = normalize_email(form.email.data)
    administrators_service.remove_administrator(user, client_id, email, audit_context())
    if email == user.email:
        flash(f"You are no longer an administrator of client {client_id}.", "success")
        return redirect(url_for("console.clients"), 303)
    flash(f"{email} is no longer an administrator of this client.", "success")
    return redirect(url_for("console.administrators", client_id=client_id), 303)


@bp.get("/clients/<client_id>/activity")
@login_required
def activity(client_id: str) -> ResponseReturnValue:
    """The client's audit trail, newest first, a page at a time."""
    user = require_user()
    client = clients_service.get_client(user, client_id)
    before = request.args.get("before", type=int)
    page = events_service.list_events(user, client_id, limit=50, before=before)
    return client_page(
        "console/client/activity.html",
        client,
        "activity",
        events=page.events,
        next_before=page.next_before,
    )
