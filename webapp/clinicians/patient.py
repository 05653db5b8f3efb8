"""One patient as their practice's care team sees them: only what the person shared, their
reviews, progress on shared goals and the agreed plan; every read is an audit event."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from webapp import audit
from webapp.access import Actor
from webapp.accounts.models import Person
from webapp.conditions.services import PersonCondition, conditions_of
from webapp.db import utcnow
from webapp.goals import cycle
from webapp.goals.models import CarePlan, GoalAction
from webapp.goals.progress import Progress, goal_progress_unchecked
from webapp.planning import summary as planning_summary
from webapp.planning.models import Goal
from webapp.reviews import services as reviews
from webapp.reviews.models import Review, ReviewStatus


@dataclass
class PatientView:
    """What the care team sees of one patient."""

    patient: Person
    reviews: list[Review]
    next_review: Review | None
    shared: planning_summary.Summary | None
    goals: list[Goal]
    progress: dict[int, Progress]
    plan: CarePlan | None
    plan_goals: list[Goal] = field(default_factory=list)
    actions: dict[int, list[GoalAction]] = field(default_factory=dict)
    # Long-term conditions the care team recorded or a GP system sent (not what the person
    # chose as mattering most: that is theirs).
    conditions: list[PersonCondition] = field(default_factory=list)


def patient_view(session: Session, actor: Actor, practice_id: int, patient_id: int) -> PatientView:
    """Return what the practice's staff see of one of its patients, and record the read.

    Another practice's staff, or anyone else, get NotFound, as for a record that does not
    exist.
    """
    patient = reviews.practice_patient(session, actor, practice_id, patient_id)
    all_reviews = list(
        session.exec(
            select(Review)
            .where(Review.patient_id == patient_id, Review.practice_id == practice_id)
            .order_by(col(Review.scheduled_at).desc())
        )
    )
    coming = session.exec(
        select(Review)
        .where(
            Review.patient_id == patient_id,
            Review.practice_id == practice_id,
            Review.scheduled_at >= utcnow() - reviews.STILL_NEXT_FOR,
            Review.status != ReviewStatus.PLAN_AGREED,
        )
        .order_by(Review.scheduled_at)
        .limit(1)
    ).first()
    shared = (
        planning_summary.shared_for_review(session, actor, coming, record=False) if coming else None
    )
    review_ids = [r.id for r in all_reviews]
    shared_goals = list(
        session.exec(
            select(Goal)
            .where(
                Goal.patient_id == patient_id,
                col(Goal.shared).is_(True),
                col(Goal.review_id).in_(review_ids),
            )
            .order_by(Goal.position, Goal.id)
        )
    )
    plan = session.exec(
        select(CarePlan)
        .join(Review, col(Review.id) == CarePlan.review_id)
        .where(
            CarePlan.patient_id == patient_id,
            Review.practice_id == practice_id,
            cycle.shown_plan(),
        )
        .order_by(col(Review.scheduled_at).desc())
        .limit(1)
    ).first()
    # The plan is every shared goal in it now, whatever review of this practice agreed it.
    plan_goals = [
        g
        for g in shared_goals
        if plan is not None and g.status == "agreed" and cycle.both_agreed(g)
    ]
    actions: dict[int, list[GoalAction]] = {g.id: [] for g in plan_goals if g.id is not None}
    if actions:
        for action in session.exec(
            select(GoalAction)
            .where(col(GoalAction.goal_id).in_(list(actions)))
            .order_by(GoalAction.position, GoalAction.id)
        ):
            actions[action.goal_id].append(action)
    progress = {
        g.id: goal_progress_unchecked(session, g.id)
        for g in shared_goals
        if g.id is not None and g.status in ("agreed", "achieved")
    }
    audit.record(session, actor.id, "care_team.read_patient", patient_id, practice_id=practice_id)
    session.commit()
    return PatientView(
        patient=patient,
        reviews=all_reviews,
        next_review=coming,
        shared=shared,
        goals=shared_goals,
        progress=progress,
        plan=plan if plan_goals else None,
        plan_goals=plan_goals,
        actions=actions,
        conditions=conditions_of(session, patient_id),
    )
