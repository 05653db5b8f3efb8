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
from webapp.carers.models import CarerGrant
from webapp.conditions.models import Condition
from webapp.contact.models import ContactRequest
from webapp.goals.models import (
    CarePlan,
    GoalAction,
    GoalEvent,
    GoalReminder,
    GoalScore,
    ProgressEntry,
    WeeklySummary,
)
from webapp.groups.models import (
    Appeal,
    CheckIn,
    Membership,
    ModAction,
    PeerGroup,
    PeerProfile,
    Post,
    Report,
    Thanks,
    Thread,
    ThreadState,
)
from webapp.mail import OutboxMessage
from webapp.notifications.models import Notification, PushSubscription
from webapp.planning.models import AgendaItem, Conversation, CrisisPlan, Goal, Turn
from webapp.results.models import Result, ResultTarget
from webapp.reviews.models import Review
from webapp.timebank.models import BankMember, Exchange, LedgerEntry, Listing, TimeBank

__all__ = [
    "AgendaItem",
    "Appeal",
    "AuditEvent",
    "AuthSession",
    "BankMember",
    "CarePlan",
    "CarerGrant",
    "CheckIn",
    "Condition",
    "ContactRequest",
    "Conversation",
    "CrisisPlan",
    "Exchange",
    "Goal",
    "GoalAction",
    "GoalEvent",
    "GoalReminder",
    "GoalScore",
    "Invitation",
    "LedgerEntry",
    "Listing",
    "Membership",
    "ModAction",
    "Notification",
    "OutboxMessage",
    "Passkey",
    "PeerGroup",
    "PeerProfile",
    "Person",
    "Post",
    "Practice",
    "PracticeRole",
    "ProgressEntry",
    "PushSubscription",
    "RecoveryCode",
    "Report",
    "Result",
    "ResultTarget",
    "Review",
    "SignInLink",
    "Thanks",
    "Thread",
    "ThreadState",
    "TimeBank",
    "Turn",
    "WebAuthnChallenge",
    "WeeklySummary",
]
