"""The client credentials grant (RFC 6749 §4.4).

    The client can request an access token using only its client
    credentials (or other supported means of authentication) when the
    client is requesting access to the protected resources under its
    control, or those of another resource owner that have been previously
    arranged with the authorization server (the method of which is beyond
    the scope of this specification).

    The client credentials grant type MUST only be used by confidential
    clients.

    -- RFC 6749 §4.4

The request (§4.4.2) has ``grant_type=client_credentials`` and an optional
``scope`` (§3.3: space-delimited, case-sensitive values). This server's scope
vocabulary (docs/rules.md, "The token"):

* ``export``, ``subscription``: the two APIs;
* ``org:<TecCom ID>``: narrow the token to some of the client's enabled
  organizations.

An omitted API part means both APIs; an omitted organization part means every
enabled organization. Anything else (``template`` included), or an organization
that is not assigned to the client and enabled, is ``invalid_scope``; so is a
request from a client that has no enabled organization at all. Gateways never
get a token (``unauthorized_client``). The response (§4.4.3, §5.1) lists what
was granted in ``scope``; no refresh token is issued.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError, UnauthorizedClientError

from ..models.organization import is_teccom_id
from ..oauth2.requests import AUTH_METHODS
from ..tokens import API_SCOPES, ORG_SCOPE_PREFIX, format_scope

#: RFC 6749 §3.3 scope-token characters: %x21 / %x23-5B / %x5D-7E
_SCOPE_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - {'"', "\\"}


class NoEnabledOrganization(InvalidScopeError):  # type: ignore[misc]
    description = "The client has no enabled organization."


class UnknownScope(InvalidScopeError):  # type: ignore[misc]
    description = "The requested scope is invalid, unknown, or malformed."


class OrganizationNotGranted(InvalidScopeError):  # type: ignore[misc]
    description = "A requested organization is not assigned to the client or not enabled."


class TemplateScope(InvalidScopeError):  # type: ignore[misc]
    description = "The Template API is not available to clients of this server."


class GatewayClient(UnauthorizedClientError):  # type: ignore[misc]
    description = "Gateway credentials cannot obtain access tokens."


def resolve_scope(requested: str | None, organizations: Sequence[str]) -> str:
    """The granted scope string for a request, per the rules in the module docstring.

    :param requested: the raw ``scope`` parameter (``None`` or empty: everything).
    :param organizations: the client's enabled organizations.
    :raises InvalidScopeError: one of the refusals above.
    """
    # the directory refuses malformed TecCom IDs; one written around it must
    # still never reach a scope string, where a space would name another
    organizations = [teccom_id for teccom_id in organizations if is_teccom_id(teccom_id)]
    if not organizations:
        raise NoEnabledOrganization()
    apis: set[str] = set()
    wanted: set[str] = set()
    for value in (requested or "").split(" "):
        if not value:
            continue  # runs of spaces: tolerated
        if not _SCOPE_CHARS.issuperset(value):
            raise UnknownScope()
        if value in API_SCOPES:
            apis.add(value)
        elif value == "template":
            raise TemplateScope()
        elif value.startswith(ORG_SCOPE_PREFIX) and len(value) > len(ORG_SCOPE_PREFIX):
            wanted.add(value.removeprefix(ORG_SCOPE_PREFIX))
        else:
            raise UnknownScope()
    if not wanted.issubset(organizations):
        raise OrganizationNotGranted()
    return format_scope(sorted(apis) or API_SCOPES, sorted(wanted) or organizations)


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    """RFC 6749 §4.4 with this server's client authentication and scope rules."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def validate_token_request(self) -> None:
        """Authenticate the client (§4.4.2: "The authorization server MUST
        authenticate the client"), refuse gateways, and resolve the scope.
        """
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise GatewayClient()
        self.request.client = client
        self.request.scope = resolve_scope(self.request.payload.scope, client.organizations)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """§4.4.3: an access token, no refresh token; ``scope`` is what was granted."""
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
