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
from webapp.goals.models import GoalAction, GoalEvent, ProgressEntry
from webapp.notifications.models import Notification
from webapp.planning.models import AgendaItem, Conversation, CrisisPlan, Goal, Turn
from webapp.results.models import Result, ResultTarget
from webapp.reviews.models import Review

__all__ = [
    "AgendaItem",
    "AuditEvent",
    "AuthSession",
    "Conversation",
    "CrisisPlan",
    "Goal",
    "GoalAction",
    "GoalEvent",
    "Invitation",
    "Notification",
    "Passkey",
    "Person",
    "Practice",
    "PracticeRole",
    "ProgressEntry",
    "RecoveryCode",
    "Result",
    "ResultTarget",
    "Review",
    "SignInLink",
    "Turn",
    "WebAuthnChallenge",
]
