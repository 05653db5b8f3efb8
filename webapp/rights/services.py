"""The person's data rights, without HTTP: who has seen or changed their record (the audit
events about them, in plain words), and everything held about them as JSON and FHIR R4.

What the person's care team has not released yet (results held back, or waiting for their
day) is not in the download: it reaches the person the way the care team chose, not here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from webapp import audit
from webapp.access import Actor, require
from webapp.accounts.models import (
    STAFF_ROLES,
    AuthSession,
    Passkey,
    Person,
    Practice,
    PracticeRole,
)
from webapp.audit import AuditEvent
from webapp.carers.models import CarerGrant
from webapp.conditions.models import Condition
from webapp.contact.models import ContactRequest
from webapp.db import utcnow
from webapp.formatting import local_date
from webapp.goals.models import (
    CarePlan,
    GoalAction,
    GoalEvent,
    GoalReminder,
    GoalScore,
    ProgressEntry,
    WeeklySummary,
)
from webapp.groups.models import Appeal, CheckIn, Membership, PeerProfile, Post, Report, ThreadState
from webapp.notifications.models import Notification, PushSubscription
from webapp.planning.models import AgendaItem, Conversation, CrisisPlan, Goal, Turn
from webapp.results.models import Result, ResultTarget
from webapp.reviews.models import Review
from webapp.timebank import services as timebank
from webapp.timebank.models import BankMember, Exchange, LedgerEntry, Listing

PAGE_SIZE = 25
# Events that would tell the person of results before their care team releases them (a
# result held back for a talk, results added, the day they go): never in the person's view.
UNTOLD = ("results.hold", "results.unhold", "results.import", "results.release_date")
# Set on what someone did before they closed their account (their id is gone with them).
CLOSED = '"closed_account": true'


def _what() -> dict[str, str]:
    """Say each kind of audit event in plain words (what was done to the record)."""
    return {
        "signin": _("signed in"),
        "signout": _("signed out"),
        "passkey.add": _("added a passkey"),
        "passkey.remove": _("removed a passkey"),
        "passkey.rename": _("renamed a passkey"),
        "recovery_codes.generate": _("made new recovery codes"),
        "recovery_code.use": _("signed in with a recovery code"),
        "invitation.redeem": _("joined with an invitation"),
        "review.create": _("booked a review"),
        "review.reschedule": _("moved a review"),
        "review.status": _("moved a review on to its next step"),
        "review.prepared": _("said you were ready for your review"),
        "results.import": _("added test results"),
        "results.hold": _("held back a result until you talk"),
        "results.unhold": _("stopped holding back a result"),
        "results.release": _("sent you your results"),
        "results.release_date": _("set the day your results are sent"),
        "results.target": _("set a personal target for a result"),
        "planning.read_shared": _("read what you shared for your review"),
        "plan.read": _("read the goals you shared, to agree your plan"),
        "plan.note": _("wrote a note on your plan"),
        "plan.person_note": _("wrote your note on the plan"),
        "planning.share": _("shared something with your care team"),
        "planning.unshare": _("made something private"),
        "planning.edit": _("changed words on your summary"),
        "planning.remove": _("removed something from your summary"),
        "conversation.start": _("started a conversation"),
        "agenda.add": _("added to your list for the review"),
        "agenda.remove": _("took something off your list for the review"),
        "crisis_plan.write": _("wrote your plan for when you are unwell"),
        "safety.match": _("wrote words that brought up the safety check"),
        "safety.choice": _("answered the safety check"),
        "goal.created": _("wrote a goal"),
        "goal.edited": _("changed a goal"),
        "goal.status": _("changed a goal's status"),
        "goal.moved": _("reordered your goals"),
        "goal.action_added": _("added an action to a goal"),
        "goal.action_changed": _("changed an action"),
        "goal.action_done": _("ticked off an action"),
        "goal.action_undone": _("unticked an action"),
        "goal.action_removed": _("removed an action"),
        "goal.agreed_by": _("agreed a goal"),
        "goal.agreement_withdrawn": _("took back agreeing a goal"),
        "goal.agreed": _("completed agreeing a goal: it joined your plan"),
        "goal.scored": _("looked back on a goal"),
        "goal.reminder": _("set a reminder"),
        "goal.reminder_off": _("turned a reminder off"),
        "push.subscribe": _("turned on notifications on a device"),
        "push.unsubscribe": _("turned off notifications on a device"),
        "rights.download": _("downloaded your data"),
        "account.delete_link": _("asked for a link to confirm deleting your account"),
        "care_team.read_patient": _("read what you shared, your goals and your plan"),
        "conditions.record": _("recorded a long-term condition"),
        "conditions.status": _("changed whether a condition is still active"),
        "conditions.remove": _("took a condition recorded by mistake off your list"),
        "conditions.import": _("added your conditions from a GP or hospital system"),
        "conditions.matters": _("chose which conditions matter most now"),
        "contact.asked": _("asked your care team to contact you"),
        "contact.acknowledged": _("said they had contacted you, as you asked"),
        "contact.escalated": _("told the practice's admins your request was still waiting"),
        "rights.activity": _("looked at who has seen your record"),
        "carer.invite": _("invited a carer"),
        "carer.scopes": _("changed what a carer may help with"),
        "carer.stop": _("stopped a carer's access"),
        "carer.accept": _("accepted your invitation to help you"),
        "carer.start": _("started helping you"),
        "carer.end": _("stopped helping you for now"),
    }


def _carer_did(changed: bool) -> dict[str, str]:
    """Say what a carer read, or changed, of the person's record, by part."""
    if changed:
        return {
            "home": _("made a change from your home page"),
            "review": _("made a change to your review"),
            "results": _("changed something in your results (for your review)"),
            "planning": _("changed your preparation for the review"),
            "crisis": _("changed your plan for when you are unwell"),
            "goals": _("changed your goals or logged progress"),
            "timebank": _("traded or made a change in the time bank for you"),
            "conditions": _("chose which of your conditions matter most now"),
        }
    return {
        "home": _("looked at your home page"),
        "review": _("downloaded your review's date for a calendar"),
        "results": _("looked at your results"),
        "planning": _("looked at your preparation for the review"),
        "crisis": _("looked at your plan for when you are unwell"),
        "goals": _("looked at your goals and progress"),
        "timebank": _("looked at your time bank"),
    }


