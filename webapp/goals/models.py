"""Goals' actions and the history of every change to a goal (goals live in planning.models)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from webapp.db import utcnow


class GoalAction(SQLModel, table=True):
    """One step towards a goal, with whose it is and when."""

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", ondelete="CASCADE", index=True)
    text: str = Field(max_length=300)
    # me, care_team, carer or community.
    owner: str = Field(max_length=20)
    # Who exactly, in words: a carer's name, a group, the time bank, a local service.
    who: str = Field(default="", max_length=120)
    # When, or how often, in words: "weekday mornings", "by March".
    when: str = Field(default="", max_length=120)
    done_at: dt.datetime | None = None
    position: int = Field(default=0)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)


class GoalEvent(SQLModel, table=True):
    """One change to a goal or its actions: what changed, by whom, when."""

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", ondelete="CASCADE", index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    # created, edited, status, moved, action_added, action_changed, action_done,
    # action_undone, action_removed
    what: str = Field(max_length=30)
    # JSON: the fields changed, each as [before, after], or the action's words.
    detail: str = Field(default="{}", max_length=10_000)
    created_at: dt.datetime = Field(default_factory=utcnow)


class ProgressEntry(SQLModel, table=True):
    """One "how did it go": did it, partly, or not this time, with an optional note and
    measurement. Each carries a key made where it was logged, so a replay counts once."""

    __table_args__ = (
        UniqueConstraint("patient_id", "key"),
        Index("ix_progressentry_goal_when", "goal_id", "logged_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", ondelete="CASCADE")
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    # did, partly or not_this_time
    outcome: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)
    # An optional measurement, in the person's words and units: "weight", "82.5 kg".
    measure: str = Field(default="", max_length=40)
    value: str = Field(default="", max_length=40)
    key: str = Field(max_length=64)
    # Logged (perhaps offline, sent later) after the goal was stopped or achieved: kept, marked.
    after_goal_ended: bool = Field(default=False)
    typed_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    logged_at: dt.datetime = Field(default_factory=utcnow)
    received_at: dt.datetime = Field(default_factory=utcnow)


class CarePlan(SQLModel, table=True):
    """The plan agreed at one review: its agreed goals (and their actions), the clinician's
    note, when it was agreed and with whom."""

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", unique=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    clinician_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    note: str = Field(default="", max_length=2000)
    note_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    # The person's own note on the plan, from their side.
    person_note: str = Field(default="", max_length=2000)
    # When the last goal of the plan was agreed by both; None until one is.
    agreed_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class GoalScore(SQLModel, table=True):
    """Looking back on an agreed goal before the next review: a goal attainment score from
    -2 (much less than expected) to +2 (much more), by the person and then by a clinician.

    A goal in the plan is looked back on before each review while it is in the plan, so each
    score names the review it is for: one score per goal, side and review (see
    webapp/goals/cycle.py for which goals come before which review).
    """

    __table_args__ = (
        UniqueConstraint("goal_id", "side", "for_review_id", name="uq_goalscore_for_review"),
    )

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", ondelete="CASCADE", index=True)
    for_review_id: int | None = Field(default=None, foreign_key="review.id", ondelete="SET NULL")
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    # person or clinician
    side: str = Field(max_length=20)
    score: int
    comment: str = Field(default="", max_length=1000)
    scored_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    scored_at: dt.datetime = Field(default_factory=utcnow)


class GoalReminder(SQLModel, table=True):
    """A reminder the person chose for a goal: on which days, at what time (UK time).

    `next_due_at` (UTC) is moved on before anything is sent, in one guarded update, so a
    clock that restarts, or two clocks, never send the same reminder twice.
    """

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", ondelete="CASCADE", unique=True)
    patient_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    # Weekdays as digits, Monday 0: "024" is Monday, Wednesday and Friday.
    days: str = Field(max_length=7)
    at: dt.time
    next_due_at: dt.datetime = Field(index=True)
    last_sent_at: dt.datetime | None = None


class WeeklySummary(SQLModel, table=True):
    """A person who asked for a quiet weekly summary of their goals (Sunday evening)."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", unique=True)
    next_due_at: dt.datetime = Field(index=True)
    last_sent_at: dt.datetime | None = None
