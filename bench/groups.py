"""Peer-support group data for `make bench`, added after `flask demo --scale <scale>`.

The demo makes the groups content describes, with Pat a member of "living-with-diabetes".
Here that group gets a long thread (10,000 posts at large scale) among many other threads,
written by members with display names, and the directory gets many more groups with
members. The rows go in as plain bulk inserts, as the demo's patients do, and are the same
on every run (a seeded random generator).

Both scales render the same rows, so only the data around them grows: ten posts on the long
thread's last page (70 and 10,000 posts, thirty a page), a full first page of threads, and
a full page of groups for "diab" (one group in five is about diabetes).

Run as `python -m bench.groups small|large` with the app's environment (bench/run.py does).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from webapp.access import Actor
from webapp.accounts.models import Person
from webapp.content import get_content
from webapp.db import utcnow
from webapp.groups.models import Membership, PeerGroup, Post, Thread
from webapp.groups.services import set_display_name, set_role, sync_groups
from webapp.groups.text import render_post
from webapp.groups.threads import POSTS_PER_PAGE

GROUP = "living-with-diabetes"
# The long thread is found again by its key (its author's double-submit key).
LONG_KEY = "bench-long-thread"
BATCH = 2_000


@dataclass(frozen=True)
class Size:
    """How much group data one scale has."""

    posts: int  # in the long thread
    threads: int  # in the group, the long one among them (each other has its first post)
    groups: int  # more groups in the directory, beside the ones content describes
    authors: int  # members with display names who write the posts


SIZES = {
    "small": Size(posts=70, threads=30, groups=120, authors=20),
    "large": Size(posts=10_000, threads=2_000, groups=1_000, authors=50),
}
TOPICS = [
    ("Living with type 1 diabetes", "Insulin, pumps and sensors, day to day."),
    ("Walking together", "Short walks and the people you meet on them."),
    ("New to diabetes", "Just diagnosed? Ask anything about diabetes here."),
    ("Breathing easier", "Life with COPD and asthma."),
    ("Carers' coffee", "For people who look after someone."),
    ("Heart health", "After a heart attack, or living with heart failure."),
    ("Food and mood", "Eating well without guilt."),
    ("Sleep matters", "When nights are hard."),
    ("Kidney care", "Living with chronic kidney disease."),
    ("Pain and pacing", "Long-term pain and what helps."),
]
WORDS = (
    "Thank you for sharing this. I found the first months hard too, and **small steps** "
    "helped: a walk after dinner, checking my levels before driving, and asking my nurse "
    "when I was unsure. You are not on your own here."
)


def _authors(session: Session, count: int) -> list[int]:
    """Give the first `count` demo patients display names and make them members of the group."""
    people = session.scalars(
        select(Person)
        .where(Person.email.like("patient%@example.org"))  # type: ignore[union-attr]
        .order_by(Person.id)
        .limit(count)
    ).all()
    for number, person in enumerate(people):
        set_display_name(session, Actor(person=person), f"Member {number + 1}")
        set_role(session, GROUP, person.email or "", "member")
    return [person.id for person in people]


def _groups(session: Session, count: int, rng: random.Random) -> None:
    """Add `count` more groups, and put each demo patient in one of them."""
    now = utcnow()
    rows = []
    for n in range(count):
        name, description = TOPICS[n % len(TOPICS)]
        rows.append(
            {
                "slug": f"bench-{n:04d}",
                "name": f"{name} {n // len(TOPICS) + 1}",
                "description": description,
                "kind": ("open", "open", "approval", "invite")[n % 4],
                "slow_mode_minutes": 0,
                "hold_first_posts": False,
                "created_at": now - dt.timedelta(days=rng.randrange(1, 1500)),
            }
        )
    session.execute(insert(PeerGroup), rows)
    group_ids = session.scalars(
        select(PeerGroup.id).where(PeerGroup.slug.like("bench-%"))  # type: ignore[attr-defined]
    ).all()
    patients = session.scalars(
        select(Person.id).where(Person.email.like("patient%@example.org"))  # type: ignore[union-attr]
    ).all()
    members = [
        {
            "group_id": rng.choice(group_ids),
            "person_id": pid,
            "role": "member",
            "status": "active",
            "requested_at": now,
            "joined_at": now,
            "posts_approved": 0,
            "reason": "",
            "version": 1,
        }
        for pid in patients
    ]
    for start in range(0, len(members), BATCH):
        session.execute(insert(Membership), members[start : start + BATCH])


def _threads(session: Session, size: Size, group_id: int, authors: list[int]) -> None:
    """Add the long thread with its posts, then the group's other threads with a post each."""
    now = utcnow()
    html = render_post(WORDS)
    start = now - dt.timedelta(days=60)

    def post(thread_id: int, author: int, n: int, when: dt.datetime) -> dict:
        return {
            "thread_id": thread_id,
            "author_id": author,
            "body": WORDS,
            "html": html,
            "status": "shown",
            "hidden_reason": "",
            "crisis": False,
            "key": f"bench-{n}",
            "created_at": when,
            "version": 1,
        }

    def thread(author: int, title: str, key: str, when: dt.datetime) -> dict:
        return {
            "group_id": group_id,
            "author_id": author,
            "title": title,
            "key": key,
            "created_at": when,
            "last_post_at": when,
            "post_count": 0,
            "last_post_id": 0,
            "locked_reason": "",
            "pinned": False,
        }

    session.execute(insert(Thread), [thread(authors[0], "Tips for the first year", LONG_KEY, now)])
    long_id = session.scalars(select(Thread.id).where(Thread.key == LONG_KEY)).one()
    step = dt.timedelta(days=59) / size.posts
    posts = [
        post(long_id, authors[n % len(authors)], n, start + n * step) for n in range(size.posts)
    ]
    for first in range(0, len(posts), BATCH):
        session.execute(insert(Post), posts[first : first + BATCH])
    # The others, each a little older than the one before, with their first post.
    others = [
        thread(
            authors[n % len(authors)],
            f"Question {n}: how do you manage?",
            f"bench-{n}",
            start - dt.timedelta(hours=n),
        )
        for n in range(1, size.threads)
    ]
    for first in range(0, len(others), BATCH):
        session.execute(insert(Thread), others[first : first + BATCH])
    rows = session.execute(
        select(Thread.id, Thread.author_id, Thread.created_at).where(
            Thread.group_id == group_id, Thread.key.like("bench-%"), Thread.id != long_id
        )
    ).all()
    firsts = [post(tid, author, 0, when) for tid, author, when in rows]
    for first in range(0, len(firsts), BATCH):
        session.execute(insert(Post), firsts[first : first + BATCH])
    # Counters as posting keeps them: how many went up, and the newest.
    newest = (
        select(func.max(Post.id))
        .where(Post.thread_id == Thread.id)
        .correlate(Thread)
        .scalar_subquery()
    )
    counted = (
        select(func.count(Post.id))
        .where(Post.thread_id == Thread.id)
        .correlate(Thread)
        .scalar_subquery()
    )
    session.execute(
        update(Thread)
        .where(Thread.group_id == group_id, Thread.key.like("bench-%"))
        .values(post_count=counted, last_post_id=newest)
    )


