"""``/api/v1/clients/{id}/administrators`` (docs/rules.md, rule 5)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from ..services import administrators
from .base import PREFIX, Blueprint, audit_context, current_user
from .schemas import AdministratorAddSchema, UserSchema
from .users import _user

blp = Blueprint(
    "administrators",
    __name__,
    url_prefix=PREFIX + "/clients/<client_id>/administrators",
    description="Administrators of a client",
)


@blp.route("")
class AdministratorList(MethodView):
    @blp.response(200, UserSchema(many=True))
    @blp.refusals(401, 404)
    def get(self, client_id: str) -> list[dict[str, Any]]:
        """The administrators of the client."""
        return [_user(u) for u in administrators.list_administrators(current_user(), client_id)]

    @blp.arguments(AdministratorAddSchema)
    @blp.response(201, UserSchema)
    @blp.refusals(401, 404, 409, 415)
    def post(self, body: dict[str, Any], client_id: str) -> tuple[dict[str, Any], int]:
        """Add a user (looked up by e-mail) as administrator."""
        user = administrators.add_administrator(
            current_user(), client_id, body["email"], audit_context()
        )
        return _user(user), 201


@blp.route("/<email>", methods=["DELETE"])
@blp.response(204)
@blp.refusals(401, 404, 409)
def remove_administrator(client_id: str, email: str) -> None:
    """Remove an administrator (possibly the caller). The last one cannot be
    removed (409): add another administrator first."""
    administrators.remove_administrator(current_user(), client_id, email, audit_context())
