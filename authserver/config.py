"""Configuration: defaults, ``AUTHSERVER_*`` environment variables, and the
refusal of an insecure production configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .keys.material import ALGORITHMS


class ConfigError(RuntimeError):
    """The configuration is unusable or unsafe; the message says why."""


#: environment variable -> (config key, parser)
_ENV: dict[str, tuple[str, Any]] = {
    "AUTHSERVER_ENV": ("ENV", str),
    "AUTHSERVER_DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "AUTHSERVER_ISSUER": ("ISSUER", str),
    "AUTHSERVER_SECRET_KEY": ("SECRET_KEY", str),
    "AUTHSERVER_AUDIENCE": ("AUDIENCE", str),
    "AUTHSERVER_TOKEN_LIFETIME": ("TOKEN_LIFETIME", int),
    "AUTHSERVER_KEY_ENCRYPTION_KEY": ("KEY_ENCRYPTION_KEY", str),
    "AUTHSERVER_REDIS_URL": ("REDIS_URL", str),
    "AUTHSERVER_SIGNING_ALG": ("SIGNING_ALG", str),
    "AUTHSERVER_KEY_ACTIVATION_DELAY": ("KEY_ACTIVATION_DELAY", int),
    "AUTHSERVER_KEY_CACHE_SECONDS": ("KEY_CACHE_SECONDS", int),
    "AUTHSERVER_ARGON2_TIME_COST": ("ARGON2_TIME_COST", int),
    "AUTHSERVER_ARGON2_MEMORY_COST": ("ARGON2_MEMORY_COST", int),
    "AUTHSERVER_ARGON2_PARALLELISM": ("ARGON2_PARALLELISM", int),
    "AUTHSERVER_ADMIN_TOKEN_LIFETIME": ("ADMIN_TOKEN_LIFETIME", int),
    "AUTHSERVER_LOGIN_FAILURE_LIMIT": ("LOGIN_FAILURE_LIMIT", str),
    "AUTHSERVER_AUTH_FAILURE_LIMIT": ("AUTH_FAILURE_LIMIT", str),
    "AUTHSERVER_TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "AUTHSERVER_SMTP_URL": ("SMTP_URL", str),
    "AUTHSERVER_MAIL_FROM": ("MAIL_FROM", str),
    "AUTHSERVER_MAIL_DIGEST_WINDOW": ("MAIL_DIGEST_WINDOW", int),
    "AUTHSERVER_MAIL_DAILY_CAP": ("MAIL_DAILY_CAP", int),
    "AUTHSERVER_MAIL_LEASE_SECONDS": ("MAIL_LEASE_SECONDS", int),
    "AUTHSERVER_JWKS_URI_TIMEOUT": ("JWKS_URI_TIMEOUT", float),
    "AUTHSERVER_JWKS_URI_MAX_BYTES": ("JWKS_URI_MAX_BYTES", int),
    "AUTHSERVER_JWKS_URI_ALLOW_LOCAL": (
        "JWKS_URI_ALLOW_LOCAL",
        lambda v: v.lower() in {"1", "true", "yes", "on"},
    ),
    "AUTHSERVER_ARGON2_FAILURE_BUDGET": ("ARGON2_FAILURE_BUDGET", str),
    "AUTHSERVER_TARPIT_SECONDS": ("TARPIT_SECONDS", float),
    "AUTHSERVER_TARPIT_SLOTS": ("TARPIT_SLOTS", int),
    "AUTHSERVER_TRACING": ("TRACING", str),
    "AUTHSERVER_LOG_FORMAT": ("LOG_FORMAT", str),
    "AUTHSERVER_LOG_LEVEL": ("LOG_LEVEL", str),
    "AUTHSERVER_METRICS_TOKEN": ("METRICS_TOKEN", str),
    "AUTHSERVER_DRAIN_SECONDS": ("DRAIN_SECONDS", float),
    "AUTHSERVER_DRAIN_FILE": ("DRAIN_FILE", str),
    "AUTHSERVER_ARGON2_BUDGET_FILE": ("ARGON2_BUDGET_FILE", str),
    "AUTHSERVER_DEBUG": ("DEBUG", lambda v: v.lower() in {"1", "true", "yes", "on"}),
}

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "DEBUG": False,
    "ISSUER": "http://127.0.0.1:8000",
    "AUDIENCE": "export-subscription-api",
    "TOKEN_LIFETIME": 300,
    "MAX_TOKEN_LIFETIME": 3600,
    "SIGNING_ALG": "ES256",
    #: seconds between ``keys rotate`` publishing a key and signing with it
    "KEY_ACTIVATION_DELAY": 600,
    #: seconds a process keeps its view of the signing keys
    "KEY_CACHE_SECONDS": 30,
    "KEY_ENCRYPTION_KEY": None,
    "REDIS_URL": None,
    #: argon2id parameters (OWASP: m=19 MiB, t=2, p=1)
    "ARGON2_TIME_COST": 2,
    "ARGON2_MEMORY_COST": 19456,
    "ARGON2_PARALLELISM": 1,
    #: argon2 verifications running at once in one process
    "ARGON2_MAX_CONCURRENT": 2,
    #: failed argon2 verifications (all clients, all addresses) past which only
    #: known clients within their own failure count are verified (429 for others)
    "ARGON2_FAILURE_BUDGET": "1 per 2 seconds",
    #: seconds a served worker holds a 429 for failed client authentications
    #: before sending it, and how many it holds at once (authserver.gate.Tarpit)
    "TARPIT_SECONDS": 1.0,
    "TARPIT_SLOTS": 32,
    #: failed client authentications before 429 (per client id / per address)
    "AUTH_FAILURE_LIMIT": "10/minute",
    #: failed admin logins before 429 (per e-mail / per address)
    "LOGIN_FAILURE_LIMIT": "10/minute",
    #: seconds an admin API bearer token (from /api/v1/auth/login) is valid
    "ADMIN_TOKEN_LIFETIME": 900,
    #: reverse proxies in front of the server whose X-Forwarded-For is
    #: trusted (0: use the peer address, ignore the header)
    "TRUSTED_PROXIES": 0,
    #: mail (see authserver.mail): unset SMTP URL writes .eml files to MAIL_DIR
    "SMTP_URL": None,
    "MAIL_FROM": "authserver <noreply@localhost>",
    #: default: the folder ``mail`` in the instance folder
    "MAIL_DIR": None,
    #: seconds during which failed exports of one assignment join one digest
    "MAIL_DIGEST_WINDOW": 900,
    #: failed-export digests per assignment and UTC day
    "MAIL_DAILY_CAP": 10,
    #: first retry delay in seconds (doubled per attempt, at most an hour)
    "MAIL_RETRY_SECONDS": 30,
    "MAIL_MAX_ATTEMPTS": 10,
    #: seconds a worker holds the mails it claimed
    "MAIL_LEASE_SECONDS": 300,
    #: seconds between two test mails of one assignment
    "MAIL_TEST_INTERVAL": 300,
    #: fetching a client's jwks_uri (private_key_jwt): seconds to connect and to read
    "JWKS_URI_TIMEOUT": 3.0,
    #: the largest key set accepted from a jwks_uri, bytes
    "JWKS_URI_MAX_BYTES": 64 * 1024,
    #: allow http and loopback/private jwks_uri addresses (None: only outside production)
    "JWKS_URI_ALLOW_LOCAL": None,
    #: ``text`` (development) or ``json`` (one JSON object per line)
    "LOG_FORMAT": "text",
    "LOG_LEVEL": "INFO",
    #: ``off`` or ``otlp`` (OpenTelemetry, ``pip install authserver[otel]``)
    "TRACING": "off",
    #: bearer token of ``GET /metrics``; unset: no metrics endpoint (404)
    "METRICS_TOKEN": None,
    #: seconds ``/readyz`` answers 503 after SIGTERM before ``authserver serve`` stops the server
    "DRAIN_SECONDS": 5.0,
    #: set by ``authserver serve``: while this file exists, ``/readyz`` answers 503
    "DRAIN_FILE": None,
    #: set by ``authserver serve``: the file its workers count the argon2 failure budget in
    "ARGON2_BUDGET_FILE": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    #: bytes; larger request bodies are refused before any work
    "MAX_CONTENT_LENGTH": 16 * 1024,
    "JSON_SORT_KEYS": False,
}

_INSECURE_SECRET_KEYS = {"", "secret", "dev", "development", "changeme", "change-me"}


def load_config(instance_path: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, the environment and *overrides* (in that order).

    :raises ConfigError: when the result is unusable or, in production, unsafe.
    """
    config: dict[str, Any] = dict(DEFAULTS)
    for name, (key, parse) in _ENV.items():
        raw = os.environ.get(name)
        if raw is not None and raw != "":
            try:
                config[key] = parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from None
    if overrides:
        config.update(overrides)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        path = Path(instance_path) / "authserver.sqlite3"
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.setdefault("connect_args", {"timeout": 30})
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if config["JWKS_URI_ALLOW_LOCAL"] is None:
        config["JWKS_URI_ALLOW_LOCAL"] = config["ENV"] != "production"
    validate_config(config)
    return config


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def validate_config(config: Mapping[str, Any]) -> None:
    """Refuse values that cannot work, and an insecure production setup."""
    lifetime = config["TOKEN_LIFETIME"]
    if not isinstance(lifetime, int) or not 1 <= lifetime <= config["MAX_TOKEN_LIFETIME"]:
        limit = config["MAX_TOKEN_LIFETIME"]
        raise ConfigError(f"AUTHSERVER_TOKEN_LIFETIME must be between 1 and {limit} seconds")
    admin_lifetime = config["ADMIN_TOKEN_LIFETIME"]
    if not isinstance(admin_lifetime, int) or not 60 <= admin_lifetime <= 12 * 3600:
        raise ConfigError("AUTHSERVER_ADMIN_TOKEN_LIFETIME must be between 60 and 43200 seconds")
    proxies = config["TRUSTED_PROXIES"]
    if not isinstance(proxies, int) or not 0 <= proxies <= 5:
        raise ConfigError("AUTHSERVER_TRUSTED_PROXIES must be a number of proxies from 0 to 5")
    if config["LOG_FORMAT"] not in {"text", "json"}:
        raise ConfigError("AUTHSERVER_LOG_FORMAT must be text or json")
    if str(config["LOG_LEVEL"]).upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("AUTHSERVER_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    if config["TRACING"] not in {"off", "otlp"}:
        raise ConfigError("AUTHSERVER_TRACING must be off or otlp")
    token = config.get("METRICS_TOKEN")
    if token is not None and len(str(token)) < 16:
        raise ConfigError("AUTHSERVER_METRICS_TOKEN must be at least 16 characters")
    drain = config["DRAIN_SECONDS"]
    if not isinstance(drain, (int, float)) or not 0 <= drain <= 300:
        raise ConfigError("AUTHSERVER_DRAIN_SECONDS must be between 0 and 300 seconds")
    if config["SIGNING_ALG"] not in ALGORITHMS:
        raise ConfigError("AUTHSERVER_SIGNING_ALG must be ES256, RS256 or EdDSA")
    _validate_mail(config)
    if config["ENV"] not in {"development", "production", "testing"}:
        raise ConfigError("AUTHSERVER_ENV must be development, production or testing")
    if config["ENV"] == "production":
        problems = []
        if (
            str(config.get("SECRET_KEY") or "") in _INSECURE_SECRET_KEYS
            or len(str(config.get("SECRET_KEY") or "")) < 32
        ):
            problems.append("AUTHSERVER_SECRET_KEY must be set to at least 32 random characters")
        if config.get("DEBUG"):
            problems.append("debug mode must be off (unset AUTHSERVER_DEBUG)")
        if config.get("JWKS_URI_ALLOW_LOCAL"):
            problems.append("AUTHSERVER_JWKS_URI_ALLOW_LOCAL must be off")
        if "AUTHSERVER_ISSUER" not in os.environ and config["ISSUER"] == DEFAULTS["ISSUER"]:
            problems.append("AUTHSERVER_ISSUER must be set to the public base URL")
        elif not str(config["ISSUER"]).startswith("https://"):
            problems.append("AUTHSERVER_ISSUER must be an https:// URL in production")
        if problems:
            raise ConfigError(
                "refusing to start an insecure production configuration: " + "; ".join(problems)
            )


def _validate_mail(config: Mapping[str, Any]) -> None:
    from .mail.smtp_url import parse_smtp_url, validate_sender

    if config.get("SMTP_URL"):
        try:
            parse_smtp_url(str(config["SMTP_URL"]))
        except ValueError as error:
            raise ConfigError(f"AUTHSERVER_SMTP_URL: {error}") from None
    try:
        validate_sender(str(config["MAIL_FROM"]))
    except ValueError as error:
        raise ConfigError(f"AUTHSERVER_MAIL_FROM: {error}") from None
    window = config["MAIL_DIGEST_WINDOW"]
    if not isinstance(window, int) or not 0 <= window <= 86400:
        raise ConfigError("AUTHSERVER_MAIL_DIGEST_WINDOW must be between 0 and 86400 seconds")
    cap = config["MAIL_DAILY_CAP"]
    if not isinstance(cap, int) or not 1 <= cap <= 1000:
        raise ConfigError("AUTHSERVER_MAIL_DAILY_CAP must be between 1 and 1000 digests a day")
    lease = config["MAIL_LEASE_SECONDS"]
    if not isinstance(lease, int) or not 1 <= lease <= 3600:
        raise ConfigError("AUTHSERVER_MAIL_LEASE_SECONDS must be between 1 and 3600 seconds")
