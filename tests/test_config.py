"""Configuration: defaults, environment, and refusing insecure production setups."""

from __future__ import annotations

import pytest

from authserver import create_app
from authserver.config import DEFAULTS, ConfigError, load_config


def test_defaults_follow_design(tmp_path):
    config = load_config(str(tmp_path), {})
    assert config["AUDIENCE"] == "export-subscription-api"
    assert config["TOKEN_LIFETIME"] == 300
    assert config["ISSUER"] == "http://127.0.0.1:8000"
    assert config["SIGNING_ALG"] == "ES256"
    assert (
        config["ARGON2_MEMORY_COST"],
        config["ARGON2_TIME_COST"],
        config["ARGON2_PARALLELISM"],
    ) == (19456, 2, 1)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'authserver.sqlite3'}"


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_AUDIENCE", "other-api")
    monkeypatch.setenv("AUTHSERVER_TOKEN_LIFETIME", "600")
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", "postgresql://u@h/db")
    config = load_config(str(tmp_path))
    assert config["AUDIENCE"] == "other-api"
    assert config["TOKEN_LIFETIME"] == 600
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_key_cache_seconds_from_environment(tmp_path, monkeypatch):
    assert load_config(str(tmp_path))["KEY_CACHE_SECONDS"] == 30
    monkeypatch.setenv("AUTHSERVER_KEY_CACHE_SECONDS", "1")
    assert load_config(str(tmp_path))["KEY_CACHE_SECONDS"] == 1


@pytest.mark.parametrize("lifetime", ["0", "3601", "-5"])
def test_token_lifetime_is_bounded(tmp_path, monkeypatch, lifetime):
    monkeypatch.setenv("AUTHSERVER_TOKEN_LIFETIME", lifetime)
    with pytest.raises(ConfigError, match="AUTHSERVER_TOKEN_LIFETIME"):
        load_config(str(tmp_path))


def test_token_lifetime_not_a_number(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_TOKEN_LIFETIME", "five minutes")
    with pytest.raises(ConfigError, match="AUTHSERVER_TOKEN_LIFETIME"):
        load_config(str(tmp_path))


def test_production_without_secret_key_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_ENV", "production")
    monkeypatch.setenv("AUTHSERVER_ISSUER", "https://auth.example.com")
    with pytest.raises(ConfigError, match="AUTHSERVER_SECRET_KEY"):
        load_config(str(tmp_path))


def test_production_with_debug_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_ENV", "production")
    monkeypatch.setenv("AUTHSERVER_ISSUER", "https://auth.example.com")
    monkeypatch.setenv("AUTHSERVER_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("AUTHSERVER_DEBUG", "1")
    with pytest.raises(ConfigError, match="debug"):
        load_config(str(tmp_path))


def test_production_requires_https_issuer(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_ENV", "production")
    monkeypatch.setenv("AUTHSERVER_SECRET_KEY", "k" * 40)
    with pytest.raises(ConfigError, match="AUTHSERVER_ISSUER"):
        load_config(str(tmp_path))
    monkeypatch.setenv("AUTHSERVER_ISSUER", "http://auth.example.com")
    with pytest.raises(ConfigError, match="https"):
        load_config(str(tmp_path))


def test_jwks_uri_to_local_addresses_only_outside_production(tmp_path, monkeypatch):
    assert load_config(str(tmp_path))["JWKS_URI_ALLOW_LOCAL"] is True
    monkeypatch.setenv("AUTHSERVER_ENV", "production")
    monkeypatch.setenv("AUTHSERVER_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("AUTHSERVER_ISSUER", "https://auth.example.com")
    assert load_config(str(tmp_path))["JWKS_URI_ALLOW_LOCAL"] is False
    monkeypatch.setenv("AUTHSERVER_JWKS_URI_ALLOW_LOCAL", "1")
    with pytest.raises(ConfigError, match="AUTHSERVER_JWKS_URI_ALLOW_LOCAL must be off"):
        load_config(str(tmp_path))


def test_secure_production_config_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_ENV", "production")
    monkeypatch.setenv("AUTHSERVER_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("AUTHSERVER_ISSUER", "https://auth.example.com")
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["ISSUER"] == "https://auth.example.com"
    assert app.config["SECRET_KEY"] == "k" * 40


def test_development_secret_key_is_shared_through_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(tmp_path))
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 48
    assert DEFAULTS.get("SECRET_KEY") is None
