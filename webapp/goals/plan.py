"""The agreed plan: the person and a clinician agree shared goals at the review, each from
their own side; the clinician adds care-team actions and a note. Without HTTP.

A goal is agreed when both sides have agreed the same version of it. Changing a draft's
words asks both to agree again, and an agreement sent from a page showing an older version
is refused (the goal is shown again), so nobody agrees to words they have not read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import update
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require, sees_goal
from webapp.accounts.models import Person
from webapp.db import utcnow
from webapp.goals import cycle
from webapp.goals import services as goals
from webapp.goals.models import CarePlan, GoalAction
from webapp.goals.services import GoalError
from webapp.planning.models import Goal
from webapp.reviews.models import Review, ReviewStatus

NOTE_LIMIT = 2000


def stale() -> str:
    """Say that the goal changed since the page showing it was opened."""
    return _(
        "This goal changed since the page was opened. Read it again, then agree it if you still do."
    )


SIDES = ("person", "clinician")


@dataclass
class ReviewPlan:
    """What staff see of the plan for one review: only the goals the person shared."""

    review: Review
    patient: Person
    goals: list[Goal]
    actions: dict[int, list[GoalAction]]
    plan: CarePlan | None
    clinician_names: dict[int, str] = field(default_factory=dict)
    # What the review carried over from earlier reviews and what left the plan since the
    # review before (only goals the person shares).
    across: cycle.AtReview = field(default_factory=cycle.AtReview)


@dataclass
class CurrentPlan:
    """The person's current agreed plan, and the shared goals still waiting to be agreed."""

    plan: CarePlan | None
    review: Review | None
    person_name: str
    clinician_name: str
    goals: list[Goal]
    actions: dict[int, list[GoalAction]]
    waiting: list[Goal]
    clinician_names: dict[int, str] = field(default_factory=dict)
    # The review each goal of the plan was agreed at.
    agreed_at_review: dict[int, Review] = field(default_factory=dict)

    def carried_over(self, goal: Goal) -> bool:
        """Say whether a goal in the plan joined it at an earlier review than the latest."""
        came = self.agreed_at_review.get(goal.id or 0)
        return self.plan is not None and came is not None and came.id != self.plan.review_id

    @property
    def agreed_on(self) -> dt.datetime | None:
        """Return when the plan was agreed (its latest agreement), or the day of the review
        that carried it over with nothing new agreed."""
        if self.plan is None:
            return None
        return self.plan.agreed_at or (self.review.scheduled_at if self.review else None)


def _actions_of(session: Session, goal_ids: list[int]) -> dict[int, list[GoalAction]]:
    found: dict[int, list[GoalAction]] = {goal_id: [] for goal_id in goal_ids}
    if goal_ids:
        for action in session.exec(
            select(GoalAction)
            .where(col(GoalAction.goal_id).in_(goal_ids))
            .order_by(GoalAction.position, GoalAction.id)
        ):
            found[action.goal_id].append(action)
    return found


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.exec(select(Person.id, Person.name).where(col(Person.id).in_(wanted)))
    return {person_id: name for person_id, name in rows if person_id is not None}


def _plan_for(session: Session, review: Review) -> CarePlan | None:
    return session.exec(select(CarePlan).where(CarePlan.review_id == review.id)).first()


def _plan_or_new(session: Session, review: Review) -> CarePlan:
    plan = _plan_for(session, review)
    if plan is None:
        assert review.id is not None
        plan = CarePlan(review_id=review.id, patient_id=review.patient_id)
        session.add(plan)
    return plan


# --- the care team's side -------------------------------------------------------------------


