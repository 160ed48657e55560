"""Liveness and readiness probes."""

from __future__ import annotations


def test_healthz(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_with_database(http):
    response = http.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
