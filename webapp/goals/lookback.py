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
    """Goals to look back on, each with the stretch between reviews it is looked back on for,
    and each side's score for that stretch. `since` is the review the stretch starts from
    when all share one (the care team's view of one review)."""

    goals: list[Goal]
    scores: dict[tuple[int, str], GoalScore]
    stretch: dict[int, Review] = field(default_factory=dict)
    since: Review | None = None

    def of(self, goal: Goal, side: str) -> GoalScore | None:
        """Return one side's score of a goal for its stretch, if given."""
        return self.scores.get((goal.id or 0, side))


def _scores(session: Session, stretch: dict[int, Review]) -> dict[tuple[int, str], GoalScore]:
    if not stretch:
        return {}
    found = session.exec(select(GoalScore).where(col(GoalScore.goal_id).in_(list(stretch))))
    return {
        (s.goal_id, s.side): s
        for s in found
        if s.goal_id in stretch and s.after_review_id == stretch[s.goal_id].id
    }


def _person_stretches(session: Session, patient_id: int) -> dict[int, tuple[Goal, Review]]:
    """Return each goal the person looks back on now, with the review its stretch starts from:
    every goal in the plan since the last review behind them, whatever review agreed it."""
    reviews = cycle.reviews_of(session, patient_id)
    now = utcnow()
    found: dict[int, tuple[Goal, Review]] = {}
    agreed = session.exec(
        select(Goal)
        .where(
            Goal.patient_id == patient_id,
            col(Goal.person_agreed_at).is_not(None),
            col(Goal.clinician_agreed_at).is_not(None),
        )
        .order_by(Goal.position, Goal.id)
    )
    for goal in agreed:
        start = cycle.stretch_of(goal, reviews, now)
        if start is not None and goal.id is not None and cycle.in_stretch(goal, start, reviews):
            found[goal.id] = (goal, start)
    return found


def mine(session: Session, actor: Actor, patient_id: int) -> LookBack:
    """Return every goal in the person's plan since their last review, to look back on."""
    require(actor, "goals.own", patient_id)
    found = _person_stretches(session, patient_id)
    # A carer never sees a goal the person made private.
    goals = [goal for goal, _start in found.values() if sees_goal(actor, goal)]
    stretch = {goal.id: found[goal.id][1] for goal in goals if goal.id is not None}
    return LookBack(goals=goals, scores=_scores(session, stretch), stretch=stretch)


def before_review(session: Session, actor: Actor, review: Review) -> LookBack:
    """Return the goals of the stretch that ends at this review (for staff of its practice):
    every shared goal in the plan since the review before, whatever review agreed it."""
    require(actor, "reviews.manage", review.practice_id)
    reviews = cycle.reviews_of(session, review.patient_id, review.practice_id)
    start = cycle.previous(reviews, review)
    if start is None:
        return LookBack(goals=[], scores={})
    # Staff see only what the person still shares.
    goals = cycle.stretch_goals(session, start, shared_only=True, reviews=reviews)
    stretch = {goal.id: start for goal in goals if goal.id is not None}
    return LookBack(goals=goals, scores=_scores(session, stretch), stretch=stretch, since=start)


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
    start = _stretch_for(session, actor, goal, side, review_id)
    if start is None:
        raise GoalError(
            {
                "score": _(
                    "This goal left the plan before the last review, so it was looked back on "
                    "then. Look back on the goals in the plan now."
                )
            }
        )
    checked, words = _check(value, comment)
    found = {
        s.side: s
        for s in session.exec(
            select(GoalScore).where(
                GoalScore.goal_id == goal.id, GoalScore.after_review_id == start.id
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
            after_review_id=start.id,
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
        after_review=start.id,
    )
    session.commit()
    return mine_before


def _stretch_for(
    session: Session, actor: Actor, goal: Goal, side: str, review_id: int | None
) -> Review | None:
    """Return the review the stretch being scored starts from, or None if the goal was not in
    the plan during it."""
    if side == "clinician" and review_id:
        review = session.get(Review, review_id)
        if review is None or review.patient_id != goal.patient_id:
            raise NotFound()
        require(actor, "plan.agree", review.practice_id)
        reviews = cycle.reviews_of(session, review.patient_id, review.practice_id)
        start = cycle.previous(reviews, review)
        if start is None or not cycle.in_stretch(goal, start, reviews):
            return None
        return start
    found = _person_stretches(session, goal.patient_id).get(goal.id or 0)
    return found[1] if found else None
