"""The person's agenda for a review: what they want to talk about."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from webapp.db import utcnow


class AgendaItem(SQLModel, table=True):
    """One thing the person wants to talk about at a review, in their words or from a result."""

    __table_args__ = (Index("ix_agendaitem_patient_review", "patient_id", "review_id"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    review_id: int | None = Field(default=None, foreign_key="review.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)
    # For an item about a result: the test's slug.
    test: str | None = Field(default=None, max_length=200)
    text: str = Field(max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)
