"""The review cycle: one review for one person at one practice, and where it has got to."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from webapp.db import utcnow


class ReviewStatus(enum.StrEnum):
    """Where a review has got to, in the order the cycle moves (it never moves back)."""

    PLANNED = "planned"
    RESULTS_RELEASED = "results_released"
    PREPARED = "prepared"
    HELD = "held"
    PLAN_AGREED = "plan_agreed"

    @property
    def order(self) -> int:
        """Return the step's place in the cycle, from 0."""
        return list(ReviewStatus).index(self)


class Review(SQLModel, table=True):
    """A care and support planning review: the person, their practice, the clinician, when."""

    # A person's next review is looked up on their home page, every visit.
    # The practice's list of coming reviews is read soonest first, a page at a time.
    __table_args__ = (
        Index("ix_review_patient_when", "patient_id", "scheduled_at"),
        Index("ix_review_practice_when", "practice_id", "scheduled_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    clinician_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    scheduled_at: dt.datetime
    status: str = Field(default=ReviewStatus.PLANNED, max_length=20)
    # Results go to the person on this day (UK), or when staff release them.
    release_on: dt.date | None = None
    results_released_at: dt.datetime | None = None
    # When the person said they were ready for the review.
    prepared_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
