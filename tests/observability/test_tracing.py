"""Optional OpenTelemetry tracing: off by default; when on, a span per request
and per query, and no secret in any span attribute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from support.oauth import partner, token_request

from authserver.config import ConfigError, load_config
from authserver.observability import tracing


def test_tracing_is_off_unless_configured(app: Flask) -> None:
    assert "authserver.tracer_provider" not in app.extensions


def test_an_unknown_tracing_mode_is_refused(tmp_path) -> None:
    with pytest.raises(ConfigError, match="AUTHSERVER_TRACING must be off or otlp"):
        load_config(str(tmp_path), {"TRACING": "jaeger"})


@pytest.fixture
def exporter(app: Flask) -> Iterator[InMemorySpanExporter]:
    """Tracing on for this app; the SQLAlchemy instrumentation (one per
    process) is undone afterwards, so the next app's engine gets its own."""
    exporter = InMemorySpanExporter()
    tracing.init_app(app, exporter=exporter)
    yield exporter
    SQLAlchemyInstrumentor().uninstrument()


def test_requests_and_queries_are_traced_without_secrets(
    app: Flask, directory, exporter: InMemorySpanExporter
) -> None:
    creds = partner(directory, "400100")
    http = app.test_client()
    response = token_request(http, creds)
    assert response.status_code == 200
    http.get("/api/v1/me?access_token=s3cr3t-in-query&page=2").close()
    http.get("/healthz").close()
    spans = exporter.get_finished_spans()
    names = [span.name for span in spans]
    assert "POST /oauth2/token" in names
    assert "GET /api/v1/me" in names
    assert not any("healthz" in name for name in names)
    assert any(span.attributes.get("db.system") for span in spans), names  # a query span
    dumped = repr([(span.name, dict(span.attributes or {})) for span in spans])
    assert "s3cr3t-in-query" not in dumped
    assert creds.client_secret not in dumped
    assert "access_token=[REDACTED]" in dumped or "access_token=%5BREDACTED%5D" in dumped
