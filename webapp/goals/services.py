"""Goals in the person's own words, and the actions under them, without HTTP.

The person's words are stored as typed (outer spaces trimmed) and never rewritten. Every
change is checked first, recorded in the goal's history (what changed, by whom, when), and
made only against the version the person last saw: if someone else changed the goal
meanwhile, nothing is overwritten and both versions are shown.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require, sees_goal
from webapp.db import utcnow
from webapp.formatting import local_date
from webapp.goals.models import GoalAction, GoalEvent, ProgressEntry
from webapp.planning.models import Goal
from webapp.reviews.services import upcoming_review

STATUSES = ("draft", "agreed", "achieved", "changed", "stopped")
# Goals still being worked on come first; finished ones after, in the person's order.
OPEN = ("draft", "agreed")
OWNERS = ("me", "care_team", "carer", "community")
TEXT_LIMIT = 1000
ACTION_LIMIT = 300
WORDS = ("text", "why", "if_then")
SCORES = ("importance", "confidence")


def agreed_words() -> str:
    """Say why an agreed (or finished) goal's words cannot be edited."""
    return _(
        "This goal's words are as agreed with your care team. If it no longer fits, mark it"
        " changed or stopped below, and write a new goal."
    )


class GoalError(ValueError):
    """Something the person can put right; `problems` names each field and what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class GoalConflict(GoalError):
    """The goal changed since the person opened it: theirs is kept aside, nothing is lost."""

    def __init__(self, current: Goal, yours: dict[str, Any]) -> None:
        super().__init__(
            {
                "version": _(
                    "Someone changed this goal while you were editing it. Here are both"
                    " versions: keep the one you want, or combine them, and save again."
                )
            }
        )
        self.current = current
        self.yours = yours


@dataclass
class GoalForm:
    """A goal's fields as checked from a form (or from a conversation)."""

    text: str
    why: str = ""
    if_then: str = ""
    importance: int | None = None
    confidence: int | None = None
    target_date: dt.date | None = None
    problems: dict[str, str] = field(default_factory=dict)


def check_goal(form: dict[str, str], today: dt.date) -> GoalForm:
    """Check a goal's fields; raise GoalError naming every problem at once."""
    problems: dict[str, str] = {}
    words = {name: (form.get(name) or "").strip().replace("\r\n", "\n") for name in WORDS}
    if not words["text"]:
        problems["text"] = _("Write your goal in your own words.")
    for name, value in words.items():
        if len(value) > TEXT_LIMIT:
            problems[name] = _(
                "Keep this to %(limit)d characters (it is %(n)d).", limit=TEXT_LIMIT, n=len(value)
            )
    scores: dict[str, int | None] = {}
    for name in SCORES:
        raw = (form.get(name) or "").strip()
        if not raw:
            scores[name] = None
            continue
        try:
            scores[name] = int(raw)
        except ValueError:
            scores[name] = -1
        if not 0 <= (scores[name] or 0) <= 10:
            problems[name] = _("Choose a number from 0 to 10, or leave it empty.")
    target = None
    raw_date = (form.get("target_date") or "").strip()
    if raw_date:
        try:
            target = dt.date.fromisoformat(raw_date)
        except ValueError:
            problems["target_date"] = _("Enter the date like 2027-03-14, or leave it empty.")
        else:
            if target < today:
                problems["target_date"] = _(
                    "That date has passed. Choose today or a day to come, or leave it empty."
                )
    if problems:
        raise GoalError(problems)
    return GoalForm(
        text=words["text"],
        why=words["why"],
        if_then=words["if_then"],
        importance=scores["importance"],
        confidence=scores["confidence"],
        target_date=target,
    )


def record_event(session: Session, actor: Actor, goal: Goal, what: str, **detail: Any) -> None:
    """Add one change to the goal's history (and the audit log); the caller commits."""
    session.add(
        GoalEvent(
            goal_id=goal.id,
            actor_id=actor.id,
            what=what,
            detail=json.dumps(detail, default=str, sort_keys=True)[:10_000],
        )
    )
    audit.record(session, actor.id, f"goal.{what}", goal.patient_id, goal_id=goal.id)


def record_edit(
    session: Session, actor: Actor, goal: Goal, changes: dict[str, list[Any]], **how: Any
) -> None:
    """Record a goal changed elsewhere (the summary page, a changed conversation answer):
    the same history and version as an edit here. `changes` maps field to [before, after];
    the caller commits."""
    if changes:
        goal.version += 1
        _ask_again(goal)
        record_event(session, actor, goal, "edited", **changes, **how)


