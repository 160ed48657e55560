"""Liveness and readiness probes."""

from __future__ import annotations

import os

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness: the process answers."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness: the database answers (503 when it does not), and the
    instance is not draining (503 after SIGTERM: see :mod:`authserver.serving`)."""
    drain_file = current_app.config.get("DRAIN_FILE")
    if drain_file and os.path.exists(drain_file):
        return jsonify(status="draining", detail="the instance is shutting down"), 503
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", detail="database unreachable"), 503
    return jsonify(status="ok")