def seed(session: Session, scale: str) -> None:
    """Add the group data for the scale (once: a second call changes nothing)."""
    size = SIZES[scale]
    sync_groups(session, get_content().groups)
    group_id = session.scalars(select(PeerGroup.id).where(PeerGroup.slug == GROUP)).one()
    if session.scalars(select(Thread.id).where(Thread.key == LONG_KEY)).first() is not None:
        return
    rng = random.Random(2027)  # noqa: S311
    authors = _authors(session, size.authors)
    _groups(session, size.groups, rng)
    _threads(session, size, group_id, authors)
    session.commit()


def thread_ids(app: Flask) -> dict[str, int]:
    """Return the ids page paths may name: {thread} (the long thread), {thread_last_page},
    {thread_poll_after} (the post five before its newest, as the page polls after) and
    {thread_newest} (its newest: a poll with nothing new, the common case).

    A database without them (the demo data alone, as the weight test has) gets the small
    scale's group data first, so every page in the list can be read.
    """
    engine = app.extensions["db_engine"]
    with app.app_context(), Session(engine) as db:
        thread = db.scalars(select(Thread).where(Thread.key == LONG_KEY)).first()
        if thread is None:
            seed(db, "small")
            thread = db.scalars(select(Thread).where(Thread.key == LONG_KEY)).one()
        after = db.scalars(
            select(Post.id)
            .where(Post.thread_id == thread.id)
            .order_by(Post.id.desc())  # type: ignore[union-attr]
            .offset(5)
            .limit(1)
        ).one()
        newest = db.scalars(select(func.max(Post.id)).where(Post.thread_id == thread.id)).one()
        return {
            "thread": thread.id,
            "thread_last_page": max(1, -(-thread.post_count // POSTS_PER_PAGE)),
            "thread_poll_after": after,
            "thread_newest": newest,
        }


def main() -> int:
    """Seed the database the environment names, at the scale given."""
    from webapp import create_app

    app = create_app()
    with app.app_context(), Session(app.extensions["db_engine"]) as db:
        seed(db, sys.argv[1] if len(sys.argv) > 1 else "small")
    app.extensions["db_engine"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
