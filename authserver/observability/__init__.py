"""Watching the server run: structured logs, an access log written by the
app itself, request ids, and Prometheus metrics.

Everything here is wired by :func:`init_app`, so that it is the same whatever
WSGI server runs the app: the server's own access log stays off.
"""

from __future__ import annotations

from flask import Flask

from . import access_log, audit_log, logs


def init_app(app: Flask) -> None:
    """Configure logging, wrap the app in the access log, hook the audit log."""
    logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    audit_log.install()
    access_log.init_app(app)
