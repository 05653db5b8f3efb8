"""Settings from the environment: a secret key is required outside development."""

from __future__ import annotations

import pytest

from webapp import config


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("COPRODUCE_ENV", "production")
    with pytest.raises(config.ConfigError, match="SECRET_KEY is not set"):
        config.from_environment()


def test_development_keeps_one_generated_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("COPRODUCE_ENV", "development")
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    first = config.from_environment()
    second = config.from_environment()
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SESSION_COOKIE_SECURE"] is False and first["MAIL_BACKEND"] == "console"


def test_production_settings(monkeypatch):
    monkeypatch.setenv("COPRODUCE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("WEBAUTHN_RP_ID", "coproduce.example")
    monkeypatch.setenv("WEBAUTHN_ORIGIN", "https://coproduce.example")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = config.from_environment()
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["HSTS"] is True
    assert settings["MAIL_BACKEND"] == "smtp"
    assert settings["PUBLIC_URL"] == "https://coproduce.example"
    assert settings["DATABASE_URL"].startswith("sqlite:///")
