"""Behind a configured reverse proxy, the audit trail keeps the caller's address."""

from __future__ import annotations

import pytest

from authserver.extensions import db
from authserver.models import AuditEvent


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TRUSTED_PROXIES": 1}


def test_the_address_the_trusted_proxy_saw_is_recorded(http, directory, login):
    directory.user("anna@example.com", admin_of=("400100",))
    anna = login("anna@example.com")
    response = http.post(
        "/api/v1/clients",
        json={"teccom_id": "400100"},
        headers={**anna, "X-Forwarded-For": "198.51.100.1, 203.0.113.50"},
    )
    assert response.status_code == 201
    assert db.session.execute(db.select(AuditEvent.remote_addr)).scalar_one() == "203.0.113.50"
