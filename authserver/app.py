"""The application factory: configuration, extensions, blueprints, commands."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import credentials
from .config import load_config
from .extensions import db, migrate
from .mail import background as mail_background
from .oauth2 import token_wsgi

log = logging.getLogger(__name__)


class App(Flask):
    """Flask, with :meth:`ensure_sync` remembered per function.

    Flask asks :func:`inspect.iscoroutinefunction` about the view and every
    request hook on every request; the answer never changes for a function,
    and asking costs more than a dictionary lookup.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._sync[func]
        except KeyError:
            wrapped = super().ensure_sync(func)
            if len(self._sync) < _ENSURE_SYNC_CACHE:  # views and hooks: a fixed set
                self._sync[func] = wrapped
            return wrapped
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)


#: functions whose ensure_sync answer an app remembers
_ENSURE_SYNC_CACHE = 1024


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory.

    :param config: overrides applied after the defaults and the environment.
    :raises authserver.config.ConfigError: for an unusable or insecure configuration.
    """
    app = App("authserver", instance_path=os.environ.get("AUTHSERVER_INSTANCE_PATH") or None)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path, config))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _development_secret_key(app.instance_path)
    credentials.configure(app.config)
    # the token endpoint, in front of Flask's dispatch (inside the proxy fix)
    token_wsgi.install(app)
    if app.config["TRUSTED_PROXIES"]:
        # the client address of the audit trail and the throttles comes from
        # X-Forwarded-For only behind as many proxies as configured
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=app.config["TRUSTED_PROXIES"]
        )
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    mail_background.init_app(app)
    register_observability(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    from . import models  # noqa: F401  (every table known to Alembic)
    from .services import admin_login

    app.extensions[admin_login.EXTENSION] = admin_login.AdminLogin.from_config(app.config)


def register_blueprints(app: Flask) -> None:
    from . import admin_api, console, health
    from .oauth2 import endpoints

    app.register_blueprint(health.bp)
    endpoints.init_app(app)
    admin_api.init_app(app)
    console.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from . import error_handlers

    error_handlers.register(app)


def register_commands(app: Flask) -> None:
    from . import cli

    cli.register(app)


def register_observability(app: Flask) -> None:
    """Logs, the access log with the request id (wrapping everything above),
    metrics, and tracing when configured."""
    from . import observability
    from .observability import tracing, views

    observability.init_app(app)
    views.init_app(app)
    tracing.init_app(app)


def _development_secret_key(instance_path: str) -> str:
    """A random key kept in the instance folder, so that every worker of a
    development server shares it. Production must set ``AUTHSERVER_SECRET_KEY``
    (the configuration refuses to start otherwise).
    """
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key
    except OSError:
        log.warning("no instance folder for a secret key; using a per-process key")
        return secrets.token_urlsafe(48)
