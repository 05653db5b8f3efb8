"""What staff and patients do with reviews: plan, reschedule, move along, find the next one."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlmodel import Session, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.accounts.models import PracticeRole, Role
from webapp.db import utcnow
from webapp.reviews.models import Review, ReviewStatus

# How long after its time a review still counts as "next" (the day of the review itself).
STILL_NEXT_FOR = dt.timedelta(hours=12)


class ReviewError(Exception):
    """Something staff can put right; the message says what and how."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _has_role(session: Session, person_id: int, practice_id: int, *roles: str) -> bool:
    """Say whether the person holds any of the roles in the practice."""
    return (
        session.exec(
            select(PracticeRole.id).where(
                PracticeRole.person_id == person_id,
                PracticeRole.practice_id == practice_id,
                PracticeRole.role.in_(roles),
            )
        ).first()
        is not None
    )


def _check_time(scheduled_at: dt.datetime) -> dt.datetime:
    """Return the review time in UTC, or raise ReviewError if it is missing or past."""
    if scheduled_at.tzinfo is None:
        raise ValueError("review times must be timezone-aware")
    if scheduled_at < utcnow() - dt.timedelta(minutes=5):
        raise ReviewError(
            _("The review time has already passed. Choose a time from now on."), "scheduled_at"
        )
    return scheduled_at.astimezone(dt.UTC)


def get_review(session: Session, actor: Actor, review_id: int) -> Review:
    """Return a review the actor may manage (staff of its practice), or raise NotFound."""
    review = session.get(Review, review_id)
    require(actor, "reviews.manage", review.practice_id if review else None)
    assert review is not None
    return review


def create_review(
    session: Session,
    actor: Actor,
    practice_id: int,
    patient_id: int,
    scheduled_at: dt.datetime,
    clinician_id: int | None = None,
) -> Review:
    """Plan a review for a patient of the practice, optionally with one of its clinicians."""
    require(actor, "reviews.manage", practice_id)
    if not _has_role(session, patient_id, practice_id, Role.PATIENT):
        raise ReviewError(_("That person is not a patient of this practice."), "patient")
    if clinician_id is not None and not _has_role(
        session, clinician_id, practice_id, Role.CLINICIAN
    ):
        raise ReviewError(_("That person is not a clinician in this practice."), "clinician")
    review = Review(
        practice_id=practice_id,
        patient_id=patient_id,
        clinician_id=clinician_id,
        scheduled_at=_check_time(scheduled_at),
    )
    session.add(review)
    session.flush()
    audit.record(session, actor.id, "review.create", patient_id, review_id=review.id)
    session.commit()
    return review


def reschedule_review(
    session: Session, actor: Actor, review_id: int, scheduled_at: dt.datetime
) -> Review:
    """Move a review that has not yet been held to a new time."""
    review = get_review(session, actor, review_id)
    if ReviewStatus(review.status).order >= ReviewStatus.HELD.order:
        raise ReviewError(_("This review has already been held, so it cannot be moved."))
    review.scheduled_at = _check_time(scheduled_at)
    review.updated_at = utcnow()
    audit.record(session, actor.id, "review.reschedule", review.patient_id, review_id=review.id)
    session.commit()
    return review


def advance_review(session: Session, actor: Actor, review_id: int, status: str) -> Review:
    """Move a review on to a later step of the cycle (never back)."""
    review = get_review(session, actor, review_id)
    try:
        target = ReviewStatus(status)
    except ValueError:
        raise ReviewError(_("That is not a step of the review cycle.")) from None
    if target.order <= ReviewStatus(review.status).order:
        raise ReviewError(_("A review only moves forward; it is already past that step."))
    review.status = target
    review.updated_at = utcnow()
    audit.record(
        session,
        actor.id,
        "review.status",
        review.patient_id,
        review_id=review.id,
        status=target.value,
    )
    session.commit()
    return review


def next_review(session: Session, actor: Actor, patient_id: int) -> Review | None:
    """Return the person's next review (today's included) that has no agreed plan yet."""
    require(actor, "reviews.read_own", patient_id)
    return session.exec(
        select(Review)
        .where(
            Review.patient_id == patient_id,
            Review.scheduled_at >= utcnow() - STILL_NEXT_FOR,
            Review.status != ReviewStatus.PLAN_AGREED,
        )
        .order_by(Review.scheduled_at)
        .limit(1)
    ).first()


def own_review(session: Session, actor: Actor, review_id: int) -> Review:
    """Return one of the actor's own reviews, or raise NotFound."""
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound()
    require(actor, "reviews.read_own", review.patient_id)
    return review
