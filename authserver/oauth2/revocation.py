"""Token revocation (RFC 7009) on Authlib's endpoint.

The endpoint authenticates the caller and hands the token to
:func:`authserver.services.tokens.revoke`, which holds the rules and records
the revocation with its audit event. ``token_type_hint`` is ignored (§2.1:
only access tokens exist here).
"""

from __future__ import annotations

from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint

from ..request_id import request_id
from ..services import audit
from ..services import tokens as token_service
from .errors import RevocationRefused
from .requests import AUTH_METHODS, FormRequest


class RevocationEndpoint(_RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009 §2: revoke the caller's own token; 200 with an empty body."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def create_endpoint_response(
        self, request: FormRequest
    ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        client = self.authenticate_endpoint_client(request)
        ctx = audit.AuditContext(
            actor=f"client:{client.client_id}",
            remote_addr=request.remote_addr,
            request_id=request_id(),
        )
        try:
            token_service.revoke(
                request.form["token"],
                self.server.token_settings(),
                ctx,
                caller_id=client.client_id,
                caller_kind=client.kind,
            )
        except token_service.RevocationNotAllowed:
            raise RevocationRefused() from None
        return 200, {}, default_json_headers
