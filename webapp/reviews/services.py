"""What staff and patients do with reviews: plan, reschedule, move along, find the next one."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.accounts.models import Person, Practice, PracticeRole, Role
from webapp.db import utcnow
from webapp.planning.models import AgendaItem, Goal
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
    # What the person prepared while no review was booked now belongs to this one.
    for model in (AgendaItem, Goal):
        session.exec(
            update(model)
            .where(model.patient_id == patient_id, col(model.review_id).is_(None))
            .values(review_id=review.id)
        )
    # So does a look back given before any later review was booked (kept from before looking
    # back was tied to a review).
    from webapp.goals.models import GoalScore

    session.exec(
        update(GoalScore)
        .where(GoalScore.patient_id == patient_id, col(GoalScore.for_review_id).is_(None))
        .values(for_review_id=review.id)
    )
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
    return upcoming_review(session, patient_id)


# The person's next review is looked up on their home and results pages: built once.
_NEXT = (
    select(Review)
    .where(
        Review.patient_id == bindparam("patient_id"),
        Review.scheduled_at >= bindparam("since"),
        Review.status != ReviewStatus.PLAN_AGREED,
    )
    .order_by(Review.scheduled_at)
    .limit(1)
)


def upcoming_review(session: Session, patient_id: int) -> Review | None:
    """Return the person's next review without an access check (callers check)."""
    return session.exec(
        _NEXT, params={"patient_id": patient_id, "since": utcnow() - STILL_NEXT_FOR}
    ).first()


def own_review(session: Session, actor: Actor, review_id: int) -> Review:
    """Return one of the actor's own reviews, or raise NotFound."""
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound()
    require(actor, "reviews.read_own", review.patient_id)
    return review


def _pattern(query: str) -> str:
    """Return a LIKE pattern for words typed in a search (two characters at least), or ""."""
    text = " ".join(query.split())[:100].lower()
    if len(text) < 2:
        return ""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _coming_reviews(search: bool) -> Any:
    """Build, once, the query for a page of a practice's coming reviews (optionally only
    patients whose name matches), each with how many things the person shared for it."""
    shared = (
        select(func.count(AgendaItem.id))
        .where(AgendaItem.review_id == Review.id, col(AgendaItem.shared).is_(True))
        .scalar_subquery()
    ) + (
        select(func.count(Goal.id))
        .where(Goal.review_id == Review.id, col(Goal.shared).is_(True))
        .scalar_subquery()
    )
    where = [
        Review.practice_id == bindparam("practice_id"),
        Review.scheduled_at >= bindparam("since"),
        Review.status != ReviewStatus.PLAN_AGREED,
    ]
    if search:
        where.append(func.lower(Person.name).like(bindparam("pattern"), escape="\\"))
    return (
        select(Review, Person.name, shared)
        .join(Person, Person.id == Review.patient_id)
        .where(*where)
        .order_by(Review.scheduled_at, Review.id)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


_COMING: dict[bool, Any] = {}


def list_reviews(
    session: Session,
    actor: Actor,
    practice_id: int,
    page: int = 1,
    per_page: int = 20,
    query: str = "",
) -> tuple[list[tuple[Review, str, int]], bool]:
    """Return one page of the practice's reviews still to be held, soonest first, each with
    the patient's name and how many things they shared for it (agenda items and goals);
    optionally only patients whose name contains `query`; and whether more follow."""
    require(actor, "reviews.manage", practice_id)
    pattern = _pattern(query)
    statement = _COMING.get(bool(pattern))
    if statement is None:
        statement = _COMING[bool(pattern)] = _coming_reviews(bool(pattern))
    params: dict[str, Any] = {
        "practice_id": practice_id,
        "since": utcnow() - STILL_NEXT_FOR,
        "offset": (max(page, 1) - 1) * per_page,
        "limit": per_page + 1,
    }
    if pattern:
        params["pattern"] = pattern
    rows = session.exec(statement, params=params).all()
    return [(r, name, count or 0) for r, name, count in rows[:per_page]], len(rows) > per_page


def search_patients(
    session: Session, actor: Actor, practice_id: int, query: str, limit: int = 20
) -> list[Person]:
    """Return up to `limit` patients of the practice whose name or email contains the query."""
    require(actor, "reviews.manage", practice_id)
    pattern = _pattern(query)
    if not pattern:
        return []
    return list(
        session.exec(
            select(Person)
            .join(PracticeRole, PracticeRole.person_id == Person.id)
            .where(
                PracticeRole.practice_id == practice_id,
                PracticeRole.role == Role.PATIENT,
                func.lower(Person.name).like(pattern, escape="\\")
                | func.lower(func.coalesce(Person.email, "")).like(pattern, escape="\\"),
            )
            .order_by(Person.name, Person.id)
            .limit(limit)
        )
    )


def practice_patient(session: Session, actor: Actor, practice_id: int, patient_id: int) -> Person:
    """Return a patient of the practice for staff planning their review, or raise NotFound."""
    require(actor, "reviews.manage", practice_id)
    person = session.get(Person, patient_id)
    if person is None or not _has_role(session, patient_id, practice_id, Role.PATIENT):
        raise NotFound()
    return person


def practice_clinicians(session: Session, actor: Actor, practice_id: int) -> list[Person]:
    """Return the practice's clinicians, by name, for choosing who holds a review."""
    require(actor, "reviews.manage", practice_id)
    return list(
        session.exec(
            select(Person)
            .join(PracticeRole, PracticeRole.person_id == Person.id)
            .where(PracticeRole.practice_id == practice_id, PracticeRole.role == Role.CLINICIAN)
            .order_by(Person.name)
        )
    )


def parse_review_time(day: str, time: str) -> dt.datetime:
    """Read a date (YYYY-MM-DD) and time (HH:MM) given in UK time; raise ReviewError if wrong."""
    try:
        date = dt.date.fromisoformat(day.strip())
    except ValueError:
        raise ReviewError(_("Enter the date of the review, like 2026-12-14."), "day") from None
    try:
        clock = dt.time.fromisoformat(time.strip())
    except ValueError:
        raise ReviewError(_("Enter the time of the review, like 09:30."), "time") from None
    return dt.datetime.combine(date, clock, tzinfo=ZoneInfo("Europe/London")).astimezone(dt.UTC)


def calendar_file(session: Session, actor: Actor, review_id: int, host: str) -> bytes:
    """Return the person's review as an iCalendar file, with no health information in it."""
    review = own_review(session, actor, review_id)
    practice = session.get(Practice, review.practice_id)
    calendar = Calendar()
    calendar.add("prodid", "-//Coproduce//Reviews//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"review-{review.id}@{host}")
    event.add("dtstamp", utcnow())
    event.add("dtstart", review.scheduled_at)
    event.add("duration", dt.timedelta(minutes=30))
    event.add("summary", _("Review at %(practice)s", practice=practice.name if practice else ""))
    if practice:
        event.add("location", practice.name)
    calendar.add_component(event)
    return calendar.to_ical()
