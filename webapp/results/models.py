"""Test results: each reading as it was received and in the unit people read it in."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from webapp.db import utcnow


class Result(SQLModel, table=True):
    """One reading of one test for one person, from a lab, a GP system or staff."""

    __table_args__ = (
        # Importing the same reading twice changes nothing: its fingerprint is already there.
        UniqueConstraint("patient_id", "fingerprint"),
        # A person's results page reads all their readings at once, newest first.
        Index("ix_result_patient_taken", "patient_id", "taken_at"),
        # The sender's identifier names one reading at the practice: a correction or a
        # withdrawal finds it, and two imports at once cannot file it twice. Readings
        # without one (CSV, the form, FHIR without an identifier) have NULL, never equal.
        UniqueConstraint(
            "practice_id",
            "identifier_system",
            "identifier_value",
            name="uq_result_practice_identifier",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    # The content slug of a known test, or None for a code the app has no page for.
    test: str | None = Field(default=None, max_length=40)
    system: str = Field(max_length=100)
    code: str = Field(max_length=60)
    display: str = Field(max_length=200)
    # Numbers are stored in the unit the test's content uses; blood pressure has two.
    value: float | None = None
    value_second: float | None = None
    value_text: str | None = Field(default=None, max_length=200)
    # "<" or ">" (or "<=", ">=") when the lab reports a limit, like eGFR ">90".
    comparator: str = Field(default="", max_length=2)
    unit: str = Field(default="", max_length=40)
    received: str = Field(default="", max_length=80)
    reference_low: float | None = None
    reference_high: float | None = None
    reference_text: str = Field(default="", max_length=120)
    taken_at: dt.datetime
    source: str = Field(max_length=10)
    fingerprint: str = Field(max_length=64)
    held: bool = False
    held_note: str = Field(default="", max_length=500)
    released_at: dt.datetime | None = None
    # The sender's own identifier for the reading (FHIR Observation.identifier), if any.
    identifier_system: str = Field(default="", max_length=200)
    identifier_value: str | None = Field(default=None, max_length=200)
    # When the sender issued this version of the reading, to tell an older version.
    issued_at: dt.datetime | None = None
    # A correction replaces the reading in place; the value it replaced stays in the
    # audit trail ("results.correct") and, as shown, here for staff.
    corrected_at: dt.datetime | None = None
    corrected_from: str = Field(default="", max_length=200)
    # Withdrawn by the sender (entered in error): kept for staff, never shown to the person.
    withdrawn_at: dt.datetime | None = None
    imported_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)


class ResultTarget(SQLModel, table=True):
    """A personal target a clinician agreed with the person, replacing the general one."""

    __table_args__ = (UniqueConstraint("patient_id", "test"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    practice_id: int = Field(foreign_key="practice.id")
    test: str = Field(max_length=40)
    low: float | None = None
    high: float | None = None
    high_second: float | None = None
    set_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    set_at: dt.datetime = Field(default_factory=utcnow)
