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

from sqlalchemy import func
from sqlmodel import Session, col, select

from webapp.db import utcnow
from webapp.goals.models import CarePlan
from webapp.goals.services import ENDED
from webapp.planning.models import Goal
from webapp.reviews.models import Review
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


def agreed_goals(patient_id: int, shared_only: bool = False) -> Any:
    """Select the person's goals both sides agreed (only those they share, if asked)."""
    shared = (col(Goal.shared).is_(True),) if shared_only else ()
    return select(Goal).where(
        Goal.patient_id == patient_id,
        *shared,
        col(Goal.person_agreed_at).is_not(None),
        col(Goal.clinician_agreed_at).is_not(None),
    )


def reviews_of(session: Session, patient_id: int, practice_id: int | None = None) -> list[Review]:
    """Return the person's reviews, earliest first (at one practice, if given)."""
    query = select(Review).where(Review.patient_id == patient_id)
    if practice_id is not None:
        query = query.where(Review.practice_id == practice_id)
    return list(session.exec(query.order_by(Review.scheduled_at, Review.id)))


def over_at(review: Review) -> dt.datetime:
    """Return when a review is behind the person: 12 hours after its time, whatever its
    status (so marking a plan agreed at 10:10, or ahead of time, moves no stretch)."""
    return review.scheduled_at + STILL_NEXT_FOR


def is_over(review: Review, now: dt.datetime | None = None) -> bool:
    """Say whether a review is behind the person (see `over_at`)."""
    return over_at(review) < (now or utcnow())


def previous(reviews: list[Review], review: Review) -> Review | None:
    """Return the review before this one in a list from `reviews_of`, if any."""
    before = [r for r in reviews if r.scheduled_at < review.scheduled_at]
    return before[-1] if before else None


def joined(goal: Goal, reviews: list[Review]) -> tuple[dt.datetime, Review | None] | None:
    """Return when an agreed goal joined the plan, as a point on the reviews' line, and the
    review it was agreed at (None when agreed between reviews). `reviews` are its practice's.

    Agreed at or ahead of the review it was drafted for: that review. Agreed later, within
    12 hours either side of a later review's time: that review (drafted for the spring
    review, agreed in the room in summer). Otherwise between reviews: its own time.
    """
    by_id = {r.id: r for r in reviews}
    own = by_id.get(goal.review_id)
    when = agreed_on(goal)
    if own is None or when is None:
        return None
    if when <= over_at(own):
        return own.scheduled_at, own
    for review in reviews:
        if review.scheduled_at > own.scheduled_at and (
            review.scheduled_at - STILL_NEXT_FOR <= when <= over_at(review)
        ):
            return review.scheduled_at, review
    return when, None


def in_stretch(goal: Goal, review: Review, reviews: list[Review]) -> bool:
    """Say whether a goal is looked back on before `review`: it joined the plan before this
    review (see `joined`), and was still in the plan when the review before was over.
    `reviews` are the practice's, from `reviews_of`.

    A goal ended during a review (marked achieved at 10:30 at a 10:00 review) belongs to the
    stretch before that review, not the next one.
    """
    found = joined(goal, reviews)
    if found is None or found[0] >= review.scheduled_at:
        return False
    before = previous(reviews, review)
    return before is None or goal.ended_at is None or goal.ended_at >= over_at(before)


def target_of(goal: Goal, reviews: list[Review], now: dt.datetime | None = None) -> Review | None:
    """Return the review the person looks back on this goal for now: the first review of
    the goal's practice after it joined the plan that is not yet behind them (None if none
    is booked). `reviews` are the practice's, from `reviews_of`."""
    found = joined(goal, reviews)
    if found is None:
        return None
    for review in reviews:
        if review.scheduled_at > found[0] and not is_over(review, now):
            return review
    return None


