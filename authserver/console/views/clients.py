"""API clients: choose an organization, create a client, rotate its secret,
delete it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms.fields.choices import SelectChoice

from ...errors import OrganizationNotFound, ValidationError
from ...models import Client
from ...services import client_settings, secret_rotation
from ...services import clients as clients_service
from .. import bp
from ..errors import return_to
from ..filters import duration
from ..forms import (
    TOKEN_LIFETIMES,
    ClientSettingsForm,
    ConfirmForm,
    CreateClientForm,
    RotateSecretForm,
)
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
        if form.teccom_id.errors:
            raise ValidationError("Choose an organization.", field="teccom_id")
        raise ValidationError("The client name may have at most 100 characters.", field="name")
    issued = clients_service.create_client(
        require_user(), form.teccom_id.data, audit_context(), name=form.name.data or None
    )
    location = url_for("console.organizations", client_id=issued.client.client_id)
    body = render_template(
        "console/secret.html", client=issued.client, secret=issued.client_secret, created=True
    )
    return body, 201, {"Location": location}


def _lifetime_choices() -> list[SelectChoice]:
    """The lifetimes a client may have: the server's default, or one up to its maximum."""
    default = int(current_app.config["TOKEN_LIFETIME"])
    longest = int(current_app.config["MAX_TOKEN_LIFETIME"])
    return [SelectChoice("", f"Server default ({duration(default)})")] + [
        SelectChoice(str(seconds), duration(seconds))
        for seconds in TOKEN_LIFETIMES
        if seconds <= longest
    ]


def settings_form(client: Client, formdata: Any = None) -> ClientSettingsForm:
    form = ClientSettingsForm(
        formdata=formdata,
        name=client.name,
        description=client.description,
        contacts="\n".join(client.contacts),
        access_token_lifetime=str(client.access_token_lifetime or ""),
    )
    form.access_token_lifetime.choices = _lifetime_choices()
    return form


def client_page(template: str, client: Client, tab: str, **context: Any) -> str:
    """Render a tab of the client page with its header dialogs (edit, rotate, delete)."""
    context.setdefault("open_dialog", request.args.get("dialog"))
    return render_template(
        template,
        client=client,
        tab=tab,
        settings_form=settings_form(client),
        rotate_form=RotateSecretForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        **context,
    )


@bp.post("/clients/<client_id>/settings")
@login_required
def update_client(client_id: str) -> ResponseReturnValue:
    """Edit client: name, description, technical contacts, token lifetime (audited)."""
    user = require_user()
    return_to(url_for("console.organizations", client_id=client_id, dialog="edit-client"))
    client = clients_service.get_client(user, client_id)  # 404 before 422
    form = settings_form(client, formdata=request.form)
    if not form.validate():
        field, messages = next(iter(form.errors.items()))
        label = getattr(form, field).label.text if hasattr(form, field) else field
        raise ValidationError(f"{label}: {' '.join(map(str, messages))}", field=field)
    client_settings.update_client(
        user,
        client_id,
        audit_context(),
        {
            "name": form.name.data,
            "description": form.description.data or "",
            "contacts": form.contact_list(),
            "access_token_lifetime": form.lifetime(),
        },
        max_token_lifetime=int(current_app.config["MAX_TOKEN_LIFETIME"]),
    )
    flash("The client was saved.", "success")
    return redirect(url_for("console.organizations", client_id=client_id), 303)


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
