"""Append-only audit events: who read or changed whose record, and when."""

from __future__ import annotations

import datetime as dt
import json

from flask import g, has_request_context
from sqlmodel import Field, Session, SQLModel

from webapp.db import utcnow


class AuditEvent(SQLModel, table=True):
    """One thing someone did; rows are only ever added, never changed."""

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    subject_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL"
    )
    action: str = Field(max_length=60)
    detail: str = Field(default="{}", max_length=2000)
    request_id: str | None = Field(default=None, max_length=40)


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    subject_id: int | None = None,
    **detail: object,
) -> AuditEvent:
    """Add an audit event to the session; the caller's transaction commits it."""
    event = AuditEvent(
        actor_id=actor_id,
        subject_id=subject_id,
        action=action,
        detail=json.dumps(detail, default=str, sort_keys=True)[:2000],
        request_id=g.get("request_id") if has_request_context() else None,
    )
    session.add(event)
    return event
