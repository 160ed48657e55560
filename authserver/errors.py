"""Domain errors: one root, one class per meaning (like Werkzeug's
``exceptions``). Services raise them; one app-level handler renders them as
``application/problem+json`` (RFC 9457).

Each class names its problem type with ``type_suffix`` and explains it in
``description``. The type URI is made at the HTTP edge, relative to the
issuer (``{issuer}/problems/{type_suffix}``, RFC 9457 §3.1.1), where a page
explains every type (:func:`problem_types`): services raise these errors
without an application, so they never build a URI themselves.
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
    #: what the problem type means and what to do about it (the type's page)
    description: str = "The request cannot be processed as it is."

    def __init__(
        self, detail: str | None = None, *, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field
        self.extra = extra


class ValidationError(AuthServerError):
    """A well-formed request with a value that is not acceptable.

    Every validation error lists each field at fault in ``errors``
    (``[{"field": ..., "message": ...}]``); by default the one *field* with
    the *detail*.
    """

    code = 422
    title = "Invalid value"
    type_suffix = "validation-error"
    description = (
        "The request is well-formed, but a value in it is not acceptable (missing, of the "
        "wrong type, out of range, or an unknown field). The errors member lists every "
        "field at fault, each with a message: correct them and send the request again."
    )

    def __init__(
        self,
        detail: str | None = None,
        *,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, field=field, **extra)
        self.errors = (
            errors if errors is not None else [{"field": field or "", "message": self.detail}]
        )


class InvalidDirectoryFile(ValidationError):
    """A directory file that cannot be imported; ``problems`` lists every
    location at fault (``line 3, column 7: ...`` or ``users[2].email: ...``).
    """

    title = "Invalid directory file"
    type_suffix = "invalid-directory-file"
    description = (
        "A directory file cannot be imported. Every location at fault is listed (a line and "
        "column for broken JSON, else a path such as users[2].email); nothing was changed. "
        "Correct the file and import it again."
    )

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Unauthorized(AuthServerError):
    code = 401
    title = "Authentication required"
    type_suffix = "unauthorized"
    description = (
        "The request needs an admin bearer token (RFC 6750) and has none, or one that is "
        "invalid or expired, or the e-mail and password of a login do not match. Log in at "
        "/api/v1/auth/login and send the token as Authorization: Bearer."
    )


class Forbidden(AuthServerError):
    code = 403
    title = "Forbidden"
    type_suffix = "forbidden"
    description = "You are authenticated, but you may not do this."


class NotInProduction(Forbidden):
    """An operation meant for development and demos only."""

    title = "Not available in production"
    type_suffix = "not-in-production"
    description = (
        "The operation is meant for development and demos only, and this server runs in production."
    )


class NotFound(AuthServerError):
    code = 404
    title = "Not found"
    type_suffix = "not-found"
    description = "Nothing is at this address, or it is not yours to see."


class Conflict(AuthServerError):
    code = 409
    title = "Conflict"
    type_suffix = "conflict"
    description = (
        "The change conflicts with the current state of the resource. Reload it and decide again."
    )


class NotOrganizationAdmin(Forbidden):
    title = "Not an administrator of the organization"
    type_suffix = "not-organization-admin"
    description = (
        "The change needs you to be an administrator of the organization in the portal "
        "directory, and you are not (or no such organization exists). Ask an administrator of "
        "the organization, or have the portal make you one."
    )


class NotClientAdministrator(Forbidden):
    """Only client administrators may look users up (docs/rules.md, rule 5)."""

    title = "Not a client administrator"
    type_suffix = "not-client-administrator"
    description = (
        "Only administrators of a client may do this (for example, look users up to add them "
        "as administrators)."
    )


class OrganizationAlreadyAssigned(Conflict):
    title = "Organization already assigned to a client"
    type_suffix = "organization-already-assigned"
    description = (
        "An organization belongs to at most one API client, and this one is already assigned "
        "to a client. Use that client, or have it unassigned first."
    )


class LastAdministrator(Conflict):
    title = "Last administrator"
    type_suffix = "last-administrator"
    description = (
        "A client always keeps at least one administrator: the last one cannot be removed. "
        "Add another administrator first."
    )


class AlreadyAdministrator(Conflict):
    title = "Already an administrator"
    type_suffix = "already-administrator"
    description = "The user is already an administrator of the client; nothing was changed."


class TooManyKeys(Conflict):
    title = "Too many keys"
    type_suffix = "too-many-keys"


class DuplicateKey(Conflict):
    title = "Key already registered"
    type_suffix = "duplicate-key"


class LastCredential(Conflict):
    """Secret authentication is off and this is the client's last key."""

    title = "Last credential"
    type_suffix = "last-credential"


