"""``GET /metrics`` (Prometheus text format), behind a bearer token.

The endpoint exists only when ``AUTHSERVER_METRICS_TOKEN`` is set (404
otherwise: nothing about the server's internals is public by default); the
scraper sends ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..errors import NotFound, Unauthorized
from ..extensions import db
from ..models import SigningKey
from ..models._base import utcnow
from . import metrics

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape() -> Response:
    """The metrics of every worker of this instance."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        raise NotFound("The requested URL was not found on the server.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), str(token).encode()
    ):
        raise Unauthorized("A bearer token for the metrics endpoint is required.")
    body, content_type = metrics.exposition()
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


def _count_token_response(response: Response) -> Response:
    rule = request.url_rule
    if rule is not None and rule.rule == "/oauth2/token":
        error = None
        if response.status_code != 200 and response.mimetype == "application/json":
            try:
                error = json.loads(response.get_data()).get("error")
            except (ValueError, AttributeError):
                error = None
        metrics.TOKEN_REQUESTS.labels(metrics.token_result(response.status_code, error)).inc()
    return response


def signing_key_age() -> float | None:
    """Seconds since the signing key activated (the newest activated key)."""
    now = utcnow()
    try:
        activated: datetime | None = db.session.execute(
            select(func.max(SigningKey.activates_at)).where(SigningKey.activates_at <= now)
        ).scalar_one()
    except SQLAlchemyError:
        db.session.rollback()
        return None
    if activated is None:
        return None
    if activated.tzinfo is None:
        activated = activated.replace(tzinfo=now.tzinfo)
    return (now - activated).total_seconds()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(_count_token_response)
    metrics.add_gauge_source(
        metrics.SIGNING_KEY_AGE, "Seconds since the signing key in use activated.", signing_key_age
    )
