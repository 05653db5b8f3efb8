"""Every table, imported in one place for migrations and tests."""

from webapp.accounts.models import (
    AuthSession,
    Invitation,
    Passkey,
    Person,
    Practice,
    PracticeRole,
    RecoveryCode,
    SignInLink,
    WebAuthnChallenge,
)
from webapp.audit import AuditEvent
from webapp.reviews.models import Review

__all__ = [
    "AuditEvent",
    "AuthSession",
    "Invitation",
    "Passkey",
    "Person",
    "Practice",
    "PracticeRole",
    "RecoveryCode",
    "Review",
    "SignInLink",
    "WebAuthnChallenge",
]
