"""Posts waiting for a peer supporter's look, across every group a person supports: the count
the header shows them on every page, and the page that lists it group by group.

A post waits while it has an open item in its group's review queue: crisis words, a member's
report, or a new member's post held until someone reads it (see moderation.queue). The count
is of posts, not of reports, as the queue shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func
from sqlmodel import Session, col, select

from webapp.access import Actor
from webapp.groups.models import Membership, PeerGroup, Report
from webapp.groups.services import STAFF_OF_GROUP


def _supported(person_id: ColumnElement) -> ColumnElement:
    """The condition on a membership that makes the person one of its group's peer supporters."""
    return (
        (Membership.person_id == person_id)
        & (Membership.status == "active")
        & col(Membership.role).in_(STAFF_OF_GROUP)
    )


def header_columns(person_id: ColumnElement) -> tuple[ColumnElement, ColumnElement]:
    """Return two columns for the query that loads a signed-in session: whether the person
    supports any group, and how many posts wait for a look in the groups they support.

    Both read indexes alone (memberships by person, the queue by group and status), so every
    page pays for them inside the one query it already makes.
    """
    # Correlated with the outer query's person at every level (the count nests it twice).
    groups = select(Membership.group_id).where(_supported(person_id)).correlate_except(Membership)
    supports = exists(groups)
    waiting = (
        select(func.count(func.distinct(Report.post_id)))
        .where(col(Report.group_id).in_(groups), Report.status == "open")
        .correlate_except(Membership, Report)
        .scalar_subquery()
    )
    return supports, waiting


def header_counts(session: Session, actor: Actor) -> tuple[bool, int]:
    """Return whether the actor supports any group and how many posts wait for their look
    (for an actor not loaded with their session; one query)."""
    supports, waiting = header_columns(actor.id)  # type: ignore[arg-type]
    found, count = session.exec(select(supports, waiting)).one()
    return bool(found), int(count or 0)


@dataclass
class Waiting:
    """One group the person supports, and what waits in its review queue."""

    group: PeerGroup
    posts: int
    crisis: int


def waiting_by_group(session: Session, actor: Actor) -> list[Waiting]:
    """Return each group the actor supports, with how many posts wait for a look there and how
    many of them may be about someone's safety: groups with the most urgent first. Groups
    are the actor's own: nobody else's (and never while acting for someone), in one query."""
    if actor.acting is not None:
        return []
    crisis = func.count(func.distinct(Report.post_id)).filter(col(Report.crisis))
    rows = session.exec(
        select(PeerGroup, func.count(func.distinct(Report.post_id)), crisis)
        .join(Membership, col(Membership.group_id) == PeerGroup.id)
        .join(
            Report,
            (col(Report.group_id) == PeerGroup.id) & (col(Report.status) == "open"),
            isouter=True,
        )
        .where(_supported(actor.id))  # type: ignore[arg-type]
        .group_by(col(PeerGroup.id))
        .order_by(crisis.desc(), func.count(func.distinct(Report.post_id)).desc(), PeerGroup.name)
    ).all()
    return [Waiting(group, posts, urgent) for group, posts, urgent in rows]
