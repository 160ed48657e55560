"""Domain errors: one root, one class per meaning (like Werkzeug's
``exceptions``). Services raise them; one app-level handler renders them as
``application/problem+json`` (RFC 9457).
"""

from __future__ import annotations

from typing import Any

#: the media type of every admin API error (RFC 9457 §3)
PROBLEM_JSON = "application/problem+json"


class AuthServerError(Exception):
    """Root of every domain error.

    :param detail: a human-readable explanation of this occurrence.
    :param field: the request field at fault, for validation errors.
    """

    code: int = 400
    title: str = "Bad request"
    type_suffix: str = "bad-request"

    def __init__(
        self, detail: str | None = None, *, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field
        self.extra = extra

    @property
    def type(self) -> str:
        return f"https://authserver.dev/problems/{self.type_suffix}"


class ValidationError(AuthServerError):
    code = 422
    title = "Invalid value"
    type_suffix = "validation-error"


class InvalidDirectoryFile(ValidationError):
    """A directory file that cannot be imported; ``problems`` lists every
    location at fault (``line 3, column 7: ...`` or ``users[2].email: ...``).
    """

    title = "Invalid directory file"
    type_suffix = "invalid-directory-file"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Unauthorized(AuthServerError):
    code = 401
    title = "Authentication required"
    type_suffix = "unauthorized"


class Forbidden(AuthServerError):
    code = 403
    title = "Forbidden"
    type_suffix = "forbidden"


class NotInProduction(Forbidden):
    """An operation meant for development and demos only."""

    title = "Not available in production"
    type_suffix = "not-in-production"


class NotFound(AuthServerError):
    code = 404
    title = "Not found"
    type_suffix = "not-found"


class Conflict(AuthServerError):
    code = 409
    title = "Conflict"
    type_suffix = "conflict"


class NotOrganizationAdmin(Forbidden):
    title = "Not an administrator of the organization"
    type_suffix = "not-organization-admin"


class NotClientAdministrator(Forbidden):
    """Only client administrators may look users up (docs/rules.md, rule 5)."""

    title = "Not a client administrator"
    type_suffix = "not-client-administrator"


class OrganizationAlreadyAssigned(Conflict):
    title = "Organization already assigned to a client"
    type_suffix = "organization-already-assigned"


class LastAdministrator(Conflict):
    title = "Last administrator"
    type_suffix = "last-administrator"


class AlreadyAdministrator(Conflict):
    title = "Already an administrator"
    type_suffix = "already-administrator"


class UserNotFound(NotFound):
    title = "User not found"
    type_suffix = "user-not-found"


class ClientNotFound(NotFound):
    title = "Client not found"
    type_suffix = "client-not-found"


class AdministratorNotFound(NotFound):
    title = "Administrator not found"
    type_suffix = "administrator-not-found"


class OrganizationNotFound(NotFound):
    title = "Organization not found"
    type_suffix = "organization-not-found"


class TooManyRequests(AuthServerError):
    code = 429
    title = "Too many requests"
    type_suffix = "too-many-requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class MalformedRequest(AuthServerError):
    """The request body is not well-formed (e.g. broken JSON)."""

    code = 400
    title = "Malformed request"
    type_suffix = "malformed-request"


class UnsupportedMediaType(AuthServerError):
    code = 415
    title = "Unsupported media type"
    type_suffix = "unsupported-media-type"


class ReportConflict(Conflict):
    """A repeated failed-export report that differs from the first one."""

    title = "Report differs from the one already received"
    type_suffix = "report-conflict"


class GatewayUnauthorized(Unauthorized):
    """No or wrong gateway credentials (HTTP Basic, RFC 7617)."""

    title = "Gateway authentication required"
    type_suffix = "gateway-unauthorized"
    #: the ``WWW-Authenticate`` challenge of the answer (RFC 9110 §11.6.1)
    challenge = 'Basic realm="authserver-gateways", charset="UTF-8"'


class VerifierUnavailable(AuthServerError):
    """Every secret verification slot stayed busy (try again)."""

    code = 503
    title = "Service unavailable"
    type_suffix = "service-unavailable"


class NotAGateway(Forbidden):
    """Client credentials that are not those of an API gateway."""

    title = "Not a gateway"
    type_suffix = "not-a-gateway"
