"""Failed exports: ``POST /api/v1/export-failures`` (the Export service, with
API gateway credentials) and ``GET /api/v1/clients/{id}/export-failures``
(client administrators).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, g, request

from ..errors import GatewayUnauthorized, NotAGateway, TooManyRequests, VerifierUnavailable
from ..models import KIND_GATEWAY, ExportFailure
from ..oauth2.client_auth import AuthenticationFailed, TooManyFailures, VerifierBusy
from ..oauth2.endpoints import server
from ..oauth2.errors import InvalidClient
from ..oauth2.requests import _parse_basic
from ..request_id import request_id
from ..services import export_failures
from ..services.audit import AuditContext
from .base import Blueprint, current_user
from .schemas import (
    ExportFailurePageSchema,
    ExportFailureQuerySchema,
    ExportFailureReportSchema,
    ExportFailureSchema,
)

reports = Blueprint(
    "export_failure_reports",
    __name__,
    url_prefix="/api/v1/export-failures",
    description="Failed exports, reported by the Export service with API gateway credentials",
    public=True,
)
blp = Blueprint(
    "export_failures",
    __name__,
    url_prefix="/api/v1/clients/<client_id>/export-failures",
    description="Failed exports of a client's organizations",
)

#: the security scheme of the report endpoint in the OpenAPI document
GATEWAY_BASIC = "gatewayBasic"


def require_gateway() -> None:
    """Authenticate API gateway credentials (HTTP Basic, RFC 7617) with the
    token endpoint's verifier: the same argon2 check, verified-credential
    cache and failure throttle (RFC 6749 §2.3.1).
    """
    header = request.headers.get("Authorization", "")
    if not header:
        raise GatewayUnauthorized("Send the credentials of an API gateway with HTTP Basic.")
    try:
        client_id, secret = _parse_basic(header)
    except InvalidClient:
        raise GatewayUnauthorized(
            "Send the credentials of an API gateway with HTTP Basic."
        ) from None
    oauth = server()
    try:
        record = oauth.verifier.authenticate(
            oauth.query_client_record, client_id, secret, request.remote_addr
        )
    except AuthenticationFailed:
        raise GatewayUnauthorized("Unknown gateway or wrong secret.") from None
    except TooManyFailures as error:
        raise TooManyRequests(
            "Too many failed authentications; try again later.", retry_after=error.retry_after
        ) from None
    except VerifierBusy:
        raise VerifierUnavailable("Too busy to check credentials; try again.") from None
    if record.kind != KIND_GATEWAY:
        raise NotAGateway("Only the credentials of an API gateway may report failed exports.")
    g.gateway_id = record.client_id


# authentication first: 401 before 415 or 422
reports.before_request_funcs.setdefault(None, []).insert(0, require_gateway)


def failure_body(failure: ExportFailure, client_id: str) -> dict[str, Any]:
    """A report as the API shows it; the same for every repeat of it."""
    return {
        "id": failure.id,
        "client_id": client_id,
        "organization": failure.teccom_id,
        "export_id": failure.export_id,
        "failed_at": failure.failed_at,
        "reason": failure.reason,
        "reason_code": failure.reason_code,
        "received_at": failure.received_at,
        "notified": failure.batch is not None,
    }


@reports.route("", methods=["POST"])
@reports.arguments(ExportFailureReportSchema)
@reports.response(202, ExportFailureSchema)
@reports.alt_response(200, schema=ExportFailureSchema, description="A repeat of a report")
@reports.refusals(401, 403, 409, 415, 422, 429)
@reports.doc(security=[{GATEWAY_BASIC: []}])
def report(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Report a failed export: 202 the first time, 200 with the same body for
    a repeat (idempotent on ``client_id``, ``organization``, ``export_id``),
    409 for a repeat that differs. The organization's notification addresses
    get a digest mail (failures within the digest window are listed in one);
    nothing is sent during the request."""
    config = current_app.config
    ctx = AuditContext(
        actor=f"gateway:{g.gateway_id}", remote_addr=request.remote_addr, request_id=request_id()
    )
    result = export_failures.report_failure(
        g.gateway_id,
        client_id=body["client_id"],
        teccom_id=body["organization"],
        export_id=body["export_id"],
        failed_at=body["failed_at"],
        reason=body["reason"],
        reason_code=body.get("reason_code"),
        ctx=ctx,
        policy=export_failures.DigestPolicy(
            window_seconds=int(config["MAIL_DIGEST_WINDOW"]),
            daily_cap=int(config["MAIL_DAILY_CAP"]),
        ),
    )
    return failure_body(result.failure, body["client_id"]), 202 if result.created else 200


@blp.route("", methods=["GET"])
@blp.arguments(ExportFailureQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, ExportFailurePageSchema)
@blp.refusals(401, 404)
def list_failures(query: dict[str, Any], client_id: str) -> dict[str, Any]:
    """Failed-export reports of the client's organizations, newest first, a
    page at a time: pass ``next_before`` as ``before`` for the next page."""
    page = export_failures.list_failures(
        current_user(), client_id, limit=query["limit"], before=query.get("before")
    )
    return {
        "export_failures": [failure_body(f, client_id) for f in page.failures],
        "next_before": page.next_before,
    }
