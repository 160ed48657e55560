"""``POST /api/v1/auth/login``: an admin bearer token for e-mail and password."""

from __future__ import annotations

from typing import Any

from flask import request

from .base import PREFIX, Blueprint, admin_login
from .schemas import AdminTokenSchema, LoginSchema

blp = Blueprint(
    "auth",
    __name__,
    url_prefix=PREFIX + "/auth",
    public=True,
    description="Log in: an admin bearer token",
)


@blp.route("/login", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(LoginSchema)
@blp.refusals(401, 429)
@blp.response(200, AdminTokenSchema)
def login(body: dict[str, Any]) -> dict[str, Any]:
    """Log in with e-mail and password.

    A wrong e-mail and a wrong password answer the same (401). Repeated
    failures per e-mail or per address answer 429 with ``Retry-After``.
    """
    login = admin_login()
    user = login.authenticate(body["email"], body["password"], request.remote_addr)
    token, expires_in = login.issue_token(user)
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