def _ask_again(goal: Goal) -> None:
    """A draft's words changed: whoever agreed it agreed other words, so both agree again."""
    if goal.status == "draft":
        goal.person_agreed_at = None
        goal.clinician_agreed_at = None
        goal.agreed_by_id = None


_GOALS = (
    select(Goal)
    .where(Goal.patient_id == bindparam("patient_id"))
    .order_by(Goal.position, Goal.created_at, Goal.id)
)


def my_goals(session: Session, actor: Actor, patient_id: int) -> list[Goal]:
    """Return the person's goals: open ones first, each group in the person's order."""
    require(actor, "goals.own", patient_id)
    goals = [
        g for g in session.exec(_GOALS, params={"patient_id": patient_id}) if sees_goal(actor, g)
    ]
    return sorted(goals, key=lambda g: g.status not in OPEN)


def get_goal_or_none(session: Session, actor: Actor, goal_id: int) -> Goal | None:
    """Return one of the actor's goals, or None if they may not see it (any more)."""
    try:
        return get_goal(session, actor, goal_id)
    except NotFound:
        return None


def get_goal(session: Session, actor: Actor, goal_id: int) -> Goal:
    """Return one of the actor's own goals, or raise NotFound."""
    goal = session.get(Goal, goal_id)
    require(actor, "goals.own", goal.patient_id if goal is not None else None)
    assert goal is not None
    if not sees_goal(actor, goal):
        raise NotFound()
    return goal


def create_goal(
    session: Session,
    actor: Actor,
    patient_id: int,
    form: dict[str, str],
    today: dt.date | None = None,
) -> Goal:
    """Add a goal in the person's words (a draft until agreed), at the end of their list."""
    require(actor, "goals.own", patient_id)
    checked = check_goal(form, today or local_date(utcnow()))
    last = session.exec(
        select(Goal.position)
        .where(Goal.patient_id == patient_id)
        .order_by(col(Goal.position).desc())
        .limit(1)
    ).first()
    # A goal made while a review is booked is for that review (made with none booked, it
    # joins the next one when it is booked).
    review = upcoming_review(session, patient_id)
    goal = Goal(
        patient_id=patient_id,
        review_id=review.id if review else None,
        text=checked.text,
        why=checked.why,
        if_then=checked.if_then,
        importance=checked.importance,
        confidence=checked.confidence,
        target_date=checked.target_date,
        position=(last or 0) + 1,
        created_by_id=actor.id,
    )
    session.add(goal)
    session.flush()
    record_event(session, actor, goal, "created", text=goal.text)
    session.commit()
    return goal


def update_goal(
    session: Session,
    actor: Actor,
    goal_id: int,
    form: dict[str, str],
    version: int,
    today: dt.date | None = None,
) -> Goal:
    """Change a goal's words and details, if it is still the version the person saw."""
    goal = get_goal(session, actor, goal_id)
    checked = check_goal(form, today or local_date(utcnow()))
    wanted = {
        "text": checked.text,
        "why": checked.why,
        "if_then": checked.if_then,
        "importance": checked.importance,
        "confidence": checked.confidence,
        "target_date": checked.target_date,
    }
    if goal.version != version:
        raise GoalConflict(goal, wanted)
    if goal.status != "draft":
        raise GoalError({"text": agreed_words()})
    changes = {
        name: [getattr(goal, name), value]
        for name, value in wanted.items()
        if getattr(goal, name) != value
    }
    if changes:
        for name, (_before, after) in changes.items():
            setattr(goal, name, after)
        goal.version += 1
        goal.updated_at = utcnow()
        _ask_again(goal)
        if actor.acting is not None:
            # Words a carer changed reach the care team only once the person shares them.
            goal.shared = False
        record_event(session, actor, goal, "edited", **changes)
        session.commit()
    return goal


def set_status(session: Session, actor: Actor, goal_id: int, status: str, version: int) -> Goal:
    """Mark a goal achieved, changed, stopped, or back to a draft; agreeing is done together."""
    goal = get_goal(session, actor, goal_id)
    if status not in STATUSES or status == "agreed":
        raise GoalError({"status": _("Choose one of the answers.")})
    if goal.status == "agreed" and actor.acting is not None:
        raise GoalError(
            {
                "status": _(
                    "This goal is part of the plan %(name)s agreed with their care team, so "
                    "only %(name)s can mark it achieved, changed or stopped.",
                    name=actor.acting.person_name,
                )
            }
        )
    # Once agreed by both, a goal never goes back to a draft (ended or not): its look backs
    # and its place in earlier plans stay as they were.
    if status == "draft" and (
        goal.status == "agreed"
        or (goal.person_agreed_at is not None and goal.clinician_agreed_at is not None)
    ):
        raise GoalError(
            {
                "status": _(
                    "An agreed goal stays in your plan until you mark it achieved, changed or"
                    " stopped. To work on different words, write a new goal."
                )
            }
        )
    if goal.version != version:
        raise GoalConflict(goal, {"status": status})
    if goal.status != status:
        record_event(session, actor, goal, "status", status=[goal.status, status])
        now = utcnow()
        # Leaving the plan is dated once, so looking back knows which stretches it was in.
        if status in ENDED and goal.status not in ENDED:
            goal.ended_at = now
        elif status not in ENDED:
            goal.ended_at = None
        goal.status = status
        _ask_again(goal)
        goal.version += 1
        goal.updated_at = now
        session.commit()
    return goal


