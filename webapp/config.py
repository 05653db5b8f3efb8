"""Settings read from the environment (12-factor), with a test configuration."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

INSTANCE_DIR = Path(
    os.environ.get("INSTANCE_PATH", Path(__file__).resolve().parent.parent / "instance")
)


def _env_bool(name: str, default: bool) -> bool:
    """Read a yes/no setting from the environment."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    """Read a whole-number setting from the environment."""
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _development_secret_key() -> str:
    """Return the development secret key, generating and keeping it in instance/ once."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class ConfigError(RuntimeError):
    """Raised when a required setting is missing or wrong."""


def from_environment() -> dict:
    """Build the app's settings from environment variables."""
    env = os.environ.get("COPRODUCE_ENV", os.environ.get("FLASK_ENV", "production")).lower()
    development = env in {"development", "dev"}
    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        if not development:
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random string "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or set COPRODUCE_ENV=development to use a generated one."
            )
        secret_key = _development_secret_key()
    port = _env_int("PORT", 5000)
    origin = os.environ.get("WEBAUTHN_ORIGIN", f"http://localhost:{port}")
    return {
        "ENV_NAME": env,
        "DEVELOPMENT": development,
        "SECRET_KEY": secret_key,
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'coproduce.db'}"
        ),
        "WEBAUTHN_RP_ID": os.environ.get("WEBAUTHN_RP_ID", "localhost"),
        "WEBAUTHN_RP_NAME": os.environ.get("WEBAUTHN_RP_NAME", "Coproduce"),
        "WEBAUTHN_ORIGIN": origin,
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", origin).rstrip("/"),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "console" if development else "smtp"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Coproduce <no-reply@localhost>"),
        "SMTP_HOST": os.environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": _env_int("SMTP_PORT", 587),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", True),
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "SESSION_IDLE_MINUTES": _env_int("SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _env_int("SESSION_MAX_HOURS", 12),
        "INVITATION_DAYS": _env_int("INVITATION_DAYS", 14),
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        "SESSION_COOKIE_SECURE": not development,
        "HSTS": not development,
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        # Web Push: the VAPID private key (`flask push keys` makes one) and a contact for
        # the push services. Without a key, reminders arrive in the app only.
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY", ""),
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT", "mailto:no-reply@localhost"),
    }


def config_for_tests(**overrides) -> dict:
    """Settings for the test suite: an isolated database, no secrets from the environment."""
    config = {
        "ENV_NAME": "test",
        "DEVELOPMENT": False,
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "sqlite://"),
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_RP_NAME": "Coproduce",
        "WEBAUTHN_ORIGIN": "http://localhost",
        "PUBLIC_URL": "http://localhost",
        "MAIL_BACKEND": "memory",
        "MAIL_FROM": "Coproduce <no-reply@localhost>",
        "SMTP_HOST": "localhost",
        "SMTP_PORT": 587,
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": True,
        "REDIS_URL": "",
        "SESSION_IDLE_MINUTES": 30,
        "SESSION_MAX_HOURS": 12,
        "INVITATION_DAYS": 14,
        "TRUSTED_PROXIES": 0,
        "SESSION_COOKIE_SECURE": False,
        "HSTS": False,
        "RATELIMIT_ENABLED": True,
        # Real argon2, with the cheapest parameters, so the suite stays quick.
        "ARGON2_PROFILE": "CHEAPEST",
        "VAPID_PRIVATE_KEY": "",
        "VAPID_SUBJECT": "mailto:tests@localhost",
    }
    config.update(overrides)
    return config
