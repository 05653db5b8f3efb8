"""Holding a planning conversation: start or resume, answer, skip, change an answer.

The answers that stand live on the Conversation; every answer as given is a Turn (the
transcript). Where the person is comes from flows.walk, so a resumed conversation, a
changed answer and a flow file changed half-way are all handled the same way.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, can, require, sees_goal
from webapp.accounts.models import given_name
from webapp.content import get_content
from webapp.db import utcnow
from webapp.formatting import day_month_year, local_date
from webapp.goals.services import record_edit
from webapp.planning import flows
from webapp.planning.flows import SKIPPED, AnswerError, Facts, Flow, Walk
from webapp.planning.models import AgendaItem, Conversation, CrisisPlan, Goal, Turn
from webapp.results import services as results
from webapp.reviews.services import upcoming_review


def get_flow(slug: str) -> Flow:
    """Return a flow from content/flows, or raise NotFound."""
    flow = get_content().flows.get(slug)
    if flow is None:
        raise NotFound()
    return flow


def facts_for(session: Session, actor: Actor, patient_id: int, flow: Flow) -> Facts:
    """Gather what a conversation may say: first name, next review, released results.

    Results are read only for flows that speak of them: every turn asks for the facts.
    """
    require(actor, "planning.own", patient_id)
    review = upcoming_review(session, patient_id) if flow.needs_review else None
    # A carer without the results scope holds the conversation as if there were none.
    reads_results = flow.needs_results and can(actor, "results.read_own", patient_id)
    summaries = results.own_results(session, actor, patient_id) if reads_results else []
    # The conversation speaks to the person, also when a carer holds it for them.
    name = actor.acting.person_name if actor.acting is not None else actor.person.name
    return Facts(
        first_name=given_name(name),
        next_review=day_month_year(review.scheduled_at, "wide") if review else "",
        results={
            summary.test.slug: (summary.shown(summary.latest), summary.direction)
            for summary in summaries
            if summary.test is not None
        },
        places={
            summary.test.slug: summary.place
            for summary in summaries
            if summary.test is not None and summary.place is not None
        },
    )


@dataclass
class View:
    """A conversation as the page shows it: the flow, where it is, what it may say."""

    flow: Flow
    conversation: Conversation
    walk: Walk
    facts: Facts

    def say(self, step_id: str) -> str:
        """Return what a step says to this person."""
        return flows.say(self.flow, self.flow.steps[step_id], self.facts, self.walk.answers)

    @property
    def paused(self) -> bool:
        """Say whether the conversation waits for the person to say whether they are safe."""
        return self.conversation.safety_step is not None

    def latest(self) -> list[str]:
        """Return what the app has said since the person's last answer (to announce it)."""
        said: list[str] = []
        for step_id in reversed(self.walk.path):
            if step_id in self.walk.answers:
                break
            words = self.say(step_id)
            if words:
                said.append(words)
        return said[::-1]


def _answers(conversation: Conversation) -> dict[str, Any]:
    return json.loads(conversation.answers or "{}")


# Read on every turn and every visit: built once.
_CONVERSATION = select(Conversation).where(Conversation.id == bindparam("id"))


