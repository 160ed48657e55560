"""The admin console in the browser.

Server-rendered pages for organization administrators, on top of the same
services as the admin API (so the same rights and rules apply), with a
little JavaScript for dialogs and copying. Everything is served from this
package: no asset comes from the internet and there is no build step.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


def init_app(app: Flask) -> None:
    """Configure sessions, CSRF and headers for the console, then register it at ``/``."""
    # routes and hooks on ``bp``
    from . import errors, filters, inputs, security, views  # noqa: F401

    security.configure(app)
    filters.register(app)
    app.register_blueprint(bp)
