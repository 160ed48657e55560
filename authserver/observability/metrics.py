"""Prometheus metrics (``prometheus-client``), served at ``GET /metrics``.

The counters and histograms are module-level, shared by every app of the
process. Under a multi-process server, set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty directory shared by the workers (``authserver serve`` does): each worker
then writes its values to files there and a scrape adds them up.

Labels are bounded sets (an endpoint's URL rule, a method, a status, a result
code); never a client id or an e-mail. Values read at scrape time (the age of
the signing key, the depth of an outbox) come from *gauge sources*: functions
registered with :func:`add_gauge_source`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

TOKEN_REQUESTS = Counter(
    "authserver_token_requests",
    "Token requests (RFC 6749 §4.4) by result: issued or the §5.2 error code, "
    "throttled (429), unavailable (503).",
    ["result"],
)
ARGON2_VERIFICATIONS = Counter(
    "authserver_argon2_verifications",
    "argon2id verifications of client secrets, by result (match, mismatch, dummy).",
    ["result"],
)
ARGON2_BUDGET_REFUSALS = Counter(
    "authserver_argon2_budget_refusals",
    "Client authentications refused (429) before hashing because the argon2 "
    "failure budget was spent, by client id kind (unknown, known).",
    ["client"],
)
CREDENTIAL_CACHE_HITS = Counter(
    "authserver_credential_cache_hits",
    "Client authentications answered from the verified-credential cache (no argon2).",
)
LOGIN_FAILURES = Counter(
    "authserver_login_failures", "Failed logins of people (admin API and console)."
)
DATABASE_ERRORS = Counter(
    "authserver_database_errors",
    "Requests answered 503 because the database failed, by error type.",
    ["error"],
)
REQUEST_LATENCY = Histogram(
    "authserver_http_request_duration_seconds",
    "Time from receiving a request to sending the last byte of its answer.",
    ["endpoint", "method", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

#: the token endpoint's results that are counted under their own name
TOKEN_RESULTS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)

#: the name of the outbox-depth gauge (a notification outbox registers its source)
OUTBOX_DEPTH = "authserver_outbox_depth"
SIGNING_KEY_AGE = "authserver_signing_key_age_seconds"

GaugeSource = Callable[[], float | None]
_gauge_sources: dict[str, tuple[str, GaugeSource]] = {}


def add_gauge_source(name: str, documentation: str, source: GaugeSource) -> None:
    """Export *name* with the value *source* returns at each scrape (``None``:
    not exported this time). Registering a name again replaces its source."""
    _gauge_sources[name] = (documentation, source)


def remove_gauge_source(name: str) -> None:
    """Stop exporting *name*."""
    _gauge_sources.pop(name, None)


def token_result(status: int, error: str | None) -> str:
    """The ``result`` label of a token response."""
    if status == 200:
        return "issued"
    if status == 429:
        return "throttled"
    if status == 503:
        return "unavailable"
    return error if error in TOKEN_RESULTS else "other"


def observe_request(endpoint: str, method: str, status: str, seconds: float) -> None:
    REQUEST_LATENCY.labels(endpoint, method, status).observe(seconds)


class _ScrapeTimeGauges(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, (documentation, source) in sorted(_gauge_sources.items()):
            value = source()
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=value)


def exposition() -> tuple[bytes, str]:
    """The current metrics in the Prometheus text format, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Delegate())
    registry.register(_ScrapeTimeGauges())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Delegate(Collector):
    """This process's own metrics (single-process servers)."""

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        yield from REGISTRY.collect()
