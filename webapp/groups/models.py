"""Peer-support groups: who takes part and as what name, their threads and posts, and what
peer supporters did to keep them safe."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from webapp.db import utcnow


class PeerProfile(SQLModel, table=True):
    """How a person appears in groups: a display name of their choosing, never their record."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", unique=True)
    display_name: str = Field(max_length=40)
    # Kept for uniqueness without regard to case or look-alike spacing.
    name_key: str = Field(max_length=120, unique=True)
    # Replies and mentions also go to their devices (when they have allowed notifications).
    push_replies: bool = Field(default=False)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class PeerGroup(SQLModel, table=True):
    """A group, set up from content/groups/<slug>.yaml; moderators' settings live here."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=80, index=True)
    description: str = Field(max_length=500)
    # open (join at once), approval (a peer supporter approves) or invite (invitation only).
    kind: str = Field(max_length=20)
    # One post per member per this many minutes; 0 is off.
    slow_mode_minutes: int = Field(default=0)
    # New members' first posts wait for a peer supporter (links from new members always do).
    hold_first_posts: bool = Field(default=False)
    created_at: dt.datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """One person in one group: as a member, a peer supporter or the group's administrator."""

    __table_args__ = (
        UniqueConstraint("group_id", "person_id"),
        Index("ix_membership_person", "person_id", "status"),
        Index("ix_membership_group_status", "group_id", "status", "requested_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="peergroup.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    # member, supporter or admin
    role: str = Field(default="member", max_length=20)
    # pending (asked to join), invited, active, declined, left or removed
    status: str = Field(max_length=20)
    requested_at: dt.datetime = Field(default_factory=utcnow)
    joined_at: dt.datetime | None = None
    # Posts of theirs that went up (a new member is one with fewer than a few).
    posts_approved: int = Field(default=0)
    muted_until: dt.datetime | None = None
    last_posted_at: dt.datetime | None = None
    # Why they were declined or removed, as the peer supporter wrote it.
    reason: str = Field(default="", max_length=500)
    version: int = Field(default=1)


class Thread(SQLModel, table=True):
    """A conversation in a group: its title, and what peer supporters set on it."""

    __table_args__ = (
        Index("ix_thread_group_recent", "group_id", "last_post_at"),
        # Made where the first post was written, so a double submit starts one thread.
        UniqueConstraint("group_id", "author_id", "key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="peergroup.id", ondelete="CASCADE")
    # None once the author's account has closed: shown as "a former member".
    author_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    title: str = Field(max_length=120)
    key: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_post_at: dt.datetime = Field(default_factory=utcnow)
    post_count: int = Field(default=0)
    # The newest post that went up (for "new since you last read").
    last_post_id: int = Field(default=0)
    # One more whenever anything its pages show changes (its kept pages are rendered again).
    version: int = Field(default=1)
    locked_at: dt.datetime | None = None
    locked_reason: str = Field(default="", max_length=500)
    pinned_until: dt.datetime | None = None
    pinned: bool = Field(default=False)


class Post(SQLModel, table=True):
    """One post: the words as written, their safe HTML, and whether it is shown, waiting for a
    peer supporter, or hidden by one (then shown in place with the reason)."""

    __table_args__ = (
        UniqueConstraint("thread_id", "author_id", "key"),
        # Pages and counts of a thread read this index alone (who may see a post is in it).
        Index("ix_post_thread_visible", "thread_id", "id", "status", "author_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="thread.id", ondelete="CASCADE")
    author_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    body: str = Field(max_length=10_000)
    # Escaping can make the HTML several times longer than the words: no length limit.
    html: str = Field(sa_column=Column(Text, nullable=False))
    # shown, held (waiting for a peer supporter) or hidden
    status: str = Field(default="shown", max_length=20)
    hidden_reason: str = Field(default="", max_length=500)
    hidden_by_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    # The words brought up the safety check: peer supporters see a flag.
    crisis: bool = Field(default=False)
    # Made where the post was written, so a double submit posts once.
    key: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    edited_at: dt.datetime | None = None
    version: int = Field(default=1)


class Thanks(SQLModel, table=True):
    """A "thank you" for a post (there are no dislikes, and no counts that shame)."""

    __table_args__ = (UniqueConstraint("post_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)


class ThreadState(SQLModel, table=True):
    """One person and one thread: how far they have read, whether they took part (and so hear
    of replies), and whether they muted it."""

    __table_args__ = (
        UniqueConstraint("thread_id", "person_id"),
        Index("ix_threadstate_listeners", "thread_id", "posted", "muted"),
    )

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="thread.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    last_read_post_id: int = Field(default=0)
    posted: bool = Field(default=False)
    muted: bool = Field(default=False)
    # One more whenever they thank or stop thanking a post here (their kept pages change).
    version: int = Field(default=1)


class Report(SQLModel, table=True):
    """An item in a group's review queue: a member's report of a post (with the post as it was
    then), a new member's post waiting to go up, or a post with crisis words."""

    __table_args__ = (
        Index("ix_report_queue", "group_id", "status", "crisis", "created_at"),
        Index("ix_report_post", "post_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="peergroup.id", ondelete="CASCADE")
    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE")
    # report (a member asked), held (waiting to go up) or crisis (the words need a look)
    kind: str = Field(max_length=20)
    reporter_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    # One of content's report reasons, and the reporter's own words.
    reason: str = Field(default="", max_length=40)
    note: str = Field(default="", max_length=500)
    # The post as it was when reported: an edit afterwards cannot hide what was seen.
    snapshot: str = Field(sa_column=Column(Text, nullable=False))
    crisis: bool = Field(default=False)
    created_at: dt.datetime = Field(default_factory=utcnow)
    # open, or done (what was decided is in the moderation log)
    status: str = Field(default="open", max_length=20)
    decided_by_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    decided_at: dt.datetime | None = None
    outcome: str = Field(default="", max_length=20)
    version: int = Field(default=1)


class ModAction(SQLModel, table=True):
    """One thing a peer supporter did, with their reason: the group's moderation log."""

    __table_args__ = (Index("ix_modaction_group", "group_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="peergroup.id", ondelete="CASCADE")
    actor_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    # hide, show, approve, keep, lock, unlock, pin, unpin, slow_mode, mute, unmute, remove,
    # welcome, decline, appeal_upheld, appeal_overturned
    action: str = Field(max_length=30)
    thread_id: int | None = Field(
        default=None, foreign_key="thread.id", ondelete="SET NULL", index=True
    )
    post_id: int | None = Field(
        default=None, foreign_key="post.id", ondelete="SET NULL", index=True
    )
    # Whom it was about (a membership of this group).
    member_id: int | None = Field(
        default=None, foreign_key="membership.id", ondelete="SET NULL", index=True
    )
    reason: str = Field(default="", max_length=500)
    # What was set, in words ("until 1 December", "10 minutes").
    detail: str = Field(default="", max_length=120)
    # What undoing it needs: the post's status or the member's role before, and the pause
    # or lock it set (undone only while that is still the one in force).
    prior: str = Field(default="", max_length=20)
    until: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class Appeal(SQLModel, table=True):
    """A request for a second look at a peer supporter's decision, answered by a group
    administrator: from the member it was about, or from a peer supporter unsure of a call."""

    __table_args__ = (Index("ix_appeal_group", "group_id", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="peergroup.id", ondelete="CASCADE")
    # One second look per decision (asked twice at once: one is kept).
    action_id: int = Field(foreign_key="modaction.id", ondelete="CASCADE", unique=True, index=True)
    by_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    words: str = Field(max_length=1000)
    created_at: dt.datetime = Field(default_factory=utcnow)
    # open, upheld (the decision stands) or overturned (undone)
    status: str = Field(default="open", max_length=20)
    decided_by_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    decided_at: dt.datetime | None = None
    answer: str = Field(default="", max_length=500)
    version: int = Field(default=1)


class CheckIn(SQLModel, table=True):
    """A peer supporter's private message to the author of a post that may need a look: their
    own kind words, for the author alone. The help lines are added from content when it is
    read, so they are always the current ones; nothing of the post is kept here."""

    __table_args__ = (
        # One per peer supporter per post: a double submit, or a second thought, sends once.
        UniqueConstraint("post_id", "sender_id"),
        Index("ix_checkin_sender_recent", "sender_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="peergroup.id", ondelete="CASCADE")
    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE", index=True)
    # None once the peer supporter's account has closed: shown as "a former peer supporter".
    sender_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    recipient_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    words: str = Field(max_length=600)
    created_at: dt.datetime = Field(default_factory=utcnow)
    read_at: dt.datetime | None = None