class KeyNotFound(NotFound):
    title = "Key not found"
    type_suffix = "key-not-found"


class UserNotFound(NotFound):
    title = "User not found"
    type_suffix = "user-not-found"
    description = "No user with this e-mail address is in the portal directory."


class ClientNotFound(NotFound):
    title = "Client not found"
    type_suffix = "client-not-found"
    description = (
        "No such client, or you are not one of its administrators: the answer is the same, so "
        "that it never tells which clients exist."
    )


class AdministratorNotFound(NotFound):
    title = "Administrator not found"
    type_suffix = "administrator-not-found"
    description = "The user is not an administrator of the client."


class OrganizationNotFound(NotFound):
    title = "Organization not found"
    type_suffix = "organization-not-found"
    description = "The organization is not assigned to the client, or you do not administer it."


class TooManyRequests(AuthServerError):
    code = 429
    title = "Too many requests"
    type_suffix = "too-many-requests"
    description = (
        "Too many failed attempts in a short time. Wait for the number of seconds in the "
        "Retry-After header, then try again."
    )

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class MalformedRequest(AuthServerError):
    """The request body is not well-formed (e.g. broken JSON)."""

    code = 400
    title = "Malformed request"
    type_suffix = "malformed-request"
    description = "The request body is not well-formed JSON (RFC 8259). Send a JSON object."


class UnsupportedMediaType(AuthServerError):
    code = 415
    title = "Unsupported media type"
    type_suffix = "unsupported-media-type"
    description = "The request body must be sent as application/json."


def problem_types() -> dict[str, type[AuthServerError]]:
    """Every problem type, by ``type_suffix``: this module's classes and any
    subclass defined elsewhere (the first class to use a suffix names it).
    """
    found: dict[str, type[AuthServerError]] = {}
    pending: list[type[AuthServerError]] = [AuthServerError]
    while pending:
        cls = pending.pop(0)
        found.setdefault(cls.type_suffix, cls)
        pending.extend(cls.__subclasses__())
    return dict(sorted(found.items()))


class ReportConflict(Conflict):
    """A repeated failed-export report that differs from the first one."""

    title = "Report differs from the one already received"
    type_suffix = "report-conflict"
    description = (
        "A failed export with this client, organization and export id was reported before "
        "with another failed_at, reason or reason_code. A report is kept as first received: "
        "send a repeat unchanged, or report the new failure under a new export id."
    )


class GatewayUnauthorized(Unauthorized):
    """No or wrong gateway credentials (HTTP Basic, RFC 7617)."""

    title = "Gateway authentication required"
    type_suffix = "gateway-unauthorized"
    description = (
        "Failed exports are reported with the credentials of an API gateway (from "
        "'authserver gateways create NAME'), sent with HTTP Basic. None were sent, or they "
        "are wrong."
    )
    #: the ``WWW-Authenticate`` challenge of the answer (RFC 9110 §11.6.1)
    challenge = 'Basic realm="authserver-gateways", charset="UTF-8"'


class VerifierUnavailable(AuthServerError):
    """Every secret verification slot stayed busy (try again)."""

    code = 503
    title = "Service unavailable"
    type_suffix = "service-unavailable"
    description = "Too many credentials are being checked at once. Try again in a moment."


class NotAGateway(Forbidden):
    """Client credentials that are not those of an API gateway."""

    title = "Not a gateway"
    type_suffix = "not-a-gateway"
    description = (
        "These credentials are valid, but they are not an API gateway's: only the Export "
        "service, with gateway credentials, reports failed exports."
    )
