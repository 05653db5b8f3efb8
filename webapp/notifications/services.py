"""Telling people things in the app: add, count, list and mark notifications read."""

from __future__ import annotations

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, select

from webapp.access import Actor
from webapp.db import utcnow
from webapp.notifications.models import Notification


def notify(
    session: Session, person_id: int, kind: str, message: str, link: str = ""
) -> Notification:
    """Add a notification for a person; the caller's transaction commits it.

    Messages never carry health details: they may be read over someone's shoulder.
    """
    notification = Notification(person_id=person_id, kind=kind, message=message[:300], link=link)
    session.add(notification)
    return notification


# Asked on every signed-in page, so built once.
_UNREAD = select(func.count(Notification.id)).where(
    Notification.person_id == bindparam("person_id"), Notification.read_at.is_(None)
)


def unread_count(session: Session, actor: Actor) -> int:
    """Return how many notifications the actor has not read."""
    return session.exec(_UNREAD, params={"person_id": actor.id}).one()


def recent(session: Session, actor: Actor, limit: int = 30) -> list[Notification]:
    """Return the actor's newest notifications, unread ones included."""
    return list(
        session.exec(
            select(Notification)
            .where(Notification.person_id == actor.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread(session: Session, actor: Actor, limit: int = 5) -> list[Notification]:
    """Return the actor's newest unread notifications, for the home page."""
    return list(
        session.exec(
            select(Notification)
            .where(Notification.person_id == actor.id, Notification.read_at.is_(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(session: Session, actor: Actor) -> None:
    """Mark every notification of the actor as read."""
    session.exec(
        update(Notification)
        .where(Notification.person_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    session.commit()
