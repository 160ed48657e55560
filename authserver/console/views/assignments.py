"""The Organizations tab: assign, edit and remove organizations (docs/rules.md,
rule 4).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from wtforms.fields.choices import SelectChoice

from ...models import Client
from ...services import assignments as assignments_service
from ...services import clients as clients_service
from ...services import export_failures
from .. import bp
from ..errors import return_to
from ..forms import AssignmentForm, ConfirmForm, EditAssignmentForm, with_emails
from ..login import audit_context, login_required, require_user
from .clients import client_page


def _page(
    client: Client,
    *,
    add_form: AssignmentForm | None = None,
    edit_form: tuple[str, EditAssignmentForm] | None = None,
    open_dialog: str | None = None,
) -> str:
    user = require_user()
    assignments = assignments_service.list_assignments(user, client.client_id)
    if add_form is None:
        add_form = with_emails(AssignmentForm(formdata=None, prefix="add"), [])
    add_form.teccom_id.choices = [
        SelectChoice(o.teccom_id, f"{o.teccom_id} · {o.name}")
        for o in assignments_service.assignable_organizations(user)
    ]
    edit_forms = {
        a.teccom_id: with_emails(
            EditAssignmentForm(formdata=None, prefix=f"edit-{a.teccom_id}", enabled=a.enabled),
            list(a.notification_emails),
        )
        for a in assignments
    }
    if edit_form is not None:
        edit_forms[edit_form[0]] = edit_form[1]
    return client_page(
        "console/client/organizations.html",
        client,
        "organizations",
        assignments=assignments,
        last_failures=export_failures.last_failures(client.id),
        test_form=ConfirmForm(formdata=None),
        add_form=add_form,
        edit_forms=edit_forms,
        **({"open_dialog": open_dialog} if open_dialog else {}),
    )


@bp.get("/clients/<client_id>/organizations")
@login_required
def organizations(client_id: str) -> ResponseReturnValue:
    return _page(clients_service.get_client(require_user(), client_id))


@bp.post("/clients/<client_id>/organizations")
@login_required
def assign_organization(client_id: str) -> ResponseReturnValue:
    """+ Add TecCom ID → OK. "+ Add email" without JavaScript posts here too
    and gets the dialog back with one more e-mail field.
    """
    user = require_user()
    return_to(url_for("console.organizations", client_id=client_id))
    form = AssignmentForm(prefix="add")
    if "add_email" in request.form:
        form.add_blank_email()
        client = clients_service.get_client(user, client_id)
        return _page(client, add_form=form, open_dialog="add-organization")
    if not form.validate():
        client = clients_service.get_client(user, client_id)
        return _page(client, add_form=form, open_dialog="add-organization"), 422
    assignments_service.assign_organization(
        user,
        client_id,
        form.teccom_id.data,
        audit_context(),
        enabled=form.enabled.data,
        notification_emails=form.emails(),
    )
    flash(f"Organization {form.teccom_id.data} was added.", "success")
    return redirect(url_for("console.organizations", client_id=client_id), 303)


@bp.post("/clients/<client_id>/organizations/<teccom_id>")
@login_required
def update_organization(client_id: str, teccom_id: str) -> ResponseReturnValue:
    """The pencil: enabled switch and notification e-mails."""
    user = require_user()
    return_to(url_for("console.organizations", client_id=client_id))
    form = EditAssignmentForm(prefix=f"edit-{teccom_id}")
    dialog = f"edit-organization-{teccom_id}"
    if "add_email" in request.form:
        form.add_blank_email()
        client = clients_service.get_client(user, client_id)
        return _page(client, edit_form=(teccom_id, form), open_dialog=dialog)
    if not form.validate():
        client = clients_service.get_client(user, client_id)
        return _page(client, edit_form=(teccom_id, form), open_dialog=dialog), 422
    assignments_service.update_assignment(
        user,
        client_id,
        teccom_id,
        audit_context(),
        enabled=form.enabled.data,
        notification_emails=form.emails(),
    )
    flash(f"Organization {teccom_id} was saved.", "success")
    return redirect(url_for("console.organizations", client_id=client_id), 303)


@bp.post("/clients/<client_id>/organizations/<teccom_id>/delete")
@login_required
def unassign_organization(client_id: str, teccom_id: str) -> ResponseReturnValue:
    """The bin, after its confirmation dialog."""
    return_to(url_for("console.organizations", client_id=client_id))
    assignments_service.unassign_organization(require_user(), client_id, teccom_id, audit_context())
    flash(f"Organization {teccom_id} was removed from the client.", "success")
    return redirect(url_for("console.organizations", client_id=client_id), 303)


@bp.post("/clients/<client_id>/organizations/<teccom_id>/test-email")
@login_required
def send_test_email(client_id: str, teccom_id: str) -> ResponseReturnValue:
    """Send test e-mail: through the outbox, like a failed-export digest;
    at most one per assignment every few minutes."""
    return_to(url_for("console.organizations", client_id=client_id))
    sent = export_failures.send_test_mail(
        require_user(),
        client_id,
        teccom_id,
        audit_context(),
        interval_seconds=int(current_app.config["MAIL_TEST_INTERVAL"]),
    )
    flash(f"A test e-mail is on its way to {', '.join(sent)}.", "success")
    return redirect(url_for("console.organizations", client_id=client_id), 303)