def review_plan(session: Session, actor: Actor, review_id: int, record: bool) -> ReviewPlan:
    """Return the shared goals of a review with their actions and the plan's note, for staff.

    With `record`, the read is an audit event (a page view, not a page re-shown after a form
    was refused).
    """
    review = session.get(Review, review_id)
    require(actor, "reviews.manage", review.practice_id if review else None)
    assert review is not None
    patient = session.get(Person, review.patient_id)
    assert patient is not None
    shared = list(
        session.exec(
            select(Goal)
            .where(
                Goal.review_id == review.id,
                col(Goal.shared).is_(True),
            )
            .order_by(Goal.position, Goal.id)
        )
    )
    plan = _plan_for(session, review)
    across = cycle.at_review(session, review, shared_only=True)
    ids = [g.id for g in shared + across.carried if g.id is not None]
    actions = _actions_of(session, ids)
    names = _names(
        session,
        {g.agreed_by_id for g in shared + across.carried}
        | {a.created_by_id for acts in actions.values() for a in acts}
        | ({plan.note_by_id} if plan else set()),
    )
    if record:
        audit.record(session, actor.id, "plan.read", review.patient_id, review_id=review.id)
        session.commit()
    return ReviewPlan(
        review=review,
        patient=patient,
        goals=shared,
        actions=actions,
        plan=plan,
        clinician_names=names,
        across=across,
    )


def _staff_goal(session: Session, actor: Actor, goal_id: int, permission: str) -> Goal:
    """Return a goal the person shared for a review of the actor's practice, or NotFound."""
    goal = session.get(Goal, goal_id)
    review = session.get(Review, goal.review_id) if goal and goal.review_id else None
    # Staff never act on the care team's side for their own goals.
    if goal is None or review is None or not goal.shared or goal.patient_id == actor.id:
        raise NotFound()
    require(actor, permission, review.practice_id)
    return goal


def staff_goal_review_id(session: Session, actor: Actor, goal_id: int) -> int:
    """Return the review a shared goal belongs to, for staff of its practice (or NotFound)."""
    goal = _staff_goal(session, actor, goal_id, "reviews.manage")
    assert goal.review_id is not None
    return goal.review_id


def staff_review_for(session: Session, actor: Actor, goal_id: int, review_id: int) -> int:
    """Return the review page to go back to after acting on a shared goal: the review named
    (when it is the same person's, at the same practice) or else the goal's own review."""
    own = staff_goal_review_id(session, actor, goal_id)
    if review_id and review_id != own:
        goal = session.get(Goal, goal_id)
        named = session.get(Review, review_id)
        mine = session.get(Review, own)
        if (
            goal is not None
            and named is not None
            and mine is not None
            and named.patient_id == goal.patient_id
            and named.practice_id == mine.practice_id
        ):
            return review_id
    return own


def _checked_note(note: str, field: str) -> str:
    """Return a plan note as kept (outer spaces trimmed), or raise GoalError for `field`."""
    note = note.strip().replace("\r\n", "\n")
    if len(note) > NOTE_LIMIT:
        raise GoalError(
            {
                field: _(
                    "Keep the note to %(limit)d characters (it is %(n)d).",
                    limit=NOTE_LIMIT,
                    n=len(note),
                )
            }
        )
    return note


def set_note(session: Session, actor: Actor, review_id: int, note: str) -> CarePlan:
    """Keep the clinician's note on the plan (what was agreed, in their words)."""
    review = session.get(Review, review_id)
    require(actor, "plan.agree", review.practice_id if review else None)
    assert review is not None
    note = _checked_note(note, "note")
    plan = _plan_or_new(session, review)
    if plan.note != note:
        plan.note = note
        plan.note_by_id = actor.id
        plan.updated_at = utcnow()
        audit.record(session, actor.id, "plan.note", review.patient_id, review_id=review.id)
    session.commit()
    return plan


def add_care_team_action(
    session: Session, actor: Actor, goal_id: int, form: dict[str, str]
) -> GoalAction:
    """Add the care team's own step under a shared goal (owner: my care team)."""
    goal = _staff_goal(session, actor, goal_id, "plan.agree")
    checked = goals.check_action({**form, "owner": "care_team"})
    count = len(_actions_of(session, [goal.id])[goal.id]) if goal.id else 0
    action = GoalAction(goal_id=goal.id, position=count + 1, created_by_id=actor.id, **checked)
    session.add(action)
    session.flush()
    goals.record_event(session, actor, goal, "action_added", action=action.text, owner="care_team")
    session.commit()
    return action