def stretch_goals(
    session: Session, review: Review, shared_only: bool = False, reviews: list[Review] | None = None
) -> list[Goal]:
    """Return the goals to look back on before `review` (at its practice)."""
    if reviews is None:
        reviews = reviews_of(session, review.patient_id, review.practice_id)
    found = session.exec(
        agreed_goals(review.patient_id, shared_only)
        .where(col(Goal.review_id).in_([r.id for r in reviews]))
        .order_by(Goal.position, Goal.id)
    )
    return [g for g in found if in_stretch(g, review, reviews)]


def last_over(reviews: list[Review], now: dt.datetime | None = None) -> Review | None:
    """Return the latest review behind the person, if any."""
    behind = [r for r in reviews if is_over(r, now)]
    return behind[-1] if behind else None


def plan_goals(session: Session, patient_id: int, now: dt.datetime | None = None) -> list[Goal]:
    """Return the goals of the person's plan now: every agreed goal not yet ended, and those
    ended since the last review behind them (shown as achieved, changed or stopped until
    the next review is behind them too)."""
    behind = last_over(reviews_of(session, patient_id), now)
    since = over_at(behind) if behind is not None else None
    return [
        g
        for g in session.exec(
            agreed_goals(patient_id, False)
            .where(col(Goal.status).in_(("agreed", *ENDED)))
            .order_by(Goal.position, Goal.id)
        )
        if g.status == "agreed" or since is None or (g.ended_at or since) >= since
    ]


def plan_stamp(session: Session, patient_id: int) -> tuple:
    """Return what, besides the goals themselves, changes which goals the plan and looking
    back show: how many reviews are behind the person now, and the last change to any."""
    now = utcnow()
    return session.exec(
        select(
            func.count(col(Review.id)).filter(Review.scheduled_at < now - STILL_NEXT_FOR),
            func.max(Review.updated_at),
        ).where(Review.patient_id == patient_id)
    ).one()


@dataclass
class AtReview:
    """One review's plan as the care team sees it: what it carried over from earlier reviews,
    what left the plan since the review before, and the goals new at this review."""

    carried: list[Goal] = field(default_factory=list)
    ended: list[Goal] = field(default_factory=list)
    agreed_on: dict[int, dt.datetime] = field(default_factory=dict)


def at_review(session: Session, review: Review, shared_only: bool = True) -> AtReview:
    """Return what the review carried over (still in the plan once it was over) and what
    left the plan since the review before it was over."""
    reviews = reviews_of(session, review.patient_id, review.practice_id)
    before = previous(reviews, review)
    earlier_ids = [r.id for r in reviews if r.scheduled_at < review.scheduled_at]
    if not earlier_ids:
        return AtReview()
    until = over_at(review)
    since = over_at(before) if before is not None else None
    found = AtReview()
    for goal in session.exec(
        agreed_goals(review.patient_id, shared_only)
        .where(col(Goal.review_id).in_(earlier_ids))
        .order_by(Goal.position, Goal.id)
    ):
        when = agreed_on(goal)
        came = joined(goal, reviews)
        if when is None or came is None or came[0] >= review.scheduled_at:
            continue  # agreed at this review (new here) or after it
        if goal.ended_at is None or goal.ended_at >= until:
            found.carried.append(goal)
        elif since is None or goal.ended_at >= since:
            found.ended.append(goal)
        else:
            continue
        if goal.id is not None:
            found.agreed_on[goal.id] = when
    return found


def shown_plan() -> Any:
    """The condition for a review's plan to count as one the person has: it agreed a goal,
    or the review is behind them with a note from the clinician (it carried the plan over
    and agreed nothing new, but says what was said). Needs Review joined."""
    over = Review.scheduled_at < utcnow() - STILL_NEXT_FOR
    return col(CarePlan.agreed_at).is_not(None) | (over & (CarePlan.note != ""))


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
            .where(CarePlan.patient_id == patient_id, shown_plan())
            .order_by(col(Review.scheduled_at).desc())
        )
    )
    goals = list(session.exec(agreed_goals(patient_id, False).order_by(Goal.position, Goal.id)))
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
