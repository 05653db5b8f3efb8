"""What a person takes to their review: their agenda, questions, draft goals, crisis plan.

Everything here is the person's, private until they share it with their care team. They
can edit, remove and share each item, and say when they are ready for the review.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, can, require, sees_goal
from webapp.content import get_content
from webapp.db import utcnow
from webapp.goals.services import record_edit
from webapp.planning.models import AgendaItem, CrisisPlan, Goal
from webapp.reviews.models import Review, ReviewStatus
from webapp.reviews.services import upcoming_review
from webapp.safety.check import Match

# Kinds of agenda item shown under "to talk about"; questions have their own list.
TALK_ABOUT = ("result", "agenda", "support", "decision")
ITEM_LIMIT = 1000
PLAN_LIMIT = 2000
PLAN_FIELDS = ("early_signs", "helps", "avoid", "contacts", "wishes")
GOAL_TEXT_FIELDS = ("text", "why", "importance_reason", "confidence_next", "if_then")


class EditError(ValueError):
    """An edit the person can put right; the message says what and how."""


@dataclass
class Summary:
    """The person's preparation for their next review (or for one not booked yet)."""

    review: Review | None
    items: list[AgendaItem] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    plan: CrisisPlan | None = None

    @property
    def talk_about(self) -> list[AgendaItem]:
        """Return the things to talk about, in the order they were added."""
        return [item for item in self.items if item.kind in TALK_ABOUT]

    @property
    def questions(self) -> list[AgendaItem]:
        """Return the questions for the care team."""
        return [item for item in self.items if item.kind == "question"]

    @property
    def shared_count(self) -> int:
        """Count what the care team will see."""
        shared = [x for x in [*self.items, *self.goals] if x.shared]
        return len(shared) + (1 if self.plan is not None and self.plan.shared else 0)

    @property
    def prepared(self) -> bool:
        """Say whether the person has said they are ready for this review."""
        return self.review is not None and self.review.prepared_at is not None


_ITEMS = {
    True: select(AgendaItem)
    .where(
        AgendaItem.patient_id == bindparam("patient_id"),
        AgendaItem.review_id == bindparam("review_id"),
    )
    .order_by(AgendaItem.created_at, AgendaItem.id),
    False: select(AgendaItem)
    .where(AgendaItem.patient_id == bindparam("patient_id"), col(AgendaItem.review_id).is_(None))
    .order_by(AgendaItem.created_at, AgendaItem.id),
}
_GOALS = {
    True: select(Goal)
    .where(Goal.patient_id == bindparam("patient_id"), Goal.review_id == bindparam("review_id"))
    .order_by(Goal.created_at, Goal.id),
    False: select(Goal)
    .where(Goal.patient_id == bindparam("patient_id"), col(Goal.review_id).is_(None))
    .order_by(Goal.created_at, Goal.id),
}
_PLAN = select(CrisisPlan).where(CrisisPlan.patient_id == bindparam("patient_id"))


def crisis_plan(session: Session, actor: Actor, patient_id: int) -> CrisisPlan | None:
    """Return the person's plan for when they are unwell, if they have written one."""
    require(actor, "crisis.own", patient_id)
    return session.exec(_PLAN, params={"patient_id": patient_id}).first()


def summary(session: Session, actor: Actor, patient_id: int) -> Summary:
    """Return the person's agenda, questions, draft goals and crisis plan for their next review."""
    require(actor, "planning.own", patient_id)
    review = upcoming_review(session, patient_id)
    params = {"patient_id": patient_id, "review_id": review.id if review else None}
    booked = review is not None
    # A carer sees the goals and crisis plan only with those scopes too (and no private goals).
    goals = (
        [g for g in session.exec(_GOALS[booked], params=params) if sees_goal(actor, g)]
        if can(actor, "goals.own", patient_id)
        else []
    )
    plan = (
        session.exec(_PLAN, params={"patient_id": patient_id}).first()
        if can(actor, "crisis.own", patient_id)
        else None
    )
    items = list(session.exec(_ITEMS[booked], params=params))
    if not can(actor, "results.read_own", patient_id):
        items = [item for item in items if item.kind != "result"]  # a carer without results
    return Summary(
        review=review,
        items=items,
        goals=goals,
        plan=plan,
    )


KINDS: dict[str, type[AgendaItem] | type[Goal] | type[CrisisPlan]] = {
    "item": AgendaItem,
    "goal": Goal,
    "crisis-plan": CrisisPlan,
}


def _own(
    session: Session, actor: Actor, kind: str, thing_id: int
) -> AgendaItem | Goal | CrisisPlan:
    model = KINDS.get(kind)
    thing = session.get(model, thing_id) if model is not None else None
    # Each kind is the person's, or a carer's with its own scope (and no private goals).
    permission = {Goal: "goals.own", CrisisPlan: "crisis.own"}.get(model, "planning.own")  # type: ignore[call-overload]
    require(actor, permission, thing.patient_id if thing is not None else None)
    assert thing is not None
    if isinstance(thing, Goal) and not sees_goal(actor, thing):
        raise NotFound()
    if isinstance(thing, AgendaItem) and thing.kind == "result":
        require(actor, "results.read_own", thing.patient_id)
    return thing


def set_shared(session: Session, actor: Actor, kind: str, thing_id: int, shared: bool) -> None:
    """Share something with the care team, or make it private again (only the person decides
    what their care team sees: a carer is refused with EditError)."""
    thing = _own(session, actor, kind, thing_id)
    if actor.acting is not None:
        raise EditError(
            _(
                "Only %(name)s decides what their care team sees, so only they can share or "
                "make private.",
                name=actor.acting.person_name,
            )
        )
    if thing.shared != shared:
        thing.shared = shared
        thing.updated_at = utcnow()
        audit.record(
            session,
            actor.id,
            "planning.share" if shared else "planning.unshare",
            thing.patient_id,
            kind=kind,
            id=thing_id,
        )
        session.commit()


