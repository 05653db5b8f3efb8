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
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.content import get_content
from webapp.db import utcnow
from webapp.formatting import day_month_year, local_date
from webapp.planning import flows
from webapp.planning.flows import SKIPPED, AnswerError, Facts, Flow, Walk
from webapp.planning.models import Conversation, Turn
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
    review = upcoming_review(session, patient_id)
    summaries = results.own_results(session, actor, patient_id) if flow.needs_results else []
    return Facts(
        first_name=actor.person.first_name,
        next_review=day_month_year(review.scheduled_at, "wide") if review else "",
        results={
            summary.test.slug: (summary.shown(summary.latest), summary.direction)
            for summary in summaries
            if summary.test is not None
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
        return flows.say(self.flow.steps[step_id], self.facts)


def _answers(conversation: Conversation) -> dict[str, Any]:
    return json.loads(conversation.answers or "{}")


def _own(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    require(actor, "planning.own", conversation.patient_id if conversation else None)
    assert conversation is not None
    return conversation


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
        conversation.flow_version = flow.version
        conversation.finished_at = (conversation.finished_at or utcnow()) if finished else None
        conversation.updated_at = utcnow()
        session.commit()
    return View(flow, conversation, walked, facts)


def start(session: Session, actor: Actor, patient_id: int, slug: str) -> View:
    """Resume the person's unfinished conversation on this flow, or start one."""
    require(actor, "planning.own", patient_id)
    flow = get_flow(slug)
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
    if current.walk.waiting != step_id:
        raise AnswerError(_("That question has already been answered. Here is where you are now."))
    step = current.flow.steps[step_id]
    value = SKIPPED if skip else flows.check_answer(step, raw, today or local_date(utcnow()))
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