@dataclass
class Activity:
    """One thing done with the person's record: who (and as what), what, when; the same
    thing done again by the same person, one after another, is one entry with how many
    times, from `first` to `at`."""

    at: dt.datetime
    who: str
    role: str
    what: str
    by_self: bool
    times: int = 1
    first: dt.datetime | None = None


def _roles(session: Session, person_id: int, actor_ids: set[int]) -> dict[int, str]:
    """Name what each actor is to the person: their clinician, their practice team."""
    practices = set(
        session.exec(select(PracticeRole.practice_id).where(PracticeRole.person_id == person_id))
    )
    found: dict[int, str] = {}
    if not actor_ids:
        return found
    for carer_id in session.exec(
        select(CarerGrant.carer_id).where(
            CarerGrant.person_id == person_id, col(CarerGrant.carer_id).in_(actor_ids)
        )
    ):
        found[carer_id] = _("your carer")
    if not practices:
        return found
    rows = session.exec(
        select(PracticeRole.person_id, PracticeRole.role, Practice.name)
        .join(Practice, col(Practice.id) == PracticeRole.practice_id)
        .where(
            col(PracticeRole.person_id).in_(actor_ids),
            col(PracticeRole.practice_id).in_(practices),
            col(PracticeRole.role).in_([str(r) for r in STAFF_ROLES]),
        )
    )
    for actor_id, role, practice in rows:  # staff of the person's practices
        words = (
            _("clinician at %(practice)s", practice=practice)
            if role == "clinician"
            else _("practice team at %(practice)s", practice=practice)
        )
        if role == "clinician" or actor_id not in found:
            found[actor_id] = words
    return found