def move_goal(session: Session, actor: Actor, goal_id: int, direction: str) -> None:
    """Move a goal up or down the person's list (among goals in the same group)."""
    goal = get_goal(session, actor, goal_id)
    # Every goal of the group, also those a carer cannot see, so the person's order holds.
    rows = session.exec(_GOALS, params={"patient_id": goal.patient_id})
    group = [g for g in rows if (g.status in OPEN) == (goal.status in OPEN)]
    visible = [g for g in group if sees_goal(actor, g)]
    here = visible.index(goal)
    there = here - 1 if direction == "up" else here + 1
    if not 0 <= there < len(visible):
        return
    a, b = group.index(goal), group.index(visible[there])
    group[a], group[b] = group[b], group[a]
    for position, each in enumerate(group, start=1):
        each.position = position
    record_event(session, actor, goal, "moved", direction=direction)
    session.commit()


def actions(session: Session, actor: Actor, goal_id: int) -> list[GoalAction]:
    """Return a goal's actions, in order."""
    goal = get_goal(session, actor, goal_id)
    return list(
        session.exec(
            select(GoalAction)
            .where(GoalAction.goal_id == goal.id)
            .order_by(GoalAction.position, GoalAction.id)
        )
    )


def check_action(form: dict[str, str]) -> dict[str, str]:
    """Check an action's words, owner and timing; raise GoalError naming each problem."""
    problems: dict[str, str] = {}
    text = (form.get("text") or "").strip()
    owner = (form.get("owner") or "").strip()
    who = (form.get("who") or "").strip()
    when = (form.get("when") or "").strip()
    if not text:
        problems["text"] = _("Say what the action is.")
    elif len(text) > ACTION_LIMIT:
        problems["text"] = _(
            "Keep this to %(limit)d characters (it is %(n)d).", limit=ACTION_LIMIT, n=len(text)
        )
    if owner not in OWNERS:
        problems["owner"] = _("Choose whose action this is.")
    if len(who) > 120:
        problems["who"] = _("Keep this to 120 characters.")
    if len(when) > 120:
        problems["when"] = _("Keep this to 120 characters.")
    if problems:
        raise GoalError(problems)
    return {"text": text, "owner": owner, "who": who, "when": when}


def add_action(session: Session, actor: Actor, goal_id: int, form: dict[str, str]) -> GoalAction:
    """Add an action under a goal: what, whose (me, my care team, a carer, the community), when."""
    goal = get_goal(session, actor, goal_id)
    checked = check_action(form)
    count = len(actions(session, actor, goal_id))
    action = GoalAction(goal_id=goal.id, position=count + 1, created_by_id=actor.id, **checked)
    session.add(action)
    session.flush()
    record_event(session, actor, goal, "action_added", action=action.text, owner=action.owner)
    session.commit()
    return action


def _own_action(session: Session, actor: Actor, action_id: int) -> tuple[Goal, GoalAction]:
    action = session.get(GoalAction, action_id)
    goal = session.get(Goal, action.goal_id) if action is not None else None
    require(actor, "goals.own", goal.patient_id if goal is not None else None)
    assert action is not None and goal is not None
    if not sees_goal(actor, goal):
        raise NotFound()
    return goal, action


def action_goal_id(session: Session, actor: Actor, action_id: int) -> int:
    """Return the goal an action of the actor's belongs to (or raise NotFound)."""
    goal, _action = _own_action(session, actor, action_id)
    assert goal.id is not None
    return goal.id


def update_action(
    session: Session, actor: Actor, action_id: int, form: dict[str, str]
) -> GoalAction:
    """Change an action's words, owner or timing."""
    goal, action = _own_action(session, actor, action_id)
    checked = check_action(form)
    changes = {k: [getattr(action, k), v] for k, v in checked.items() if getattr(action, k) != v}
    if changes:
        for name, (_before, after) in changes.items():
            setattr(action, name, after)
        record_event(session, actor, goal, "action_changed", **changes)
        session.commit()
    return action


