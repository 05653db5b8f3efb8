"""Who may do what to whose data: the one place where access rules live.

Rules are small named functions of (actor, target). `can()` answers yes or no
for templates; `require()` raises NotFound for services, so that a record a
person has no right to is indistinguishable from one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.exceptions import NotFound

from webapp.accounts.models import STAFF_ROLES, Person, Role

# What a carer may be allowed to do for a person; each names a part of the person's record.
SCOPES = ("results", "planning", "goals", "crisis", "timebank")
# The scopes that reach into the person's health record (the time bank does not).
RECORD_SCOPES = frozenset({"results", "planning", "goals", "crisis"})


@dataclass(frozen=True)
class Acting:
    """A carer acting for a person under a live grant, read afresh on every request."""

    grant_id: int
    person_id: int
    person_name: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class Actor:
    """The signed-in person as access rules see them: who they are and their roles."""

    person: Person
    roles: frozenset[tuple[int, str]] = field(default_factory=frozenset)
    practice_names: tuple[tuple[int, str], ...] = ()
    session_token: str = ""
    # Read with the session on each request, for the header; None when not loaded that way.
    unread_notifications: int | None = None
    # Whether they support any peer-support group, and how many posts there wait for a look
    # (read with the session too, for the header's "Needs a look"); None when not loaded so.
    supports_groups: bool | None = None
    needs_look: int = 0
    # Set while a carer acts for someone; their own record is out of reach meanwhile.
    acting: Acting | None = None
    # The session asked to act for someone, but that permission has ended or been withdrawn.
    acting_lapsed: bool = False

    # Flask-Login's user protocol.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """Return the sign-in session token that Flask-Login keeps in the cookie."""
        return self.session_token

    @property
    def id(self) -> int:
        """Return the person's id."""
        assert self.person.id is not None
        return self.person.id

    @property
    def name(self) -> str:
        """Return the person's name."""
        return self.person.name

    @property
    def header_counts(self) -> tuple[int | None, bool | None, int]:
        """Return what the header shows that changes between visits (unread notifications,
        and posts waiting for a peer supporter's look): kept pages are keyed by it."""
        return (self.unread_notifications, self.supports_groups, self.needs_look)

    @property
    def record_id(self) -> int:
        """Return whose record the person-facing pages show: the person a carer acts for,
        or the actor's own."""
        return self.acting.person_id if self.acting is not None else self.id

    def practices_with(self, *roles: str) -> set[int]:
        """Return the practices where the actor holds any of the given roles."""
        return {practice for practice, role in self.roles if role in roles}

    @property
    def is_staff(self) -> bool:
        """Say whether the actor is a clinician or admin anywhere."""
        return bool(self.practices_with(*STAFF_ROLES))

    @property
    def is_patient(self) -> bool:
        """Say whether the actor is registered as a patient anywhere."""
        return bool(self.practices_with(Role.PATIENT))


Rule = Callable[[Actor | None, object], bool]


def _is_account_holder(actor: Actor | None, person_id: object) -> bool:
    """The actor is the person the account belongs to (acting for someone or not)."""
    return actor is not None and actor.id == person_id


def _is_self(actor: Actor | None, person_id: object) -> bool:
    """The actor is the person the record belongs to, and is not acting for someone else."""
    return actor is not None and actor.acting is None and actor.id == person_id


def _self_or_carer(scope: str) -> Rule:
    """The person themself, or a carer acting for them with the scope."""

    def rule(actor: Actor | None, person_id: object) -> bool:
        if actor is None:
            return False
        if actor.acting is None:
            return actor.id == person_id
        return actor.acting.person_id == person_id and scope in actor.acting.scopes

    rule.__doc__ = f"The person, or a carer acting for them with the {scope!r} scope."
    return rule


def _acts_with_any_scope(actor: Actor | None, person_id: object) -> bool:
    """The person, or a carer acting for them with any scope of their record (the review's
    date goes with each)."""
    if actor is None:
        return False
    if actor.acting is None:
        return actor.id == person_id
    return actor.acting.person_id == person_id and bool(actor.acting.scopes & RECORD_SCOPES)