def _own(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    conversation = session.exec(_CONVERSATION, params={"id": conversation_id}).first()
    require(actor, "planning.own", conversation.patient_id if conversation else None)
    assert conversation is not None
    _may_hold(session, actor, conversation.patient_id, get_flow(conversation.flow), conversation)
    return conversation


def flows_for(actor: Actor, patient_id: int) -> list[Flow]:
    """Return the flows the actor may hold for the person (a carer: those within scope)."""
    found = []
    for flow in get_content().flows.values():
        try:
            _may_hold(None, actor, patient_id, flow)  # type: ignore[arg-type]
        except NotFound:
            continue
        found.append(flow)
    return found


def _may_hold(
    session: Session,
    actor: Actor,
    patient_id: int,
    flow: Flow,
    conversation: Conversation | None = None,
) -> None:
    """A carer holds a conversation only with every scope it reads or writes: the results it
    speaks of, the goals and crisis plan it writes; and never one that made a goal the person
    keeps private (its answers hold that goal's words)."""
    if actor.acting is None:
        return
    if flow.needs_results:
        require(actor, "results.read_own", patient_id)
    if flow.writes_goals:
        require(actor, "goals.own", patient_id)
    if flow.writes_crisis_plan:
        require(actor, "crisis.own", patient_id)
    if conversation is not None and flow.writes_goals:
        made = session.exec(select(Goal).where(Goal.conversation_id == conversation.id))
        if not all(sees_goal(actor, goal) for goal in made):
            raise NotFound()


def _settle(session: Session, actor: Actor, conversation: Conversation) -> View:
    """Walk the conversation on its flow as it is now.

    Every answer given stays stored; the walk decides which apply. So after an earlier
    answer changes, later answers that still fit are picked up again, not asked twice.
    """
    flow = get_flow(conversation.flow)
    facts = facts_for(session, actor, conversation.patient_id, flow)
    walked = flows.walk(flow, _answers(conversation), facts)
    finished = walked.finished
    if conversation.flow_version != flow.version or finished != (
        conversation.finished_at is not None
    ):
        if finished:
            _produce(session, actor, conversation, flow, walked)
        conversation.flow_version = flow.version
        conversation.finished_at = (conversation.finished_at or utcnow()) if finished else None
        conversation.updated_at = utcnow()
        session.commit()
    return View(flow, conversation, walked, facts)


def _item_text(draft: flows.ItemDraft) -> str:
    """Return an item's words: the person's own, with who could help or their leaning."""
    if draft.kind == "support":
        if draft.text and draft.who:
            return _("%(support)s (from: %(who)s)", support=draft.text, who=draft.who)
        return draft.text or _("Support from: %(who)s", who=draft.who)
    if draft.kind == "decision":
        if draft.leaning:
            return _(
                "%(topic)s: I'm leaning towards “%(leaning)s”",
                topic=draft.topic,
                leaning=draft.leaning,
            )
        return _("%(topic)s: I'm not sure yet", topic=draft.topic)
    return draft.text


def _produce(
    session: Session, actor: Actor, conversation: Conversation, flow: Flow, walked: Walk
) -> None:
    """Turn the answers that stand into agenda items, questions, draft goals, a crisis plan.

    Compared with what they became last time: a new or changed answer writes its item
    (new items are private); an unchanged one leaves the item as the person edited it,
    or gone if they removed it; an answer no longer on the path takes its item away.
    """
    from webapp.results.services import agenda_review

    before = json.loads(conversation.produced or "{}")
    made = flows.outcome(flow, walked)
    now = utcnow()
    review = agenda_review(session, conversation.patient_id)
    review_id = review.id if review else conversation.review_id
    patient_id = conversation.patient_id

    items = {
        item.step: item
        for item in session.exec(
            select(AgendaItem).where(AgendaItem.conversation_id == conversation.id)
        )
    }
    old_items: dict[str, str] = before.get("items", {})
    new_items: dict[str, str] = {}
    for draft in made.items:
        words = _item_text(draft)[:1000]
        # What the answer was, in any language: the item's words are only made from it.
        answer = json.dumps([draft.kind, draft.text, draft.who, draft.topic, draft.leaning])
        new_items[draft.step] = answer
        if old_items.get(draft.step) == answer:
            continue  # unchanged: the person's edit (or removal) stands
        item = items.get(draft.step)
        if item is None:
            item = AgendaItem(
                patient_id=patient_id,
                review_id=review_id,
                kind=draft.kind,
                conversation_id=conversation.id,
                step=draft.step,
                text=words,
                created_by_id=actor.id,
            )
        item.kind, item.text, item.from_answer, item.updated_at = draft.kind, words, words, now
        # New words are not shared until the person shares them again.
        item.review_id, item.shared = review_id, False
        session.add(item)
    for step, item in items.items():
        if step not in new_items:
            session.delete(item)

    goals = {
        goal.step: goal
        for goal in session.exec(select(Goal).where(Goal.conversation_id == conversation.id))
    }
    old_goals: dict[str, dict[str, Any]] = before.get("goals", {})
    new_goals: dict[str, dict[str, Any]] = {}
    for draft in made.goals:
        fields = {"text": draft.text[:1000], **draft.parts}
        new_goals[draft.step] = fields
        was = old_goals.get(draft.step)
        goal = goals.get(draft.step)
        if goal is None and was == fields:
            continue  # the person removed this goal, and its answers did not change
        if goal is not None and goal.status != "draft":
            continue  # agreed with the care team (or finished): a changed answer leaves it
        if goal is None:
            was = None  # a new goal (or a removed one whose answers changed): every part
            goal = Goal(
                patient_id=patient_id,
                review_id=review_id,
                text=draft.text[:1000],
                conversation_id=conversation.id,
                step=draft.step,
                created_by_id=actor.id,
            )
        changed: dict[str, list[Any]] = {}
        for name, value in fields.items():
            if was is None or was.get(name) != value:
                new = value[:1000] if isinstance(value, str) else value
                if goal.id is not None and getattr(goal, name) != new:
                    changed[name] = [getattr(goal, name), new]
                setattr(goal, name, new)
        for name in set(was or {}) - set(fields):
            setattr(goal, name, None if name in ("importance", "confidence") else "")
        goal.from_answer, goal.updated_at = draft.text[:1000], now
        goal.review_id, goal.shared = review_id, False
        session.add(goal)
        record_edit(session, actor, goal, changed, source="conversation")
    for step, goal in goals.items():
        if step not in new_goals and goal.status == "draft":
            session.delete(goal)

    old_crisis: dict[str, str] = before.get("crisis", {})
    if made.crisis != old_crisis:
        plan = session.exec(select(CrisisPlan).where(CrisisPlan.patient_id == patient_id)).first()
        if plan is None and any(made.crisis.values()):
            plan = CrisisPlan(patient_id=patient_id)
            old_crisis = {}  # new, or removed by the person: every part from the answers
        if plan is not None:
            _write_plan(session, actor, conversation, plan, made.crisis, old_crisis)
    conversation.produced = json.dumps(
        {"items": new_items, "goals": new_goals, "crisis": made.crisis}, sort_keys=True
    )


def _write_plan(
    session: Session,
    actor: Actor,
    conversation: Conversation,
    plan: CrisisPlan,
    crisis: dict[str, str],
    before: dict[str, str],
) -> None:
    """Write the parts of the crisis plan whose answers changed; keep the person's edits."""
    for name in set(crisis) | set(before):
        if crisis.get(name) != before.get(name):
            setattr(plan, name, crisis.get(name, "")[:2000])
    # Changed words are not shared until the person shares them again.
    plan.shared = False
    plan.conversation_id, plan.updated_by_id, plan.updated_at = conversation.id, actor.id, utcnow()
    session.add(plan)
    audit.record(session, actor.id, "crisis_plan.write", plan.patient_id)


def start(session: Session, actor: Actor, patient_id: int, slug: str) -> View:
    """Resume the person's unfinished conversation on this flow, or start one."""
    require(actor, "planning.own", patient_id)
    flow = get_flow(slug)
    _may_hold(session, actor, patient_id, flow)
    conversation = session.exec(
        select(Conversation)
        .where(
            Conversation.patient_id == patient_id,
            Conversation.flow == slug,
            col(Conversation.finished_at).is_(None),
        )
        .order_by(col(Conversation.started_at).desc())
        .limit(1)
    ).first()
    if conversation is not None:
        _may_hold(session, actor, patient_id, flow, conversation)
    if conversation is None:
        review = upcoming_review(session, patient_id)
        conversation = Conversation(
            patient_id=patient_id,
            review_id=review.id if review else None,
            flow=slug,
            flow_version=flow.version,
        )
        session.add(conversation)
        session.flush()
        audit.record(session, actor.id, "conversation.start", patient_id, flow=slug)
        session.commit()
    return _settle(session, actor, conversation)


def progress(session: Session, actor: Actor, patient_id: int) -> dict[str, tuple[int, bool]]:
    """Return, per flow the person has begun, their latest run of it and whether it is done."""
    require(actor, "planning.own", patient_id)
    rows = session.exec(
        select(Conversation.flow, Conversation.id, Conversation.finished_at)
        .where(Conversation.patient_id == patient_id)
        .order_by(col(Conversation.started_at), col(Conversation.id))
    )
    return {flow: (found, finished is not None) for flow, found, finished in rows}


def view(session: Session, actor: Actor, conversation_id: int) -> View:
    """Return a conversation of the actor's own, where it has got to."""
    return _settle(session, actor, _own(session, actor, conversation_id))


def answer(
    session: Session,
    actor: Actor,
    conversation_id: int,
    step_id: str,
    raw: str | list[str],
    key: str,
    skip: bool = False,
    today: dt.date | None = None,
) -> View:
    """Record the answer to the step waiting for one (or skip it); raise AnswerError if wrong.

    `key` comes with the form: the same form posted twice records one turn.
    """
    conversation = _own(session, actor, conversation_id)
    current = _settle(session, actor, conversation)
    if session.exec(
        select(Turn.id).where(Turn.conversation_id == conversation.id, Turn.key == key[:64])
    ).first():
        return current  # already recorded: a form sent twice
    if current.paused:
        raise AnswerError(_("First, please tell us whether you are safe right now."))
    if current.walk.waiting != step_id:
        raise AnswerError(_("That question has already been answered. Here is where you are now."))
    step = current.flow.steps[step_id]
    value = SKIPPED if skip else flows.check_answer(step, raw, today or local_date(utcnow()))
    if step.ask == "text" and value != SKIPPED:
        found = get_content().crisis.check(value)
        if found is not None:
            # Pause gently (in a flow that asks about hard times on purpose, only until the
            # person has said once that they are safe). What matched is logged; the
            # person's words are not.
            pause = current.flow.safety == "every_answer" or conversation.safety_checked_at is None
            if pause:
                conversation.safety_step = step_id
            audit.record(
                session,
                actor.id,
                "safety.match",
                conversation.patient_id,
                where="conversation",
                conversation_id=conversation.id,
                step=step_id,
                category=found.category,
                phrase=found.phrase,
                paused=pause,
            )
    answers = _answers(conversation)
    answers[step_id] = value
    conversation.answers = json.dumps(answers, sort_keys=True)
    conversation.updated_at = utcnow()
    session.add(
        Turn(
            conversation_id=conversation.id,
            step=step_id,
            answer=json.dumps(value),
            key=key[:64],
            typed_by_id=actor.id,
        )
    )
    try:
        session.commit()
    except IntegrityError:  # the same form, sent twice at once
        session.rollback()
    return _settle(session, actor, conversation)


def change(session: Session, actor: Actor, conversation_id: int, step_id: str) -> View:
    """Open an earlier answer again; later answers that still apply are kept."""
    conversation = _own(session, actor, conversation_id)
    current = _settle(session, actor, conversation)
    if step_id not in current.walk.answers:
        raise NotFound()
    answers = _answers(conversation)
    answers.pop(step_id, None)
    # The later answers stay stored, so the walk picks them up again where they still fit.
    conversation.answers = json.dumps(answers, sort_keys=True)
    conversation.finished_at = None
    conversation.updated_at = utcnow()
    session.commit()
    return _settle(session, actor, conversation)


SAFETY_CHOICES = ("carry-on", "not-safe", "stop")


def safety(session: Session, actor: Actor, conversation_id: int, choice: str) -> View:
    """Record the person's answer to "are you safe right now?"; only carrying on unpauses."""
    conversation = _own(session, actor, conversation_id)
    if choice not in SAFETY_CHOICES:
        raise AnswerError(_("Choose one of the answers, then Confirm."))
    if conversation.safety_step is not None:
        audit.record(
            session,
            actor.id,
            "safety.choice",
            conversation.patient_id,
            conversation_id=conversation.id,
            choice=choice,
        )
        if choice == "carry-on" and actor.acting is not None:
            raise AnswerError(
                _(
                    "Only %(name)s can say they are safe. If you are with them and worried, "
                    "the help lines below are there any time.",
                    name=actor.acting.person_name,
                )
            )
        if choice == "carry-on":
            conversation.safety_step = None
            conversation.safety_checked_at = utcnow()
        conversation.updated_at = utcnow()
        session.commit()
    return _settle(session, actor, conversation)


def transcript_with_names(
    session: Session, actor: Actor, conversation_id: int
) -> tuple[View, list[tuple[Turn, str]]]:
    """Return the conversation and every answer as given, each with who typed it."""
    from webapp.accounts.models import Person

    turns = transcript(session, actor, conversation_id)
    typed_by = {turn.typed_by_id for turn in turns if turn.typed_by_id is not None}
    names = dict(
        session.exec(select(Person.id, Person.name).where(col(Person.id).in_(typed_by))).all()
        if typed_by
        else []
    )
    return view(session, actor, conversation_id), [
        (turn, names.get(turn.typed_by_id, "")) for turn in turns
    ]


def transcript(session: Session, actor: Actor, conversation_id: int) -> list[Turn]:
    """Return every answer as it was given, oldest first (changed ones included)."""
    conversation = _own(session, actor, conversation_id)
    return list(
        session.exec(
            select(Turn)
            .where(Turn.conversation_id == conversation.id)
            .order_by(Turn.created_at, Turn.id)
        )
    )
