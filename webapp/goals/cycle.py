"""The plan across reviews: which goals are in the person's plan now, which stretch between two
reviews a look back belongs to, and what a review carried over, changed and added. Without
HTTP, and without access checks (callers check).

The plan is the person's living set of agreed goals. A goal joins it when both sides have
agreed it, at whichever review, and stays until the person marks it achieved, changed or
stopped. Reviews cut the year into stretches: a goal is looked back on once for every
stretch it spent in the plan, and each look back names the review its stretch starts from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from webapp.db import utcnow
from webapp.goals.models import CarePlan
from webapp.planning.models import Goal
from webapp.reviews.models import Review, ReviewStatus
from webapp.reviews.services import STILL_NEXT_FOR


def both_agreed(goal: Goal) -> bool:
    """Say whether both the person and a clinician have agreed the goal."""
    return goal.person_agreed_at is not None and goal.clinician_agreed_at is not None


def agreed_on(goal: Goal) -> dt.datetime | None:
    """Return when the goal was agreed by both (the later of the two agreements)."""
    if not both_agreed(goal):
        return None
    assert goal.person_agreed_at is not None and goal.clinician_agreed_at is not None
    return max(goal.person_agreed_at, goal.clinician_agreed_at)


def _agreed_goals(patient_id: int, shared_only: bool) -> Any:
    shared = (col(Goal.shared).is_(True),) if shared_only else ()
    return select(Goal).where(
        Goal.patient_id == patient_id,
        *shared,
        col(Goal.person_agreed_at).is_not(None),
        col(Goal.clinician_agreed_at).is_not(None),
    )


def living_goals(session: Session, patient_id: int, shared_only: bool = False) -> list[Goal]:
    """Return the goals in the person's plan now, whatever review each was agreed at."""
    return list(
        session.exec(
            _agreed_goals(patient_id, shared_only)
            .where(Goal.status == "agreed")
            .order_by(Goal.position, Goal.id)
        )
    )


def reviews_of(session: Session, patient_id: int, practice_id: int | None = None) -> list[Review]:
    """Return the person's reviews, earliest first (at one practice, if given)."""
    query = select(Review).where(Review.patient_id == patient_id)
    if practice_id is not None:
        query = query.where(Review.practice_id == practice_id)
    return list(session.exec(query.order_by(Review.scheduled_at, Review.id)))


def is_closed(review: Review, now: dt.datetime | None = None) -> bool:
    """Say whether a review is behind the person: its plan agreed, or its time well past (the
    rule that makes a review no longer the person's next one)."""
    now = now or utcnow()
    return review.status == ReviewStatus.PLAN_AGREED or review.scheduled_at < now - STILL_NEXT_FOR


def previous(reviews: list[Review], review: Review) -> Review | None:
    """Return the review before this one in a list from `reviews_of`, if any."""
    before = [r for r in reviews if r.scheduled_at < review.scheduled_at]
    return before[-1] if before else None


def following(reviews: list[Review], review: Review) -> Review | None:
    """Return the review after this one in a list from `reviews_of`, if any."""
    after = [r for r in reviews if r.scheduled_at > review.scheduled_at]
    return after[0] if after else None


def stretch_of(goal: Goal, reviews: list[Review], now: dt.datetime | None = None) -> Review | None:
    """Return the review the goal's current stretch starts from, from the person's side: the
    latest review behind them at or after the one the goal was agreed at (or that one)."""
    by_id = {r.id: r for r in reviews}
    start = by_id.get(goal.review_id)
    if start is None:
        return None
    for review in reviews:
        if review.scheduled_at >= start.scheduled_at and is_closed(review, now):
            start = review
    return start


def in_stretch(goal: Goal, start: Review, reviews: list[Review]) -> bool:
    """Say whether an agreed goal was in the plan during the stretch after `start`: agreed at
    that review or an earlier one, and not ended before it."""
    by_id = {r.id: r for r in reviews}
    agreed_at = by_id.get(goal.review_id)
    if agreed_at is None or not both_agreed(goal) or agreed_at.scheduled_at > start.scheduled_at:
        return False
    return goal.ended_at is None or goal.ended_at >= start.scheduled_at


def stretch_goals(
    session: Session, start: Review, shared_only: bool = False, reviews: list[Review] | None = None
) -> list[Goal]:
    """Return the goals to look back on for the stretch after `start` (at its practice)."""
    reviews = reviews or reviews_of(session, start.patient_id, start.practice_id)
    found = session.exec(
        _agreed_goals(start.patient_id, shared_only)
        .where(col(Goal.review_id).in_([r.id for r in reviews]))
        .order_by(Goal.position, Goal.id)
    )
    return [g for g in found if in_stretch(g, start, reviews)]


@dataclass
class AtReview:
    """One review's plan as the care team sees it: what it carried over from earlier reviews,
    what left the plan since the review before, and the goals new at this review."""

    carried: list[Goal] = field(default_factory=list)
    ended: list[Goal] = field(default_factory=list)
    agreed_on: dict[int, dt.datetime] = field(default_factory=dict)


def at_review(session: Session, review: Review, shared_only: bool = True) -> AtReview:
    """Return what the review carried over and what changed since the review before it."""
    reviews = reviews_of(session, review.patient_id, review.practice_id)
    before = previous(reviews, review)
    earlier_ids = [r.id for r in reviews if r.scheduled_at < review.scheduled_at]
    if not earlier_ids:
        return AtReview()
    until = review.scheduled_at + STILL_NEXT_FOR
    since = before.scheduled_at if before is not None else None
    found = AtReview()
    for goal in session.exec(
        _agreed_goals(review.patient_id, shared_only)
        .where(col(Goal.review_id).in_(earlier_ids))
        .order_by(Goal.position, Goal.id)
    ):
        if goal.ended_at is None or goal.ended_at > until:
            found.carried.append(goal)
        elif since is None or goal.ended_at >= since:
            found.ended.append(goal)
        else:
            continue
        when = agreed_on(goal)
        if when is not None and goal.id is not None:
            found.agreed_on[goal.id] = when
    return found


@dataclass
class PlanStage:
    """One agreed plan in the person's history, with the goals agreed at it and its FHIR
    status: the latest is active; an earlier one is completed, or revoked when every goal
    agreed at it was stopped or changed rather than achieved or carried on."""

    plan: CarePlan
    review: Review
    goals: list[Goal]
    status: str


def history(session: Session, patient_id: int) -> list[PlanStage]:
    """Return every agreed plan of the person, latest first, with its goals and status."""
    rows = list(
        session.exec(
            select(CarePlan, Review)
            .join(Review, col(Review.id) == CarePlan.review_id)
            .where(CarePlan.patient_id == patient_id, col(CarePlan.agreed_at).is_not(None))
            .order_by(col(Review.scheduled_at).desc())
        )
    )
    goals = list(session.exec(_agreed_goals(patient_id, False).order_by(Goal.position, Goal.id)))
    stages = []
    for index, (plan, review) in enumerate(rows):
        mine = [g for g in goals if g.review_id == plan.review_id]
        if index == 0:
            status = "active"
        elif mine and all(g.status in ("stopped", "changed") for g in mine):
            status = "revoked"
        else:
            status = "completed"
        stages.append(PlanStage(plan=plan, review=review, goals=mine, status=status))
    return stages
