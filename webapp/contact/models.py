"""The table for a person's request that their care team contact them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from webapp.db import utcnow

OPEN = text("acknowledged_at IS NULL")


class ContactRequest(SQLModel, table=True):
    """A person asked for their care team to contact them. It holds only where the choice
    was made (planning or groups), never what the person wrote."""

    __table_args__ = (
        # One open request per person at a time: a second choice finds the first.
        Index(
            "ux_contactrequest_open_person",
            "person_id",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        # The practice's worklist, and the clock's look for requests waiting too long.
        Index("ix_contactrequest_practice_open", "practice_id", "acknowledged_at", "created_at"),
        Index("ix_contactrequest_due", "acknowledged_at", "escalated_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    practice_id: int = Field(foreign_key="practice.id", ondelete="CASCADE")
    # "planning" or "groups": the kind of place only.
    source: str = Field(max_length=20)
    created_at: dt.datetime = Field(default_factory=utcnow)
    # One working day after it was made, in the practice's hours (see contact/hours.py).
    due_at: dt.datetime
    acknowledged_at: dt.datetime | None = None
    acknowledged_by_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL"
    )
    # When it was raised to the practice's admins for waiting too long (once only).
    escalated_at: dt.datetime | None = None
