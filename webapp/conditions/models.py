"""A person's long-term conditions, as their care team recorded them or a GP system sent them,
and which of them matter most to the person now."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from webapp.db import utcnow

# Where a condition came from: typed in by the care team, or imported from a FHIR Condition.
SOURCES = ("care_team", "fhir")
# The two clinical statuses people read: still part of their life, or no longer active.
STATUSES = ("active", "resolved")


class Condition(SQLModel, table=True):
    """One long-term condition of one person, coded in SNOMED CT."""

    __table_args__ = (
        # Importing the same FHIR Condition again finds it by the sender's identifier.
        UniqueConstraint("patient_id", "source_id"),
        Index("ix_condition_patient", "patient_id", "code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    # The practice whose care team recorded it, or whose import brought it.
    practice_id: int = Field(foreign_key="practice.id", index=True)
    # A SNOMED CT concept id; content gives the plain name of the codes it knows.
    code: str = Field(max_length=20)
    # The preferred term from content, or the sender's words for a code content lacks.
    display: str = Field(max_length=200)
    source: str = Field(max_length=10)
    # The sender's identifier ("system|value") or "Condition/<id>", for imported ones.
    source_id: str | None = Field(default=None, max_length=300)
    clinical_status: str = Field(default="active", max_length=10)
    onset: dt.date | None = None
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    recorded_at: dt.datetime = Field(default_factory=utcnow)
    status_changed_at: dt.datetime | None = None
    # Removed as a mistake: kept (so a later import does not bring it back), never shown.
    removed_at: dt.datetime | None = None
    removed_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    # The person's own choice: this matters most to them now. Only they (or a carer helping
    # them prepare) set it; the care team does not.
    matters_most: bool = False
    matters_set_at: dt.datetime | None = None
    matters_set_by_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL"
    )
