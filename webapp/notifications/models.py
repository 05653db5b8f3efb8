"""In-app notifications: short messages with a link, never health details."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from webapp.db import utcnow


class Notification(SQLModel, table=True):
    """Something to tell one person the next time they open the app."""

    # Every page asks how many unread notifications the person has.
    __table_args__ = (Index("ix_notification_person_unread", "person_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    kind: str = Field(max_length=40)
    message: str = Field(max_length=300)
    link: str = Field(default="", max_length=300)
    created_at: dt.datetime = Field(default_factory=utcnow)
    read_at: dt.datetime | None = None
    # Waiting for the clock to send it to the person's devices too.
    push_pending: bool = Field(default=False, index=True)


class PushSubscription(SQLModel, table=True):
    """One device's Web Push subscription: where to send, and the keys to encrypt with.

    Removed when the push service says it has gone (404 or 410), or when the person asks.
    """

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    endpoint: str = Field(max_length=1000, unique=True)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    # The device in words, for the list of devices ("Chrome on Android").
    label: str = Field(default="", max_length=120)
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_sent_at: dt.datetime | None = None
