"""The JWK Set is cacheable (RFC 9111 §5.2.2.1) while no new key can be signing."""

from __future__ import annotations

import pytest
from conftest import make_config


@pytest.fixture(
    params=[(600, "public, max-age=300"), (0, "no-store")], ids=["delay-600", "delay-0"]
)
def activation(request):
    return request.param


@pytest.fixture
def app_config(database_url, tmp_path, activation):
    return make_config(database_url, tmp_path, KEY_ACTIVATION_DELAY=activation[0])


def test_jwks_cache_control_follows_the_activation_delay(http, activation):
    response = http.get("/oauth2/jwks")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == activation[1]
    assert len(response.get_json()["keys"]) == 1


def test_metadata_and_errors_stay_no_store(http, activation):
    metadata = http.get("/.well-known/oauth-authorization-server")
    assert metadata.headers["Cache-Control"] == "no-store"
    refused = http.post("/oauth2/jwks")
    assert refused.status_code == 405
    assert refused.headers["Cache-Control"] == "no-store"