def _is_practice_staff(actor: Actor | None, practice_id: object) -> bool:
    """The actor is a clinician or admin of the practice."""
    return actor is not None and practice_id in actor.practices_with(*STAFF_ROLES)


def _is_practice_clinician(actor: Actor | None, practice_id: object) -> bool:
    """The actor is a clinician of the practice (agreeing a plan is a clinician's part)."""
    return actor is not None and practice_id in actor.practices_with(Role.CLINICIAN)


def _reads_outcomes(actor: Actor | None, practice_id: object) -> bool:
    """The actor is on the practice's staff, or commissions its services."""
    return actor is not None and practice_id in actor.practices_with(
        *STAFF_ROLES, Role.COMMISSIONER
    )


RULES: dict[str, Rule] = {
    # A person manages their own account: passkeys, recovery codes, sessions.
    "account.manage": _is_account_holder,
    # Practice staff invite patients and see the practice's invitations.
    "practice.invite": _is_practice_staff,
    "practice.view": _is_practice_staff,
    # Practice staff plan, reschedule and move their practice's reviews along.
    "reviews.manage": _is_practice_staff,
    # A person sees their own reviews.
    "reviews.read_own": _acts_with_any_scope,
    # Practice staff import, hold back and release results, and set personal targets.
    "results.manage": _is_practice_staff,
    # A person reads their own released results and adds them to their agenda.
    "results.read_own": _self_or_carer("results"),
    # A person holds their own planning conversations.
    "planning.own": _self_or_carer("planning"),
    # A person keeps their plan for when they are unwell (a carer with the crisis scope too).
    "crisis.own": _self_or_carer("crisis"),
    # A person keeps their own goals, actions and progress.
    "goals.own": _self_or_carer("goals"),
    # The practice's staff and its commissioners read its outcomes (aggregates only).
    "outcomes.read": _reads_outcomes,
    # A person sees who has read or changed their record, and takes all their data.
    "rights.own": _is_account_holder,
    # A person invites carers, changes what they may do, and stops their access.
    "carers.manage": _is_self,
    # A carer acts for a person under their own accepted grant.
    "carers.act": _is_account_holder,
    # Groups are always the signed-in person's own: never while acting for someone else.
    "groups.take_part": _is_self,
    # A person's time-bank account (a carer with the time-bank scope uses it for them).
    "timebank.own": _self_or_carer("timebank"),
    # Practice staff record a patient's long-term conditions, mark them resolved, remove
    # mistakes.
    "conditions.manage": _is_practice_staff,
    # A person reads their conditions and says which matter most to them now. A carer helping
    # them prepare for reviews (the planning scope) may too: choosing what to talk about is
    # preparing, and it is recorded as the carer's doing for the person.
    "conditions.own": _self_or_carer("planning"),
    # Only the person asks their care team to contact them: never a carer for them (see
    # webapp/contact/services.py for why).
    "contact.ask": _is_self,
    # The practice's staff see who asked to be contacted, and say when they have been.
    "contact.acknowledge": _is_practice_staff,
    # A clinician of the practice agrees the plan with the person at their review.
    "plan.agree": _is_practice_clinician,
}


def sees_goal(actor: Actor | None, goal: object) -> bool:
    """Say whether the actor may see this goal of a person they may see goals of: a carer sees
    only goals the person shared, or that they wrote for the person themselves."""
    if actor is None or actor.acting is None:
        return True
    return bool(getattr(goal, "shared", False)) or getattr(goal, "created_by_id", None) == actor.id


def can(actor: Actor | None, permission: str, target: object) -> bool:
    """Say whether the actor has the permission on the target."""
    rule = RULES.get(permission)
    if rule is None:
        raise KeyError(f"unknown permission {permission!r}")
    return rule(actor, target)


def require(actor: Actor | None, permission: str, target: object) -> None:
    """Raise NotFound unless the actor has the permission on the target."""
    if not can(actor, permission, target):
        raise NotFound()
