"""The person's planning: their agenda for a review, and the conversations that prepare it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from webapp.db import utcnow


class AgendaItem(SQLModel, table=True):
    """One thing the person wants to talk about at a review, in their words or from a result."""

    __table_args__ = (Index("ix_agendaitem_patient_review", "patient_id", "review_id"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    review_id: int | None = Field(default=None, foreign_key="review.id", ondelete="CASCADE")
    # "result" (asked about from a result), "agenda", "question", "support" or "decision".
    kind: str = Field(max_length=20)
    # For an item about a result: the test's slug.
    test: str | None = Field(default=None, max_length=200)
    text: str = Field(max_length=1000)
    # Private until the person chooses to share it with their care team.
    shared: bool = Field(default=False)
    # For an item that came out of a conversation: which one, which step, and the answer
    # it came from (so a changed answer updates it, and the person's own edit is kept).
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", ondelete="SET NULL", index=True
    )
    step: str | None = Field(default=None, max_length=60)
    from_answer: str | None = Field(default=None, max_length=10_000)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Goal(SQLModel, table=True):
    """A goal in the person's own words: drafted in a conversation, agreed at the review.

    The words are the person's and are never rewritten by the app.
    """

    __table_args__ = (Index("ix_goal_patient_review", "patient_id", "review_id"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    review_id: int | None = Field(default=None, foreign_key="review.id", ondelete="SET NULL")
    text: str = Field(max_length=1000)
    why: str = Field(default="", max_length=1000)
    importance: int | None = None
    # The motivational-interviewing follow-ups: why not lower? what would move you up one?
    importance_reason: str = Field(default="", max_length=1000)
    confidence: int | None = None
    confidence_next: str = Field(default="", max_length=1000)
    if_then: str = Field(default="", max_length=1000)
    target_date: dt.date | None = None
    # draft, agreed, achieved, changed or stopped.
    status: str = Field(default="draft", max_length=20)
    # The person's own order of their goals (lowest first).
    position: int = Field(default=0)
    # Goes up with every change, so two people editing at once never overwrite silently.
    version: int = Field(default=1)
    shared: bool = Field(default=False)
    # Agreed at the review: by the person and by a clinician, each from their own side. The
    # goal is agreed when both have; changing a draft's words asks both to agree again.
    person_agreed_at: dt.datetime | None = None
    clinician_agreed_at: dt.datetime | None = None
    agreed_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    # When the goal left the plan (marked achieved, changed or stopped); None while it is a
    # draft or in the plan. An agreed goal carries from review to review until then.
    ended_at: dt.datetime | None = None
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", ondelete="SET NULL", index=True
    )
    step: str | None = Field(default=None, max_length=60)
    from_answer: str | None = Field(default=None, max_length=10_000)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class CrisisPlan(SQLModel, table=True):
    """The person's plan for when they are unwell, written when they are well."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE", unique=True)
    early_signs: str = Field(default="", max_length=2000)
    helps: str = Field(default="", max_length=2000)
    avoid: str = Field(default="", max_length=2000)
    contacts: str = Field(default="", max_length=2000)
    wishes: str = Field(default="", max_length=2000)
    shared: bool = Field(default=False)
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", ondelete="SET NULL"
    )
    updated_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """One run of a planning flow by one person: where they are and what they said."""

    __table_args__ = (Index("ix_conversation_patient_flow", "patient_id", "flow"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    review_id: int | None = Field(default=None, foreign_key="review.id", ondelete="SET NULL")
    flow: str = Field(max_length=60)
    # The flow file's version when the conversation started or last moved on.
    flow_version: str = Field(max_length=12)
    # The answers that stand, as JSON: step name -> answer.
    answers: str = Field(default="{}", max_length=100_000)
    finished_at: dt.datetime | None = None
    # Set when a free-text answer held crisis language: the safety check waits for a choice.
    safety_step: str | None = Field(default=None, max_length=60)
    # When the person last said they were safe and chose to carry on.
    safety_checked_at: dt.datetime | None = None
    # What the answers had become when the conversation last finished, as JSON: so a
    # changed answer updates its item, and an item the person removed stays removed.
    produced: str = Field(default="{}", max_length=100_000)
    started_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Turn(SQLModel, table=True):
    """One answer as it was given (the transcript): kept even when later changed."""

    # A form posted twice carries the same key, so the turn is recorded once.
    __table_args__ = (UniqueConstraint("conversation_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE", index=True)
    step: str = Field(max_length=60)
    answer: str = Field(max_length=10_000)
    key: str = Field(max_length=64)
    # Who typed it: the person, or (later) a carer acting for them.
    typed_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)
