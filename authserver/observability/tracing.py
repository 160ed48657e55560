"""Optional OpenTelemetry tracing of requests (Flask) and queries (SQLAlchemy),
off unless ``AUTHSERVER_TRACING=otlp``; needs ``pip install authserver[otel]``.

Spans go to an OTLP/HTTP collector configured the standard way
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_SERVICE_NAME``…). A request span never holds a secret: the values of
sensitive query parameters are replaced as in the access log
(:func:`~.access_log.redact_query`), headers are not recorded, and query spans
carry the SQL with its placeholders, never the parameters. (OpenTelemetry's
SQLAlchemy instrumentation is one per process: the first app's engine.)
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..config import ConfigError
from ..extensions import db
from .access_log import redact_query

#: request-span attributes that may hold the query string
_URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.query")
#: probes and scrapes are not traced
EXCLUDED_URLS = "healthz,readyz,metrics"


def _redact(value: str) -> str:
    base, sep, query = value.partition("?")
    if not sep:
        return redact_query(value) if "=" in value else value
    return f"{base}?{redact_query(query)}"


def redact_span(span: Any, *hook_arguments: Any) -> None:
    """No query value a secret may be in: Flask instrumentation's response
    hook (the request hook runs before the instrumentation sets the URL)."""
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            span.set_attribute(name, _redact(value))


def init_app(app: Flask, exporter: Any = None) -> None:
    """Trace *app* when ``TRACING`` is ``otlp`` (or with *exporter*: tests)."""
    if app.config.get("TRACING", "off") == "off" and exporter is None:
        return
    try:
        from opentelemetry.instrumentation.flask import FlaskInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise ConfigError(
            "AUTHSERVER_TRACING=otlp needs the OpenTelemetry packages: "
            "pip install 'authserver[otel]'"
        ) from None
    provider = TracerProvider(resource=Resource.create({"service.name": "authserver"}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    FlaskInstrumentor().instrument_app(  # type: ignore[no-untyped-call]
        app,
        response_hook=redact_span,
        tracer_provider=provider,
        excluded_urls=EXCLUDED_URLS,
        enable_commenter=False,
    )
    with app.app_context():
        SQLAlchemyInstrumentor().instrument(
            engine=db.engine, tracer_provider=provider, enable_commenter=False
        )
    app.extensions["authserver.tracer_provider"] = provider
