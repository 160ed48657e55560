"""API clients: choose an organization, create a client, rotate its secret,
delete it.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...errors import OrganizationNotFound, ValidationError
from ...models import Client
from ...services import clients as clients_service
from ...services import secret_rotation
from .. import bp
from ..errors import return_to
from ..forms import ConfirmForm, CreateClientForm, RotateSecretForm
from ..login import audit_context, login_required, require_user


@bp.get("/clients")
@login_required
def clients() -> ResponseReturnValue:
    """Administration → API clients: the organizations the user administers,
    each with a Create client button or the client it is assigned to.
    """
    user = require_user()
    organizations = clients_service.my_organizations(user)
    administered = {client.client_id: client for client in clients_service.list_clients(user)}
    only = organizations[0][0].teccom_id if len(organizations) == 1 else None
    wanted = request.args.get("org") or only
    selected = next((entry for entry in organizations if entry[0].teccom_id == wanted), None)
    if wanted and selected is None:
        raise OrganizationNotFound(f"You are not an administrator of organization {wanted}.")
    return render_template(
        "console/clients.html",
        organizations=organizations,
        administered=administered,
        selected=selected,
    )


@bp.post("/clients")
@login_required
def create_client() -> ResponseReturnValue:
    """Create a client for an organization; show its secret once (docs/rules.md, rules 1-2)."""
    form = CreateClientForm()
    return_to(url_for("console.clients", org=form.teccom_id.data or None))
    if not form.validate():
        raise ValidationError("Choose an organization.", field="teccom_id")
    issued = clients_service.create_client(require_user(), form.teccom_id.data, audit_context())
    location = url_for("console.organizations", client_id=issued.client.client_id)
    body = render_template(
        "console/secret.html", client=issued.client, secret=issued.client_secret, created=True
    )
    return body, 201, {"Location": location}


def client_page(template: str, client: Client, tab: str, **context: Any) -> str:
    """Render a tab of the client page with its header dialogs (rotate, delete)."""
    context.setdefault("open_dialog", request.args.get("dialog"))
    return render_template(
        template,
        client=client,
        tab=tab,
        rotate_form=RotateSecretForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        **context,
    )


@bp.get("/clients/<client_id>")
@login_required
def client(client_id: str) -> ResponseReturnValue:
    clients_service.get_client(require_user(), client_id)
    return redirect(url_for("console.organizations", client_id=client_id), 303)


@bp.post("/clients/<client_id>/secret")
@login_required
def rotate_secret(client_id: str) -> ResponseReturnValue:
    """Rotate the secret with an optional grace period and token revocation
    (docs/rules.md, rule 3); show the new secret once.
    """
    user = require_user()
    return_to(url_for("console.organizations", client_id=client_id))
    form = RotateSecretForm()
    if not form.validate():
        clients_service.get_client(user, client_id)  # 404 before 422, as in the API
        raise ValidationError(
            "Choose one of the offered grace periods.", field="grace_period_seconds"
        )
    rotated = secret_rotation.rotate_secret(
        user,
        client_id,
        audit_context(),
        grace_period_seconds=form.grace_period_seconds.data,
        revoke_tokens=form.revoke_tokens.data,
    )
    return render_template(
        "console/secret.html",
        client=rotated.client,
        secret=rotated.client_secret,
        created=False,
        previous_expires_at=rotated.previous_expires_at,
        revoked=form.revoke_tokens.data,
    )


@bp.post("/clients/<client_id>/delete")
@login_required
def delete_client(client_id: str) -> ResponseReturnValue:
    return_to(url_for("console.organizations", client_id=client_id))
    clients_service.delete_client(require_user(), client_id, audit_context())
    flash(f"Client {client_id} was deleted: its secret and tokens no longer work.", "success")
    return redirect(url_for("console.clients"), 303)