# --- agreeing, from either side -------------------------------------------------------------


def _finish(session: Session, actor: Actor, goal: Goal) -> None:
    """Both sides agree: the goal is agreed, the review's plan is dated and named."""
    review = session.get(Review, goal.review_id)
    assert review is not None
    now = utcnow()
    goal.status = "agreed"
    plan = _plan_or_new(session, review)
    plan.agreed_at = now
    plan.clinician_id = goal.agreed_by_id
    plan.updated_at = now
    goals.record_event(session, actor, goal, "agreed")
    # The review's plan is agreed once its time has come and no shared draft waits (agreeing
    # ahead of the review does not close it early).
    waiting = session.exec(
        select(Goal.id).where(
            Goal.review_id == review.id,
            Goal.status == "draft",
            col(Goal.shared).is_(True),
            Goal.id != goal.id,
        )
    ).first()
    started = review.scheduled_at <= now
    if (
        started
        and waiting is None
        and ReviewStatus(review.status).order < ReviewStatus.PLAN_AGREED.order
    ):
        review.status = ReviewStatus.PLAN_AGREED
        review.updated_at = now


def agree(
    session: Session, actor: Actor, goal_id: int, side: str, agreed: bool, version: int
) -> Goal:
    """Agree a goal (or take the agreement back) from the person's or the clinician's side.

    Only a shared draft linked to a review can be agreed; the version must be the one the
    agreeing side read. When both have agreed, the goal is agreed and the plan is dated.
    """
    if side == "clinician":
        goal = _staff_goal(session, actor, goal_id, "plan.agree")
    elif side == "person":
        goal = goals.get_goal(session, actor, goal_id)
        if actor.acting is not None:
            raise GoalError(
                {
                    "agree": _(
                        "Only %(name)s can agree a goal with their care team. You can help "
                        "them get ready, and they agree it themselves.",
                        name=actor.acting.person_name,
                    )
                }
            )
    else:
        raise ValueError(side)
    if goal.status != "draft":
        raise GoalError({"agree": _("This goal is already %(status)s.", status=_(goal.status))})
    if goal.version != version:
        raise GoalError({"agree": stale()})
    if goal.review_id is None or not goal.shared:
        raise GoalError(
            {
                "agree": _(
                    "Goals are agreed at a review. Share this goal with your care team, and"
                    " agree it together once a review is booked."
                )
            }
        )
    # Claim this version first, so two agreements at the same moment cannot both read the
    # other side as missing: the second waits, finds a newer version, and is asked again.
    claimed = session.exec(
        update(Goal)
        .where(col(Goal.id) == goal.id, col(Goal.version) == version)
        .values(version=version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise GoalError({"agree": stale()})
    session.refresh(goal)
    now = utcnow() if agreed else None
    if side == "person":
        changed = (goal.person_agreed_at is None) == agreed
        goal.person_agreed_at = now
    else:
        changed = (goal.clinician_agreed_at is None) == agreed
        goal.clinician_agreed_at = now
        goal.agreed_by_id = actor.id if agreed else None
    if changed:
        goals.record_event(
            session, actor, goal, "agreed_by" if agreed else "agreement_withdrawn", side=side
        )
    if goal.person_agreed_at is not None and goal.clinician_agreed_at is not None:
        _finish(session, actor, goal)
    session.commit()
    return goal


# --- the person's side ----------------------------------------------------------------------


def set_person_note(session: Session, actor: Actor, patient_id: int, note: str) -> CarePlan:
    """Keep the person's own note on the plan for their coming review."""
    from webapp.reviews.services import next_review

    require(actor, "goals.own", patient_id)
    if actor.acting is not None:
        raise GoalError(
            {
                "person_note": _(
                    "This note is %(name)s's own words to their care team, so only they can "
                    "write it.",
                    name=actor.acting.person_name,
                )
            }
        )
    review = next_review(session, actor, patient_id)
    if review is None:
        raise GoalError(
            {"person_note": _("Your note goes with a review. Once one is booked, add it here.")}
        )
    note = _checked_note(note, "person_note")
    plan = _plan_or_new(session, review)
    if plan.person_note != note:
        plan.person_note = note
        plan.updated_at = utcnow()
        audit.record(session, actor.id, "plan.person_note", patient_id, review_id=review.id)
    session.commit()
    return plan


def coming_plan(session: Session, actor: Actor, patient_id: int) -> CarePlan | None:
    """Return the plan row of the person's coming review, if it has one yet."""
    from webapp.reviews.services import next_review

    require(actor, "goals.own", patient_id)
    review = next_review(session, actor, patient_id)
    return _plan_for(session, review) if review is not None else None


def latest_plan(session: Session, patient_id: int) -> CarePlan | None:
    """Return the plan of the person's latest review that agreed a goal, or that is behind
    them with a note from the clinician (a review that carried the plan over and agreed
    nothing new still tells the person what was said). Callers check access."""
    return session.exec(
        select(CarePlan)
        .join(Review, col(Review.id) == CarePlan.review_id)
        .where(CarePlan.patient_id == patient_id, cycle.shown_plan())
        .order_by(col(Review.scheduled_at).desc())
        .limit(1)
    ).first()


def _joined_reviews(goals_: list[Goal], reviews: list[Review]) -> dict[int, Review]:
    """Return the review each goal was agreed at (where it was agreed at one)."""
    by_practice: dict[int, list[Review]] = {}
    for review in reviews:
        by_practice.setdefault(review.practice_id, []).append(review)
    by_id = {r.id: r for r in reviews}
    found: dict[int, Review] = {}
    for goal in goals_:
        own = by_id.get(goal.review_id)
        came = cycle.joined(goal, by_practice[own.practice_id]) if own else None
        if goal.id is not None and came is not None and came[1] is not None:
            found[goal.id] = came[1]
    return found


def current_plan(session: Session, actor: Actor, patient_id: int) -> CurrentPlan:
    """Return the person's plan: every goal agreed at any review and not yet achieved, changed
    or stopped; the latest agreed plan's notes; what left the plan since the last review; and
    the shared goals waiting to be agreed."""
    require(actor, "goals.own", patient_id)
    plan = latest_plan(session, patient_id)
    reviews = cycle.reviews_of(session, patient_id)
    mine = cycle.plan_goals(session, patient_id)
    if not mine:  # nothing agreed, or every goal a draft again or ended before the last review
        plan = None
    # A carer never sees a goal the person made private, agreed or not.
    agreed = [g for g in mine if sees_goal(actor, g)]
    review = session.get(Review, plan.review_id) if plan else None
    from webapp.reviews.services import upcoming_review

    coming = upcoming_review(session, patient_id)
    reviews_now = [
        r for r in (coming.id if coming else None, plan.review_id if plan else None) if r
    ]
    waiting = list(
        session.exec(
            select(Goal)
            .where(
                Goal.patient_id == patient_id,
                Goal.status == "draft",
                col(Goal.shared).is_(True),
                col(Goal.review_id).in_(reviews_now),
            )
            .order_by(Goal.position, Goal.id)
        )
    )
    waiting = [g for g in waiting if sees_goal(actor, g)]
    person = session.get(Person, patient_id)
    actions = _actions_of(session, [g.id for g in agreed if g.id is not None])
    names = _names(
        session,
        {plan.clinician_id if plan else None, plan.note_by_id if plan else None}
        | {g.agreed_by_id for g in waiting}
        | {a.created_by_id for acts in actions.values() for a in acts},
    )
    return CurrentPlan(
        plan=plan,
        review=review,
        person_name=person.name if person else "",
        clinician_name=names.get(plan.clinician_id, "") if plan and plan.clinician_id else "",
        goals=agreed,
        actions=actions,
        waiting=waiting,
        clinician_names=names,
        agreed_at_review=_joined_reviews(agreed, reviews),
    )