def set_action_done(session: Session, actor: Actor, action_id: int, done: bool) -> GoalAction:
    """Tick an action off, or untick it."""
    goal, action = _own_action(session, actor, action_id)
    if (action.done_at is not None) != done:
        action.done_at = utcnow() if done else None
        record_event(
            session, actor, goal, "action_done" if done else "action_undone", action=action.text
        )
        session.commit()
    return action


def remove_action(session: Session, actor: Actor, action_id: int) -> None:
    """Remove an action (the history keeps its words)."""
    goal, action = _own_action(session, actor, action_id)
    record_event(session, actor, goal, "action_removed", action=action.text)
    session.delete(action)
    session.commit()


def attributions(
    session: Session, actor: Actor, patient_id: int, ids: set[int | None]
) -> dict[int | None, str]:
    """Say who did something on the person's record, as the viewer reads it: "you", the
    person's name, "Sam for Pat" for their carer, or a care-team member's name."""
    from webapp.accounts.models import Person
    from webapp.carers.models import CarerGrant

    wanted = {i for i in ids if i is not None} | {patient_id}
    names = {
        i: n
        for i, n in session.exec(select(Person.id, Person.name).where(col(Person.id).in_(wanted)))
    }
    carers = set(
        session.exec(
            select(CarerGrant.carer_id).where(
                CarerGrant.person_id == patient_id, col(CarerGrant.carer_id).in_(wanted)
            )
        )
    )
    person = names.get(patient_id, "")
    found: dict[int | None, str] = {None: _("someone no longer here")}
    for who in wanted:
        name = names.get(who) or _("someone no longer here")
        if who == actor.id and who == patient_id and actor.acting is None:
            found[who] = _("you")
        elif who == actor.id and who in carers:
            found[who] = _("you, for %(person)s", person=person)
        elif who in carers:
            found[who] = _("%(carer)s for %(person)s", carer=name, person=person)
        else:
            found[who] = name
    return found


def history(session: Session, actor: Actor, goal_id: int) -> list[tuple[GoalEvent, str]]:
    """Return every change to a goal, newest first, each with who made it (in words)."""
    goal = get_goal(session, actor, goal_id)
    events = session.exec(
        select(GoalEvent)
        .where(GoalEvent.goal_id == goal.id)
        .order_by(col(GoalEvent.created_at).desc(), col(GoalEvent.id).desc())
    ).all()
    who = attributions(session, actor, goal.patient_id, {e.actor_id for e in events})
    return [(event, who.get(event.actor_id, who[None])) for event in events]


# --- progress -------------------------------------------------------------------------------

OUTCOMES = ("did", "partly", "not_this_time")
NOTE_LIMIT = 500
ENDED = ("achieved", "changed", "stopped")


OFFLINE_FOR_AT_MOST = dt.timedelta(days=30)


def _believable(logged_at: dt.datetime | None) -> dt.datetime:
    now = utcnow()
    if logged_at is None or logged_at.tzinfo is None:
        return now
    if now - OFFLINE_FOR_AT_MOST <= logged_at <= now:
        return logged_at.astimezone(dt.UTC)
    return now


def log_progress(
    session: Session,
    actor: Actor,
    goal_id: int,
    form: dict[str, str],
    key: str,
    logged_at: dt.datetime | None = None,
) -> tuple[ProgressEntry, bool]:
    """Record how it went for a goal, once per key; return the entry and whether it is new.

    The key is made where the entry was logged (on the phone, perhaps offline), so an entry
    sent again (a double tap, a replay when the connection returns) is counted once. An
    entry for a goal stopped or achieved meanwhile is kept, and marked as such. `logged_at`
    is when the phone says it was logged (it may have waited offline): believed if it is
    within the last 30 days and not in the future, otherwise the time it arrived is used.
    """
    goal = get_goal(session, actor, goal_id)
    key = key.strip()[:64]
    if not key:
        raise GoalError({"key": _("This entry has no key. Reload the page and try again.")})
    existing = session.exec(
        select(ProgressEntry).where(
            ProgressEntry.patient_id == goal.patient_id, ProgressEntry.key == key
        )
    ).first()
    if existing is not None:
        return existing, False
    problems: dict[str, str] = {}
    outcome = (form.get("outcome") or "").strip()
    note = (form.get("note") or "").strip()
    measure = (form.get("measure") or "").strip()
    value = (form.get("value") or "").strip()
    if outcome not in OUTCOMES:
        problems["outcome"] = _("Choose how it went: did it, partly, or not this time.")
    if len(note) > NOTE_LIMIT:
        problems["note"] = _(
            "Keep the note to %(limit)d characters (it is %(n)d).", limit=NOTE_LIMIT, n=len(note)
        )
    if len(measure) > 40 or len(value) > 40:
        problems["value"] = _("Keep the measurement to 40 characters.")
    if value and not measure:
        problems["measure"] = _("Say what you measured, for example weight or steps.")
    if problems:
        raise GoalError(problems)
    entry = ProgressEntry(
        goal_id=goal.id,
        patient_id=goal.patient_id,
        outcome=outcome,
        note=note,
        measure=measure,
        value=value,
        key=key,
        after_goal_ended=goal.status in ENDED,
        typed_by_id=actor.id,
        logged_at=_believable(logged_at),
    )
    session.add(entry)
    try:
        session.commit()
    except IntegrityError:  # the same entry, arriving twice at once
        session.rollback()
        found = session.exec(
            select(ProgressEntry).where(
                ProgressEntry.patient_id == goal.patient_id, ProgressEntry.key == key
            )
        ).one()
        return found, False
    return entry, True


