"""Request and response schemas of the admin API (marshmallow), one module
per resource.

They validate what comes in (unknown fields are refused: no mass assignment)
and generate the OpenAPI document; the services check the business rules.
"""

from __future__ import annotations

from .assignments import (
    AdministratorAddSchema,
    AssignmentCreateSchema,
    AssignmentSchema,
    AssignmentUpdateSchema,
)
from .client_keys import (
    ClientKeyCreateSchema,
    ClientKeySchema,
    JwksUriSchema,
    JwksUriStateSchema,
    SecretAuthenticationSchema,
    SecretAuthenticationStateSchema,
)
from .clients import (
    AT_MOST_TWO_SECRETS,
    ClientCreatedSchema,
    ClientCreateSchema,
    ClientSchema,
    ClientUpdateSchema,
    RotatedSecretSchema,
    RotateSecretSchema,
    SecretSchema,
)
from .events import EventPageSchema, EventQuerySchema, EventSchema
from .export_failures import (
    ExportFailurePageSchema,
    ExportFailureQuerySchema,
    ExportFailureReportSchema,
    ExportFailureSchema,
)
from .fields import StrictBoolean, Text
from .people import (
    AdminTokenSchema,
    LoginSchema,
    MeSchema,
    MyOrganizationSchema,
    UserQuerySchema,
    UserSchema,
)
from .problems import FieldErrorSchema, ProblemSchema

__all__ = [
    "AT_MOST_TWO_SECRETS",
    "AdminTokenSchema",
    "AdministratorAddSchema",
    "AssignmentCreateSchema",
    "AssignmentSchema",
    "AssignmentUpdateSchema",
    "ClientCreateSchema",
    "ClientCreatedSchema",
    "ClientKeyCreateSchema",
    "ClientKeySchema",
    "ClientSchema",
    "ClientUpdateSchema",
    "EventPageSchema",
    "EventQuerySchema",
    "EventSchema",
    "ExportFailurePageSchema",
    "ExportFailureQuerySchema",
    "ExportFailureReportSchema",
    "ExportFailureSchema",
    "FieldErrorSchema",
    "JwksUriSchema",
    "JwksUriStateSchema",
    "LoginSchema",
    "MeSchema",
    "MyOrganizationSchema",
    "ProblemSchema",
    "RotateSecretSchema",
    "RotatedSecretSchema",
    "SecretAuthenticationSchema",
    "SecretAuthenticationStateSchema",
    "SecretSchema",
    "StrictBoolean",
    "Text",
    "UserQuerySchema",
    "UserSchema",
]
