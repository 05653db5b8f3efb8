"""Looking back before the next review: each agreed goal scored on a goal attainment scale
from -2 (much less than expected) to +2 (much more), by the person first, in their own words,
and then by a clinician. Without HTTP.

The T-score summarises a set of scores the standard way (Kiresuk and Sherman): equal weights
and an assumed correlation of 0.3 between goals, so 50 means "as expected" on average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp.access import Actor, require, sees_goal
from webapp.db import utcnow
from webapp.goals.models import CarePlan, GoalScore
from webapp.goals.plan import latest_plan
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
    """The goals of one agreed plan, each with the person's and the clinician's score."""

    plan: CarePlan | None
    goals: list[Goal]
    scores: dict[tuple[int, str], GoalScore]

    def of(self, goal: Goal, side: str) -> GoalScore | None:
        """Return one side's score of a goal, if given."""
        return self.scores.get((goal.id or 0, side))


def _agreed_goals(session: Session, plan: CarePlan, shared_only: bool = False) -> list[Goal]:
    shared = (col(Goal.shared).is_(True),) if shared_only else ()
    return list(
        session.exec(
            select(Goal)
            .where(
                *shared,
                Goal.review_id == plan.review_id,
                col(Goal.person_agreed_at).is_not(None),
                col(Goal.clinician_agreed_at).is_not(None),
            )
            .order_by(Goal.position, Goal.id)
        )
    )


def _look_back(session: Session, plan: CarePlan | None, shared_only: bool = False) -> LookBack:
    if plan is None:
        return LookBack(plan=None, goals=[], scores={})
    goals = _agreed_goals(session, plan, shared_only)
    ids = [g.id for g in goals]
    scores = {
        (s.goal_id, s.side): s
        for s in session.exec(select(GoalScore).where(col(GoalScore.goal_id).in_(ids)))
    }
    return LookBack(plan=plan, goals=goals, scores=scores)


def mine(session: Session, actor: Actor, patient_id: int) -> LookBack:
    """Return the goals of the person's latest agreed plan, to look back on."""
    require(actor, "goals.own", patient_id)
    found = _look_back(session, latest_plan(session, patient_id))
    found.goals = [g for g in found.goals if sees_goal(actor, g)]  # a carer: no private goals
    return found


def before_review(session: Session, actor: Actor, review: Review) -> LookBack:
    """Return the plan agreed before this review (for staff of its practice), to look back."""
    require(actor, "reviews.manage", review.practice_id)
    plan = session.exec(
        select(CarePlan)
        .join(Review, col(Review.id) == CarePlan.review_id)
        .where(
            CarePlan.patient_id == review.patient_id,
            col(CarePlan.agreed_at).is_not(None),
            Review.practice_id == review.practice_id,
            Review.scheduled_at < review.scheduled_at,
        )
        .order_by(col(Review.scheduled_at).desc())
        .limit(1)
    ).first()
    # Staff see only what the person still shares.
    return _look_back(session, plan, shared_only=True)


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


def _agreed(goal: Goal) -> bool:
    return goal.person_agreed_at is not None and goal.clinician_agreed_at is not None


def score(
    session: Session, actor: Actor, goal_id: int, side: str, value: str, comment: str = ""
) -> GoalScore:
    """Score an agreed goal from one side (the person first, then a clinician); a new score
    from the same side replaces the last one, and the history keeps both."""
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
    if not _agreed(goal):
        raise GoalError({"score": _("Only goals agreed at a review are looked back on.")})
    checked, words = _check(value, comment)
    found = {s.side: s for s in session.exec(select(GoalScore).where(GoalScore.goal_id == goal.id))}
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
            goal_id=goal.id, patient_id=goal.patient_id, side=side, score=checked
        )
        session.add(mine_before)
    before = (mine_before.score, mine_before.comment) if mine_before.id else None
    mine_before.score, mine_before.comment = checked, words
    mine_before.scored_by_id, mine_before.scored_at = actor.id, utcnow()
    record_event(
        session, actor, goal, "scored", side=side, score=[before[0] if before else None, checked]
    )
    session.commit()
    return mine_before