def progress(session: Session, actor: Actor, goal_id: int, limit: int = 20) -> list[ProgressEntry]:
    """Return a goal's latest progress entries, newest first."""
    goal = get_goal(session, actor, goal_id)
    return list(
        session.exec(
            select(ProgressEntry)
            .where(ProgressEntry.goal_id == goal.id)
            .order_by(col(ProgressEntry.logged_at).desc(), col(ProgressEntry.id).desc())
            .limit(limit)
        )
    )


# --- what a kept page depends on ------------------------------------------------------------
# Every change to a goal or its actions adds a GoalEvent, and progress entries are only ever
# added, so the newest ids (with the goals' own version and time of change) name a state.


def _goal_with_stamp() -> Any:
    """Build, once, the query for a goal and what its page shows beyond the goal row."""
    from webapp.goals.models import GoalReminder

    goal_id = bindparam("goal_id")
    return select(
        Goal,
        select(func.max(GoalEvent.id)).where(GoalEvent.goal_id == goal_id).scalar_subquery(),
        select(func.max(ProgressEntry.id))
        .where(ProgressEntry.goal_id == goal_id)
        .scalar_subquery(),
        select(GoalReminder.days).where(GoalReminder.goal_id == goal_id).scalar_subquery(),
        select(GoalReminder.at).where(GoalReminder.goal_id == goal_id).scalar_subquery(),
    ).where(Goal.id == goal_id)


_GOAL_WITH_STAMP: Any = None


def goal_with_stamp(session: Session, actor: Actor, goal_id: int) -> tuple[Goal, tuple]:
    """Return one of the actor's goals and a stamp of everything its page shows (the newest
    change, entry and reminder), in one query; or raise NotFound."""
    global _GOAL_WITH_STAMP
    if _GOAL_WITH_STAMP is None:
        _GOAL_WITH_STAMP = _goal_with_stamp()
    row = session.exec(_GOAL_WITH_STAMP, params={"goal_id": goal_id}).first()
    require(actor, "goals.own", row[0].patient_id if row is not None else None)
    assert row is not None
    goal, *stamp = row
    if not sees_goal(actor, goal):
        raise NotFound()
    return goal, (goal.version, goal.updated_at, goal.status, goal.shared, *stamp)


def _goals_stamp() -> Any:
    """Build, once, the query for what a person's goal list and plan show."""
    from webapp.goals.models import CarePlan

    patient_id = bindparam("patient_id")
    mine = select(Goal.id).where(Goal.patient_id == patient_id)
    return select(
        select(func.count(Goal.id)).where(Goal.patient_id == patient_id).scalar_subquery(),
        select(func.max(Goal.updated_at)).where(Goal.patient_id == patient_id).scalar_subquery(),
        select(func.max(GoalEvent.id)).where(col(GoalEvent.goal_id).in_(mine)).scalar_subquery(),
        select(func.max(CarePlan.updated_at))
        .where(CarePlan.patient_id == patient_id)
        .scalar_subquery(),
    )


_GOALS_STAMP: Any = None


def goals_stamp(session: Session, patient_id: int) -> tuple:
    """Return what a person's goal list and plan show, in one query (no access check: the
    caller shows the person their own)."""
    global _GOALS_STAMP
    if _GOALS_STAMP is None:
        _GOALS_STAMP = _goals_stamp()
    return tuple(session.exec(_GOALS_STAMP, params={"patient_id": patient_id}).one())
