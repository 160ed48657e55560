"""``GET /metrics``: behind a bearer token, in the Prometheus text format
(parsed with prometheus-client's own parser), with bounded labels."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from conftest import Directory, make_config
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from support.oauth import Creds, partner, token_request
from support.server import Server
from werkzeug.test import TestResponse

from authserver.observability import metrics

from .conftest import METRICS_TOKEN


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "METRICS_TOKEN": METRICS_TOKEN, "AUTH_FAILURE_LIMIT": "3/minute"}


def scrape(http: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def status(response: TestResponse) -> int:
    """The status, once the answer has been sent (the latency is observed then)."""
    response.close()
    return response.status_code


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_no_token_configured_means_no_metrics_endpoint(app: Flask) -> None:
    app.config["METRICS_TOKEN"] = None
    response = app.test_client().get("/metrics")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token-xxxxxxxxxxxx", f"Basic {METRICS_TOKEN}"]
)
def test_metrics_need_the_bearer_token(http: FlaskClient, header: str | None) -> None:
    response = http.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_token_results_argon2_and_cache_are_counted(http: FlaskClient, app: Flask) -> None:
    with app.app_context():
        creds = partner(Directory(), "400100")
    before = scrape(http)
    for _ in range(2):
        assert status(token_request(http, creds)) == 200  # argon2 once, then the cache
    assert status(token_request(http, creds, scope="org:999999")) == 400
    wrong = Creds(creds.client_id, "wrong-secret")
    for _ in range(3):
        assert status(token_request(http, wrong)) == 401
    assert status(token_request(http, wrong)) == 429
    after = scrape(http)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("authserver_token_requests_total", result="issued") == 2
    assert delta("authserver_token_requests_total", result="invalid_scope") == 1
    assert delta("authserver_token_requests_total", result="invalid_client") == 3
    assert delta("authserver_token_requests_total", result="throttled") == 1
    assert delta("authserver_argon2_verifications_total", result="match") == 1
    assert delta("authserver_argon2_verifications_total", result="mismatch") == 3
    assert delta("authserver_credential_cache_hits_total") == 2  # the second token, invalid_scope
    latency = ("authserver_http_request_duration_seconds_count",)
    assert delta(*latency, endpoint="/oauth2/token", method="POST", status="200") == 2, sorted(
        k for k in after if k[0] == latency[0]
    )
    assert value(after, "authserver_signing_key_age_seconds", **{}) >= 0
    labels = {k for (_, pairs) in after for (k, _) in pairs}
    assert labels.isdisjoint({"client_id", "email", "user", "sub"})
    assert creds.client_id not in http.get(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    ).get_data(as_text=True)


def test_failed_logins_are_counted(http: FlaskClient, app: Flask) -> None:
    with app.app_context():
        Directory().user("anna@example.com", password="right-password-123")
    before = value(scrape(http), "authserver_login_failures_total")
    response = http.post("/api/v1/auth/login", json={"email": "anna@example.com", "password": "no"})
    assert response.status_code == 401
    assert value(scrape(http), "authserver_login_failures_total") - before == 1


def test_a_gauge_source_is_read_at_each_scrape(http: FlaskClient) -> None:
    depth = iter([3.0, None])
    metrics.add_gauge_source(metrics.OUTBOX_DEPTH, "Messages waiting.", lambda: next(depth))
    try:
        assert value(scrape(http), metrics.OUTBOX_DEPTH) == 3.0
        assert (metrics.OUTBOX_DEPTH, ()) not in scrape(http)
    finally:
        metrics.remove_gauge_source(metrics.OUTBOX_DEPTH)


@pytest.mark.e2e
def test_the_real_server_adds_up_its_workers(server: Server, demo: dict[str, str]) -> None:
    """Two gunicorn workers, one scrape: PROMETHEUS_MULTIPROC_DIR set by ``authserver serve``."""
    auth = (demo["client_id"], demo["client_secret"])
    with requests.Session() as session:
        before = samples(
            session.get(
                server.url + "/metrics",
                headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                timeout=10,
            ).text
        )
        for _ in range(20):  # new connections: both workers answer some
            response = requests.post(
                server.url + "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=auth,
                timeout=10,
            )
            assert response.status_code == 200
        scraped = session.get(
            server.url + "/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=10,
        )
    assert scraped.status_code == 200
    after = samples(scraped.text)
    issued = value(after, "authserver_token_requests_total", result="issued")
    assert issued - value(before, "authserver_token_requests_total", result="issued") == 20
    assert value(after, "authserver_signing_key_age_seconds") >= 0


def test_database_errors_are_counted_and_the_scrape_needs_no_database(tmp_path, monkeypatch):
    from authserver import create_app

    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    down = create_app(
        make_config(
            "postgresql://postgres@127.0.0.1:1/unreachable", tmp_path, METRICS_TOKEN=METRICS_TOKEN
        )
    ).test_client()
    before = scrape(down)
    answer = down.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "cl_x", "client_secret": "s"},
    )
    assert status(answer) == 503
    after = scrape(down)
    assert (
        value(after, "authserver_token_requests_total", result="unavailable")
        - value(before, "authserver_token_requests_total", result="unavailable")
        == 1
    )
    errors = sum(v for (name, _), v in after.items() if name == "authserver_database_errors_total")
    errors -= sum(
        v for (name, _), v in before.items() if name == "authserver_database_errors_total"
    )
    assert errors == 1
    assert ("authserver_signing_key_age_seconds", ()) not in after  # unknown: not exported