def _words(value: str | None, limit: int, name: str, required: bool = False) -> str:
    words = (value or "").strip().replace("\r\n", "\n")
    if required and not words:
        raise EditError(_("Write some words for %(name)s, or remove it instead.", name=name))
    if len(words) > limit:
        raise EditError(
            _(
                "Keep %(name)s to %(limit)d characters (it is %(n)d).",
                name=name,
                limit=limit,
                n=len(words),
            )
        )
    return words


def _score(value: str | None, name: str) -> int | None:
    raw = (value or "").strip()
    if not raw:
        return None
    try:
        score = int(raw)
    except ValueError:
        score = -1
    if not 0 <= score <= 10:
        raise EditError(_("Choose %(name)s from 0 to 10, or leave it empty.", name=name))
    return score


def _still_a_draft(thing: AgendaItem | Goal | CrisisPlan) -> None:
    """A goal agreed with the care team (or finished) is changed on its own page, by status."""
    if isinstance(thing, Goal) and thing.status != "draft":
        raise EditError(
            _(
                "This goal is agreed with your care team, so its words stay as agreed. If it"
                " no longer fits, mark it changed or stopped on its page, and write a new one."
            )
        )


def edit(
    session: Session, actor: Actor, kind: str, thing_id: int, form: dict[str, str]
) -> Match | None:
    """Change the words of an item, a draft goal or the crisis plan (all checked first).

    New words are checked for crisis language like any answer: the match (never the
    words) is logged and returned, so the page can show help.
    """
    thing = _own(session, actor, kind, thing_id)
    _still_a_draft(thing)
    if isinstance(thing, AgendaItem):
        changes: dict[str, object] = {
            "text": _words(form.get("text"), ITEM_LIMIT, _("the item"), required=True)
        }
    elif isinstance(thing, Goal):
        names = {
            "text": _("the goal"),
            "why": _("why it matters"),
            "importance_reason": _("why it is not lower"),
            "confidence_next": _("what would help"),
            "if_then": _("the if-then plan"),
        }
        changes = {
            name: _words(form.get(name), ITEM_LIMIT, label, required=name == "text")
            for name, label in names.items()
        }
        changes["importance"] = _score(form.get("importance"), _("how important it is"))
        changes["confidence"] = _score(form.get("confidence"), _("how confident you are"))
    else:
        changes = {name: _words(form.get(name), PLAN_LIMIT, _("this part")) for name in PLAN_FIELDS}
        if not any(changes.values()):
            raise EditError(_("Write at least one part of your plan, or remove the plan instead."))
        thing.updated_by_id = actor.id
    if isinstance(thing, Goal):
        record_edit(
            session,
            actor,
            thing,
            {n: [getattr(thing, n), v] for n, v in changes.items() if getattr(thing, n) != v},
        )
    found = None
    for name, value in changes.items():
        if isinstance(value, str) and value != getattr(thing, name) and found is None:
            found = get_content().crisis.check(value)
        setattr(thing, name, value)
    thing.updated_at = utcnow()
    if actor.acting is not None:
        # Words a carer changed are not the person's: the care team sees them only once the
        # person has read them and shares them again.
        thing.shared = False
    audit.record(session, actor.id, "planning.edit", thing.patient_id, kind=kind, id=thing_id)
    if found is not None:
        audit.record(
            session,
            actor.id,
            "safety.match",
            thing.patient_id,
            where="summary",
            category=found.category,
            phrase=found.phrase,
        )
    session.commit()
    return found


def remove(session: Session, actor: Actor, kind: str, thing_id: int) -> None:
    """Remove an item, a draft goal or the crisis plan."""
    thing = _own(session, actor, kind, thing_id)
    _still_a_draft(thing)
    audit.record(session, actor.id, "planning.remove", thing.patient_id, kind=kind, id=thing_id)
    session.delete(thing)
    session.commit()


def ready(session: Session, actor: Actor, patient_id: int) -> Review:
    """Record that the person is ready for their next review; the review becomes prepared."""
    require(actor, "planning.own", patient_id)
    review = upcoming_review(session, patient_id)
    if review is None:
        raise NotFound()
    if actor.acting is not None:
        raise EditError(
            _(
                "Only %(name)s can tell their care team they are ready for the review.",
                name=actor.acting.person_name,
            )
        )
    if review.prepared_at is None:
        review.prepared_at = utcnow()
        if ReviewStatus(review.status).order < ReviewStatus.PREPARED.order:
            review.status = ReviewStatus.PREPARED
        review.updated_at = utcnow()
        audit.record(session, actor.id, "review.prepared", patient_id, review_id=review.id)
        session.commit()
    return review


def shared_for_review(session: Session, actor: Actor, review: Review, record: bool) -> Summary:
    """Return only what the person shared with their care team for this review.

    With `record`, the read goes in the audit log (a page view; not a page re-shown after
    a failed form, whose transaction must not be committed).
    """
    require(actor, "reviews.manage", review.practice_id)
    params = {"patient_id": review.patient_id, "review_id": review.id}
    plan = session.exec(_PLAN, params={"patient_id": review.patient_id}).first()
    found = Summary(
        review=review,
        items=[i for i in session.exec(_ITEMS[True], params=params) if i.shared],
        goals=[g for g in session.exec(_GOALS[True], params=params) if g.shared],
        plan=plan if plan is not None and plan.shared else None,
    )
    if record:
        audit.record(
            session, actor.id, "planning.read_shared", review.patient_id, review_id=review.id
        )
        session.commit()
    return found
