"""``GET /api/v1/me`` and ``GET /api/v1/users?email=`` (docs/rules.md, rule 5)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..models import User
from ..services import administrators, clients
from .base import PREFIX, Blueprint, current_user
from .schemas import MeSchema, UserQuerySchema, UserSchema

blp = Blueprint("users", __name__, url_prefix=PREFIX, description="The caller, and users by e-mail")


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
@blp.refusals(401)
def me() -> dict[str, Any]:
    """The caller and the organizations they administer, each with the
    client it is assigned to (or null)."""
    user = current_user()
    return {
        **_user(user),
        "organizations": [
            {"teccom_id": o.teccom_id, "name": o.name, "kind": o.kind, "client_id": client_id}
            for o, client_id in clients.my_organizations(user)
        ],
    }


@blp.route("/users", methods=["GET"])
@blp.arguments(UserQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, UserSchema)
@blp.refusals(401, 403, 404)
def find_user(query: dict[str, Any]) -> dict[str, Any]:
    """Look a user up by e-mail (to add them as an administrator). Only for
    callers who administer a client (403 otherwise); 404 "user not found"."""
    return _user(administrators.look_up_user(current_user(), query["email"]))


def _user(user: User) -> dict[str, Any]:
    return {"email": user.email, "first_name": user.first_name, "last_name": user.last_name}
