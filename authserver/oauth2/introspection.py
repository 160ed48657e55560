"""Token introspection (RFC 7662) on Authlib's endpoint.

The endpoint authenticates the caller (a partner client or a gateway) and
hands the token to :func:`authserver.services.tokens.introspect`, which holds
the rules.
"""

from __future__ import annotations

from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from ..services import tokens as token_service
from .requests import AUTH_METHODS, FormRequest


class IntrospectionEndpoint(_IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662 §2: the answer for the authenticated caller."""

    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def create_endpoint_response(
        self, request: FormRequest
    ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        client = self.authenticate_endpoint_client(request)
        body = token_service.introspect(
            request.form["token"],
            self.server.token_settings(),
            caller_id=client.client_id,
            caller_kind=client.kind,
        )
        return 200, body, default_json_headers
