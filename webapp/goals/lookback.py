"""Looking back before the next review: each goal in the plan scored on a goal attainment
scale from -2 (much less than expected) to +2 (much more), by the person first, in their own
words, and then by a clinician. Without HTTP.

A goal is looked back on once for every stretch between two reviews it spent in the plan,
whatever review agreed it (see webapp/goals/cycle.py), so a goal carried over twice is
scored three times and each look back counts once.

The T-score summarises a set of scores the standard way (Kiresuk and Sherman): equal weights
and an assumed correlation of 0.3 between goals, so 50 means "as expected" on average.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp.access import Actor, require, sees_goal
from webapp.db import utcnow
from webapp.goals import cycle
from webapp.goals.models import GoalScore
from webapp.goals.services import GoalError, get_goal, record_event
from webapp.planning.models import Goal
from webapp.reviews.models import Review

SCORES = (-2, -1, 0, 1, 2)
COMMENT_LIMIT = 1000
RHO = 0.3


def t_score(scores: list[int]) -> float | None:
    """Return the goal attainment T-score of a set of scores (equal weights), or None."""
    if not scores:
        return None
    n = len(scores)
    return 50 + 10 * sum(scores) / math.sqrt((1 - RHO) * n + RHO * n * n)


@dataclass
class LookBack:
    """Goals to look back on, each with the review it is looked back on for, and each side's
    score for that review. `since` is the review before (the care team's view of one review);
    `unbooked` are goals in the plan with no review booked yet to look back for."""

    goals: list[Goal]
    scores: dict[tuple[int, str], GoalScore]
    target: dict[int, Review] = field(default_factory=dict)
    since: Review | None = None
    unbooked: list[Goal] = field(default_factory=list)

    def of(self, goal: Goal, side: str) -> GoalScore | None:
        """Return one side's score of a goal for its review, if given."""
        return self.scores.get((goal.id or 0, side))

    @property
    def reviews(self) -> list[Review]:
        """The reviews these goals are looked back on for, soonest first."""
        return sorted(
            {r.id: r for r in self.target.values()}.values(), key=lambda r: r.scheduled_at
        )


def _scores(session: Session, target: dict[int, Review]) -> dict[tuple[int, str], GoalScore]:
    if not target:
        return {}
    found = session.exec(select(GoalScore).where(col(GoalScore.goal_id).in_(list(target))))
    return {
        (s.goal_id, s.side): s
        for s in found
        if s.goal_id in target and s.for_review_id == target[s.goal_id].id
    }


def _person_targets(
    session: Session, patient_id: int
) -> tuple[dict[int, tuple[Goal, Review]], list[Goal]]:
    """Return each goal the person looks back on now, with the review it is for (every goal
    in the plan since the last review of its practice, whatever review agreed it), and the
    goals in the plan with no review booked yet to look back for."""
    reviews = cycle.reviews_of(session, patient_id)
    by_practice: dict[int, list[Review]] = {}
    for review in reviews:
        by_practice.setdefault(review.practice_id, []).append(review)
    by_id = {r.id: r for r in reviews}
    now = utcnow()
    found: dict[int, tuple[Goal, Review]] = {}
    unbooked: list[Goal] = []
    agreed = session.exec(cycle.agreed_goals(patient_id).order_by(Goal.position, Goal.id))
    for goal in agreed:
        own = by_id.get(goal.review_id)
        if own is None or goal.id is None:
            continue
        practice = by_practice[own.practice_id]
        target = cycle.target_of(goal, practice, now)
        if target is None:
            if goal.status == "agreed":
                unbooked.append(goal)
        elif cycle.in_stretch(goal, target, practice):
            found[goal.id] = (goal, target)
    return found, unbooked


def mine(session: Session, actor: Actor, patient_id: int) -> LookBack:
    """Return every goal in the person's plan since their last review, to look back on
    before the next."""
    require(actor, "goals.own", patient_id)
    found, unbooked = _person_targets(session, patient_id)
    # Only the goals for each practice's first review coming: one just agreed at a review
    # is looked back on before the next one, once this one is behind the person.
    first: dict[int, dt.datetime] = {}
    for _goal, review in found.values():
        known = first.get(review.practice_id)
        if known is None or review.scheduled_at < known:
            first[review.practice_id] = review.scheduled_at
    # A carer never sees a goal the person made private.
    goals = [
        goal
        for goal, review in found.values()
        if review.scheduled_at == first[review.practice_id] and sees_goal(actor, goal)
    ]
    target = {goal.id: found[goal.id][1] for goal in goals if goal.id is not None}
    return LookBack(
        goals=goals,
        scores=_scores(session, target),
        target=target,
        unbooked=[g for g in unbooked if sees_goal(actor, g)],
    )


def before_review(session: Session, actor: Actor, review: Review) -> LookBack:
    """Return the goals looked back on before this review (for staff of its practice):
    every shared goal in the plan since the review before, whatever review agreed it."""
    require(actor, "reviews.manage", review.practice_id)
    reviews = cycle.reviews_of(session, review.patient_id, review.practice_id)
    # Staff see only what the person still shares.
    goals = cycle.stretch_goals(session, review, shared_only=True, reviews=reviews)
    target = {goal.id: review for goal in goals if goal.id is not None}
    return LookBack(
        goals=goals,
        scores=_scores(session, target),
        target=target,
        since=cycle.previous(reviews, review),
    )


def _check(value: str, comment: str) -> tuple[int, str]:
    problems = {}
    try:
        score = int(value.strip())
    except ValueError:
        score = None
    if score not in SCORES:
        problems["score"] = _("Choose how it went, from much less than expected to much more.")
    comment = comment.strip().replace("\r\n", "\n")
    if len(comment) > COMMENT_LIMIT:
        problems["comment"] = _(
            "Keep this to %(limit)d characters (it is %(n)d).", limit=COMMENT_LIMIT, n=len(comment)
        )
    if problems:
        raise GoalError(problems)
    assert score is not None
    return score, comment


def score(
    session: Session,
    actor: Actor,
    goal_id: int,
    side: str,
    value: str,
    comment: str = "",
    review_id: int | None = None,
) -> GoalScore:
    """Score an agreed goal for its stretch between reviews, from one side (the person first,
    then a clinician); a new score from the same side for the same stretch replaces the last
    one, and the history keeps both.

    The person scores the stretch they are in now. A clinician scores the stretch that ends at
    the review they are looking at (`review_id`), or else the person's current one.
    """
    if side == "person":
        goal = get_goal(session, actor, goal_id)
        if actor.acting is not None:
            raise GoalError(
                {
                    "score": _(
                        "Looking back is %(name)s's own view, so only they can give it.",
                        name=actor.acting.person_name,
                    )
                }
            )
    elif side == "clinician":
        goal = session.get(Goal, goal_id)
        review = session.get(Review, goal.review_id) if goal and goal.review_id else None
        if goal is None or review is None or not goal.shared or goal.patient_id == actor.id:
            raise NotFound()
        require(actor, "plan.agree", review.practice_id)
    else:
        raise ValueError(side)
    if not cycle.both_agreed(goal):
        raise GoalError({"score": _("Only goals agreed at a review are looked back on.")})
    target = _target_for(session, actor, goal, side, review_id)
    checked, words = _check(value, comment)
    found = {
        s.side: s
        for s in session.exec(
            select(GoalScore).where(
                GoalScore.goal_id == goal.id, GoalScore.for_review_id == target.id
            )
        )
    }
    if side == "clinician" and "person" not in found:
        raise GoalError(
            {
                "score": _(
                    "The person's own look back comes first. Ask them to score this goal, then"
                    " add yours."
                )
            }
        )
    mine_before = found.get(side)
    if mine_before is None:
        assert goal.id is not None
        mine_before = GoalScore(
            goal_id=goal.id,
            patient_id=goal.patient_id,
            side=side,
            score=checked,
            for_review_id=target.id,
        )
        session.add(mine_before)
    before = (mine_before.score, mine_before.comment) if mine_before.id else None
    mine_before.score, mine_before.comment = checked, words
    mine_before.scored_by_id, mine_before.scored_at = actor.id, utcnow()
    record_event(
        session,
        actor,
        goal,
        "scored",
        side=side,
        score=[before[0] if before else None, checked],
        for_review=target.id,
    )
    session.commit()
    return mine_before


def _target_for(
    session: Session, actor: Actor, goal: Goal, side: str, review_id: int | None
) -> Review:
    """Return the review a look back is for, or raise GoalError saying why there is none."""
    if side == "clinician" and review_id:
        review = session.get(Review, review_id)
        if review is None or review.patient_id != goal.patient_id:
            raise NotFound()
        require(actor, "plan.agree", review.practice_id)
        reviews = cycle.reviews_of(session, review.patient_id, review.practice_id)
        if not cycle.in_stretch(goal, review, reviews):
            raise GoalError(
                {
                    "score": _(
                        "This goal was not in the plan before this review, so it is not looked "
                        "back on here."
                    )
                }
            )
        return review
    found, unbooked = _person_targets(session, goal.patient_id)
    if goal.id in found:
        return found[goal.id][1]
    if goal in unbooked:
        raise GoalError(
            {
                "score": _(
                    "Looking back comes before your next review. Once it is booked, you can "
                    "look back on this goal here."
                )
            }
        )
    raise GoalError(
        {
            "score": _(
                "This goal left the plan before the last review, so it was looked back on "
                "then. Look back on the goals in the plan now."
            )
        }
    )
