"""The Credentials tab: public keys for ``private_key_jwt`` (paste a JWK or a
PEM public key with a label; list; remove), the client's ``jwks_uri`` (set,
replace, remove) and the switch that turns secret authentication off for a
client that uses keys only."""

from __future__ import annotations

import json

from flask import current_app, flash, redirect, url_for
from flask.typing import ResponseReturnValue

from ...errors import ValidationError
from ...public_keys import load_verifier
from ...services import client_keys
from ...services import clients as clients_service
from .. import bp
from ..errors import return_to
from ..forms import (
    ClientKeyForm,
    JwksUriForm,
    RemoveKeyForm,
    SecretAuthenticationForm,
)
from ..login import audit_context, login_required, require_user
from .clients import client_page


@bp.get("/clients/<client_id>/credentials")
@login_required
def credentials(client_id: str) -> ResponseReturnValue:
    user = require_user()
    client = clients_service.get_client(user, client_id)
    keys = client_keys.list_keys(user, client_id)
    return client_page(
        "console/client/credentials.html",
        client,
        "credentials",
        keys=[
            (key, ", ".join(load_verifier(json.loads(key.public_jwk)).algorithms)) for key in keys
        ],
        max_keys=client_keys.MAX_KEYS,
        key_form=ClientKeyForm(formdata=None),
        remove_form=RemoveKeyForm(formdata=None),
        switch_form=SecretAuthenticationForm(formdata=None),
        jwks_uri_form=JwksUriForm(formdata=None, jwks_uri=client.jwks_uri),
    )


@bp.post("/clients/<client_id>/credentials/keys")
@login_required
def add_key(client_id: str) -> ResponseReturnValue:
    user = require_user()
    return_to(url_for("console.credentials", client_id=client_id))
    form = ClientKeyForm()
    if not form.validate():
        clients_service.get_client(user, client_id)
        field = "key" if form.key.errors else "label"
        raise ValidationError(next(iter(form.errors.get(field) or ["Invalid form."])), field=field)
    key = client_keys.add_key(
        user, client_id, audit_context(), key=form.key.data, label=form.label.data or ""
    )
    flash(f"Key {key.label or key.kid} added: the client may sign with it now.", "success")
    return redirect(url_for("console.credentials", client_id=client_id), 303)


@bp.post("/clients/<client_id>/credentials/keys/remove")
@login_required
def remove_key(client_id: str) -> ResponseReturnValue:
    user = require_user()
    return_to(url_for("console.credentials", client_id=client_id))
    form = RemoveKeyForm()
    if not form.validate():
        clients_service.get_client(user, client_id)
        raise ValidationError("Choose a key to remove.", field="thumbprint")
    client_keys.remove_key(user, client_id, form.thumbprint.data, audit_context())
    flash("Key removed: assertions signed with it are refused from now on.", "success")
    return redirect(url_for("console.credentials", client_id=client_id), 303)


@bp.post("/clients/<client_id>/credentials/secret-authentication")
@login_required
def secret_authentication(client_id: str) -> ResponseReturnValue:
    user = require_user()
    return_to(url_for("console.credentials", client_id=client_id))
    form = SecretAuthenticationForm()
    if not form.validate():
        clients_service.get_client(user, client_id)
        raise ValidationError("Choose on or off.", field="enabled")
    enabled = form.enabled.data == "on"
    client_keys.set_secret_authentication(user, client_id, audit_context(), enabled=enabled)
    flash(
        "Secret authentication is on."
        if enabled
        else "Secret authentication is off: the client authenticates with its keys only.",
        "success",
    )
    return redirect(url_for("console.credentials", client_id=client_id), 303)


@bp.post("/clients/<client_id>/credentials/jwks-uri")
@login_required
def set_jwks_uri(client_id: str) -> ResponseReturnValue:
    user = require_user()
    return_to(url_for("console.credentials", client_id=client_id))
    form = JwksUriForm()
    if not form.validate():
        clients_service.get_client(user, client_id)
        raise ValidationError(
            next(iter(form.errors.get("jwks_uri") or ["Invalid form."])), field="jwks_uri"
        )
    client = client_keys.set_jwks_uri(
        user,
        client_id,
        audit_context(),
        form.jwks_uri.data,
        allow_local=bool(current_app.config["JWKS_URI_ALLOW_LOCAL"]),
    )
    flash(f"Key set URL saved: the keys are fetched from {client.jwks_uri}.", "success")
    return redirect(url_for("console.credentials", client_id=client_id), 303)


@bp.post("/clients/<client_id>/credentials/jwks-uri/remove")
@login_required
def remove_jwks_uri(client_id: str) -> ResponseReturnValue:
    return_to(url_for("console.credentials", client_id=client_id))
    client_keys.set_jwks_uri(require_user(), client_id, audit_context(), None)
    flash("Key set URL removed: keys published there are refused from now on.", "success")
    return redirect(url_for("console.credentials", client_id=client_id), 303)
