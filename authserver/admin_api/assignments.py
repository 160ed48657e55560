"""``/api/v1/clients/{id}/organizations`` (docs/rules.md, rule 4)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from ..services import assignments
from .base import PREFIX, Blueprint, audit_context, current_user
from .clients import assignment_body
from .schemas import AssignmentCreateSchema, AssignmentSchema, AssignmentUpdateSchema

blp = Blueprint(
    "assignments",
    __name__,
    url_prefix=PREFIX + "/clients/<client_id>/organizations",
    description="Organizations assigned to a client",
)


@blp.route("")
class AssignmentList(MethodView):
    @blp.response(200, AssignmentSchema(many=True))
    @blp.refusals(401, 404)
    def get(self, client_id: str) -> list[dict[str, Any]]:
        """The organizations assigned to the client."""
        return [assignment_body(a) for a in assignments.list_assignments(current_user(), client_id)]

    @blp.arguments(AssignmentCreateSchema)
    @blp.response(201, AssignmentSchema)
    @blp.refusals(401, 403, 404, 409, 415)
    def post(
        self, body: dict[str, Any], client_id: str
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Assign an organization: the caller must administer it too, and it
        must not be assigned to any client (409)."""
        assignment = assignments.assign_organization(
            current_user(),
            client_id,
            body["teccom_id"],
            audit_context(),
            enabled=body["enabled"],
            notification_emails=body["notification_emails"],
        )
        location = url_for(
            "assignments.AssignmentItem", client_id=client_id, teccom_id=assignment.teccom_id
        )
        return assignment_body(assignment), 201, {"Location": location}


@blp.route("/<teccom_id>")
class AssignmentItem(MethodView):
    @blp.arguments(AssignmentUpdateSchema)
    @blp.response(200, AssignmentSchema)
    @blp.refusals(401, 403, 404, 415)
    def patch(self, body: dict[str, Any], client_id: str, teccom_id: str) -> dict[str, Any]:
        """Enable or disable the organization, or replace its notification e-mails."""
        assignment = assignments.update_assignment(
            current_user(),
            client_id,
            teccom_id,
            audit_context(),
            enabled=body.get("enabled"),
            notification_emails=body.get("notification_emails"),
        )
        return assignment_body(assignment)

    @blp.response(204)
    @blp.refusals(401, 403, 404)
    def delete(self, client_id: str, teccom_id: str) -> None:
        """Unassign the organization: it is in no token from now on."""
        assignments.unassign_organization(current_user(), client_id, teccom_id, audit_context())
