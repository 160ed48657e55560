"""``/api/v1/clients`` and ``/api/v1/clients/{id}/secret`` (docs/rules.md, rules 1-3)."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask.views import MethodView

from ..models import Assignment, Client
from ..services import client_settings, clients, secret_rotation
from .base import PREFIX, Blueprint, audit_context, current_user
from .schemas import (
    ClientCreatedSchema,
    ClientCreateSchema,
    ClientSchema,
    ClientUpdateSchema,
    RotatedSecretSchema,
    RotateSecretSchema,
)

blp = Blueprint("clients", __name__, url_prefix=PREFIX + "/clients", description="API clients")


def assignment_body(assignment: Assignment) -> dict[str, Any]:
    return {
        "teccom_id": assignment.teccom_id,
        "name": assignment.organization.name,
        "enabled": assignment.enabled,
        "notification_emails": list(assignment.notification_emails),
        "created_at": assignment.created_at,
        "updated_at": assignment.updated_at,
    }


def client_body(client: Client) -> dict[str, Any]:
    """A client as the API shows it: never a secret or a hash."""
    current = [s for s in client.secrets if s.expires_at is None]
    previous = [s.expires_at for s in client.secrets if s.expires_at is not None]
    return {
        "client_id": client.client_id,
        "name": client.name,
        "description": client.description,
        "contacts": list(client.contacts),
        "access_token_lifetime": client.access_token_lifetime,
        "created_at": client.created_at,
        "secrets": [
            {"created_at": s.created_at, "expires_at": s.expires_at, "last_used_at": s.last_used_at}
            for s in sorted(client.secrets, key=lambda s: (s.expires_at is not None, -s.id))
        ],
        "secret_created_at": current[0].created_at if current else None,
        "previous_secret_expires_at": max(previous) if previous else None,
        "tokens_invalid_before": client.tokens_invalid_before,
        "secret_auth_enabled": client.secret_auth_enabled,
        "jwks_uri": client.jwks_uri,
        "organizations": [assignment_body(a) for a in client.organizations],
    }


@blp.route("")
class ClientList(MethodView):
    @blp.response(200, ClientSchema(many=True))
    @blp.refusals(401)
    def get(self) -> list[dict[str, Any]]:
        """The clients the caller administers."""
        return [client_body(c) for c in clients.list_clients(current_user())]

    @blp.arguments(ClientCreateSchema)
    @blp.response(201, ClientCreatedSchema)
    @blp.refusals(401, 403, 409, 415)
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create a client for an organization the caller administers
        (docs/rules.md, rule 1). The answer holds the secret, shown this once."""
        issued = clients.create_client(
            current_user(),
            body["teccom_id"],
            audit_context(),
            name=body.get("name"),
            description=body["description"],
            contacts=body["contacts"],
        )
        client = clients.get_client(current_user(), issued.client.client_id)
        location = url_for("clients.ClientItem", client_id=client.client_id)
        return (
            {**client_body(client), "client_secret": issued.client_secret},
            201,
            {"Location": location},
        )


@blp.route("/<client_id>")
class ClientItem(MethodView):
    @blp.response(200, ClientSchema)
    @blp.refusals(401, 404)
    def get(self, client_id: str) -> dict[str, Any]:
        """One client the caller administers (404 for any other)."""
        return client_body(clients.get_client(current_user(), client_id))

    @blp.arguments(ClientUpdateSchema)
    @blp.response(200, ClientSchema)
    @blp.refusals(401, 404, 415, 422)
    def patch(self, body: dict[str, Any], client_id: str) -> dict[str, Any]:
        """Change the client's name, description, technical contacts or
        access-token lifetime (audited as ``client.updated``); a field left
        out keeps its value."""
        user = current_user()
        client_settings.update_client(
            user,
            client_id,
            audit_context(),
            body,
            max_token_lifetime=int(current_app.config["MAX_TOKEN_LIFETIME"]),
        )
        return client_body(clients.get_client(user, client_id))

    @blp.response(204)
    @blp.refusals(401, 404)
    def delete(self, client_id: str) -> None:
        """Delete a client: its secret and its tokens stop working at once."""
        clients.delete_client(current_user(), client_id, audit_context())


@blp.route("/<client_id>/secret", methods=["POST"])
@blp.arguments(RotateSecretSchema, required=False)
@blp.response(200, RotatedSecretSchema)
@blp.refusals(401, 404, 415)
def rotate_secret(body: dict[str, Any], client_id: str) -> dict[str, Any]:
    """Rotate the secret (docs/rules.md, rule 3). The new secret is in the answer,
    shown this once; the previous one works until ``previous_secret_expires_at``
    (or stops at once without a grace period).

    At most two secrets are live: the new one and the one it replaces. A new
    rotation drops at once any older secret that is still in its grace period.
    """
    rotated = secret_rotation.rotate_secret(
        current_user(),
        client_id,
        audit_context(),
        grace_period_seconds=body["grace_period_seconds"],
        revoke_tokens=body["revoke_tokens"],
    )
    return {
        "client_id": client_id,
        "client_secret": rotated.client_secret,
        "previous_secret_expires_at": rotated.previous_expires_at,
        "tokens_revoked": body["revoke_tokens"],
    }