def activity(
    session: Session, actor: Actor, person_id: int, page: int = 1, others_only: bool = True
) -> tuple[list[Activity], bool]:
    """Return a page of what was done with the person's record, newest first, and whether
    there is another page. By default only what other people did."""
    require(actor, "rights.own", person_id)
    query = select(AuditEvent, Person.name).join(
        Person, col(Person.id) == AuditEvent.actor_id, isouter=True
    )
    query = query.where(AuditEvent.subject_id == person_id, col(AuditEvent.action).not_in(UNTOLD))
    if others_only:
        query = query.where(
            (col(AuditEvent.actor_id).is_(None)) | (AuditEvent.actor_id != person_id)
        )
    rows = session.exec(
        query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    words = _what()
    roles = _roles(
        session, person_id, {e.actor_id for e, _n in rows if e.actor_id not in (None, person_id)}
    )
    found = []
    last_key: tuple | None = None
    for event, name in rows:
        by_self = event.actor_id == person_id
        if by_self:
            who, role = _("You"), ""
        elif event.actor_id is None and CLOSED in event.detail:
            who, role = _("Someone whose account has been closed"), ""
        elif event.actor_id is None:
            who, role = _("Coproduce"), _("done automatically")
        else:
            who = name or _("Someone whose account has been closed")
            role = roles.get(event.actor_id, "")
        what = _carer_words(event) or words.get(event.action, _("used your record"))
        key = (event.actor_id, who, what)
        if found and key == last_key:  # the same again, just before: counted, not repeated
            found[-1].times += 1
            found[-1].first = event.at
            continue
        last_key = key
        found.append(Activity(at=event.at, who=who, role=role, what=what, by_self=by_self))
    return found, more


def _carer_words(event: AuditEvent) -> str | None:
    """Say what a carer read or changed, from the part of the record named in the event."""
    if event.action not in ("carer.read", "carer.change"):
        return None
    try:
        section = json.loads(event.detail).get("section", "")
    except ValueError:
        section = ""
    return _carer_did(event.action == "carer.change").get(section, _("looked at your record"))


# --- everything held about the person ---------------------------------------------------------


def _rows(
    session: Session, model: type, *where: Any, order: Any = None, leave: frozenset = frozenset()
) -> list[dict[str, Any]]:
    """Return rows as JSON-ready dicts, leaving out `leave` (keys and secrets)."""
    query = select(model).where(*where)
    if order is not None:
        query = query.order_by(order)
    return [row.model_dump(mode="json", exclude=set(leave)) for row in session.exec(query)]


def everything(session: Session, actor: Actor, person_id: int) -> dict[str, Any]:
    """Return everything held about the person, as plain JSON-ready data, and record it."""
    require(actor, "rights.own", person_id)
    person = session.get(Person, person_id)
    assert person is not None
    goal_ids = list(session.exec(select(Goal.id).where(Goal.patient_id == person_id)))
    conversation_ids = list(
        session.exec(select(Conversation.id).where(Conversation.patient_id == person_id))
    )
    accounts = list(session.exec(select(BankMember.id).where(BankMember.person_id == person_id)))
    released = (
        Result.patient_id == person_id,
        col(Result.released_at).is_not(None),
        col(Result.held).is_(False),
    )
    data: dict[str, Any] = {
        "about": _(
            "Everything Coproduce holds about you, made on %(when)s. Results your care team"
            " has not released yet are not included: you will see them once they are.",
            when=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ),
        "person": {
            "name": person.name,
            "email": person.email,
            "nhs_number": person.nhs_number,
            "created_at": person.created_at.isoformat() if person.created_at else None,
        },
        "practices": [
            {"practice": name, "role": role}
            for name, role in session.exec(
                select(Practice.name, PracticeRole.role)
                .join(Practice, col(Practice.id) == PracticeRole.practice_id)
                .where(PracticeRole.person_id == person_id)
            )
        ],
        "passkeys": _rows(
            session,
            Passkey,
            Passkey.person_id == person_id,
            leave=frozenset({"credential_id", "public_key", "sign_count"}),
        ),
        "reviews": _rows(
            session, Review, Review.patient_id == person_id, order=Review.scheduled_at
        ),
        "results": _rows(
            session,
            Result,
            *released,
            order=Result.taken_at,
            leave=frozenset({"held", "held_note", "fingerprint"}),
        ),
        "agenda": _rows(session, AgendaItem, AgendaItem.patient_id == person_id),
        "conversations": _rows(session, Conversation, Conversation.patient_id == person_id),
        "conversation_turns": _rows(
            session, Turn, col(Turn.conversation_id).in_(conversation_ids), order=Turn.id
        ),
        "crisis_plan": _rows(session, CrisisPlan, CrisisPlan.patient_id == person_id),
        "goals": _rows(session, Goal, Goal.patient_id == person_id, order=Goal.position),
        "goal_actions": _rows(session, GoalAction, col(GoalAction.goal_id).in_(goal_ids)),
        "goal_history": _rows(session, GoalEvent, col(GoalEvent.goal_id).in_(goal_ids)),
        "progress": _rows(
            session, ProgressEntry, ProgressEntry.patient_id == person_id, order=ProgressEntry.id
        ),
        "goal_scores": _rows(session, GoalScore, GoalScore.patient_id == person_id),
        "reminders": _rows(session, GoalReminder, GoalReminder.patient_id == person_id),
        "care_plans": _rows(session, CarePlan, CarePlan.patient_id == person_id),
        "notifications": _rows(session, Notification, Notification.person_id == person_id),
        "devices": _rows(
            session,
            PushSubscription,
            PushSubscription.person_id == person_id,
            leave=frozenset({"p256dh", "auth", "endpoint"}),
        ),
        "record_activity": _rows(
            session,
            AuditEvent,
            AuditEvent.subject_id == person_id,
            col(AuditEvent.action).not_in(UNTOLD),
            order=AuditEvent.id,
            leave=frozenset({"detail", "request_id"}),
        ),
        "personal_targets": _rows(session, ResultTarget, ResultTarget.patient_id == person_id),
        "conditions": _rows(
            session, Condition, Condition.patient_id == person_id, order=Condition.id
        ),
        "weekly_summary": _rows(session, WeeklySummary, WeeklySummary.person_id == person_id),
        "group_display_name": _rows(session, PeerProfile, PeerProfile.person_id == person_id),
        "group_memberships": _rows(session, Membership, Membership.person_id == person_id),
        "group_posts": _rows(
            session, Post, Post.author_id == person_id, order=Post.id, leave=frozenset({"key"})
        ),
        "group_threads_read": _rows(session, ThreadState, ThreadState.person_id == person_id),
        "group_reports_made": _rows(
            session, Report, Report.reporter_id == person_id, order=Report.id
        ),
        "group_second_looks_asked": _rows(session, Appeal, Appeal.by_id == person_id),
        # Private check-ins: those peer supporters sent them, and those they sent as one.
        "group_check_ins_received": _rows(
            session,
            CheckIn,
            CheckIn.recipient_id == person_id,
            order=CheckIn.id,
            leave=frozenset({"sender_id"}),
        ),
        "group_check_ins_sent": _rows(
            session,
            CheckIn,
            CheckIn.sender_id == person_id,
            order=CheckIn.id,
            leave=frozenset({"recipient_id"}),
        ),
        # The coordinators' private note is theirs, not part of the person's record.
        "time_bank_memberships": _rows(
            session, BankMember, col(BankMember.id).in_(accounts), leave=frozenset({"note"})
        ),
        "time_bank_listings": _rows(
            session, Listing, col(Listing.member_id).in_(accounts), order=Listing.id
        ),
        "time_bank_exchanges": _rows(
            session,
            Exchange,
            col(Exchange.giver_id).in_(accounts) | col(Exchange.receiver_id).in_(accounts),
            order=Exchange.id,
            leave=frozenset({"key"}),
        ),
        "time_bank_statement": _rows(
            session, LedgerEntry, col(LedgerEntry.member_id).in_(accounts), order=LedgerEntry.id
        ),
        "my_carers": _rows(
            session,
            CarerGrant,
            CarerGrant.person_id == person_id,
            order=CarerGrant.id,
            leave=frozenset({"token_hash", "code_hash"}),
        ),
        "people_i_help": _rows(
            session,
            CarerGrant,
            CarerGrant.carer_id == person_id,
            order=CarerGrant.id,
            leave=frozenset({"token_hash", "code_hash"}),
        ),
        "care_team_contact_requests": _rows(
            session, ContactRequest, ContactRequest.person_id == person_id, order=ContactRequest.id
        ),
        "sign_ins": _rows(
            session,
            AuthSession,
            AuthSession.person_id == person_id,
            leave=frozenset({"token_hash"}),
        ),
    }
    audit.record(session, actor.id, "rights.download", person_id, kind="json")
    session.commit()
    return data


def as_json(data: dict[str, Any]) -> str:
    """Return the download as readable JSON."""
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def delete_account(session: Session, actor: Actor, person_id: int) -> None:
    """Delete the person's account and everything held about them.

    Their records go with their row (every table that points to a person removes its rows
    or forgets who it was: what they did for others stays, as done by someone whose account
    is closed). Invitations they used are stripped of their name, email and NHS number. The
    audit log keeps that an account was deleted, without saying whose.
    """
    from sqlalchemy import delete, or_, update

    from webapp.accounts.models import Invitation

    require(actor, "rights.own", person_id)
    person = session.get(Person, person_id)
    assert person is not None
    for invitation in session.exec(
        select(Invitation).where(Invitation.redeemed_by_id == person_id)
    ):
        invitation.name, invitation.email, invitation.nhs_number = "", None, None
        invitation.pending_email = None
    # Invitations for them not yet used go too (they hold their name and contact details).
    matches = [Invitation.email == person.email] if person.email else []
    if person.nhs_number:
        matches.append(Invitation.nhs_number == person.nhs_number)
    if matches:
        session.exec(delete(Invitation).where(col(Invitation.redeemed_at).is_(None), or_(*matches)))
    # The record of their own record goes with it; what they did in other people's records
    # stays there, said as done by someone whose account has been closed.
    session.exec(delete(AuditEvent).where(AuditEvent.subject_id == person_id))
    session.exec(
        update(AuditEvent)
        .where(AuditEvent.actor_id == person_id)
        .values(actor_id=None, detail="{" + CLOSED + "}")
    )
    # Their time-bank memberships stay as a former member's, so every exchange and the
    # ledger stay whole; their exchanges not yet happened are called off.
    timebank.forget_person(session, person_id, local_date(utcnow()))
    # Carers' access to their record, and their access to others' as a carer, ends now.
    session.exec(
        delete(CarerGrant).where(
            or_(CarerGrant.person_id == person_id, CarerGrant.carer_id == person_id)
        )
    )
    # Threads they wrote in show "a former member" from now on, kept pages included.
    from webapp.groups.threads import touch_author_threads

    touch_author_threads(session, person_id)
    session.delete(person)
    audit.record(session, None, "account.deleted", None)
    session.commit()
