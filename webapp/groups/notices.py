"""Telling people about group conversations: replies in threads they took part in, mentions
by display name, and what a peer supporter did about their post or membership.

The words never say what a conversation is about (a notification may be read over
someone's shoulder, and a group's name says which condition a person lives with); the link
leads to it. Replies and mentions also go to the person's devices when they asked for that.
"""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update
from sqlmodel import Session, col, select

from webapp.groups.models import Membership, PeerGroup, PeerProfile, Post, Thread, ThreadState
from webapp.groups.services import STAFF_OF_GROUP, skeleton
from webapp.notifications import push
from webapp.notifications.models import Notification
from webapp.notifications.services import notify

# "@Pat M" or "@Pat": up to four words after an @ that does not follow a letter (an address).
MENTION = re.compile(r"(?<![\w@])@(\w[^\n@]{0,60})")
MENTION_WORDS = 4
MENTIONS_MAX = 10
PUSH_BATCH = 200


def mentioned_keys(body: str) -> set[str]:
    """Return the name keys a post may mention: each run of one to four words after an @."""
    keys: set[str] = set()
    for found in list(MENTION.finditer(body))[:MENTIONS_MAX]:
        words = found.group(1).split()
        for n in range(1, min(MENTION_WORDS, len(words)) + 1):
            key = skeleton(" ".join(words[:n]).rstrip(".,!?;:)\"'"))
            if key:
                keys.add(key)
    return keys


def thread_link(group: PeerGroup, thread: Thread) -> str:
    """Where a notification about a thread leads: the first post the person has not read."""
    return f"/groups/{group.slug}/threads/{thread.id}/unread"


def _unread_about(
    session: Session, people: set[int], link: str, kind: str | None = None
) -> set[int]:
    """Those of `people` who already have an unread notification leading to `link` (of
    `kind`, if given): one is enough."""
    query = select(Notification.person_id).where(
        col(Notification.person_id).in_(people),
        Notification.link == link,
        col(Notification.read_at).is_(None),
    )
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return set(session.exec(query))


def tell_about_post(
    session: Session, group: PeerGroup, thread: Thread, post: Post, late: bool = False
) -> None:
    """Tell those who took part in the thread, and those the post mentions, that it went up.

    One unread notification per thread per person: a busy thread never floods anyone. Those
    who muted the thread hear nothing of it. The caller commits.
    """
    link = f"/groups/{group.slug}/posts/{post.id}" if late else thread_link(group, thread)
    # Only those still in the group: someone who left or was removed hears nothing more.
    states = session.exec(
        select(ThreadState.person_id, ThreadState.posted, ThreadState.muted)
        .join(
            Membership,
            (col(Membership.person_id) == ThreadState.person_id)
            & (col(Membership.group_id) == group.id),
        )
        .where(ThreadState.thread_id == thread.id, Membership.status == "active")
    ).all()
    muted = {person for person, _posted, quiet in states if quiet}
    listeners = {person for person, posted, quiet in states if posted and not quiet}
    mentioned: set[int] = set()
    keys = mentioned_keys(post.body)
    if keys:
        mentioned = set(
            session.exec(
                select(PeerProfile.person_id)
                .join(Membership, col(Membership.person_id) == PeerProfile.person_id)
                .where(
                    Membership.group_id == group.id,
                    Membership.status == "active",
                    col(PeerProfile.name_key).in_(keys),
                )
            )
        )
    mentioned -= muted | {post.author_id}
    listeners -= mentioned | {post.author_id}
    everyone = listeners | mentioned
    if not everyone:
        return
    already = _unread_about(session, everyone, link)
    pushed = set(
        session.exec(
            select(PeerProfile.person_id).where(
                col(PeerProfile.person_id).in_(everyone), col(PeerProfile.push_replies)
            )
        )
    )
    for person in sorted(mentioned - already):
        note = notify(
            session, person, "groups.mention", _("Someone mentioned you in a group."), link
        )
        note.push_pending = person in pushed
    for person in sorted(listeners - already):
        note = notify(
            session,
            person,
            "groups.reply",
            _("Someone replied in a group conversation you took part in."),
            link,
        )
        note.push_pending = person in pushed


def tell_supporters_of_crisis(session: Session, group: PeerGroup, post: Post) -> None:
    """Tell the group's peer supporters at once that a post's words brought up the safety
    check: in the app and, where they have a device, on it. The words say nothing of the
    post or the person; the link leads to the review queue, where it is first. One unread
    notice per supporter per group: a second such post does not add another. The caller
    commits."""
    link = f"/groups/{group.slug}/queue"
    supporters = set(
        session.exec(
            select(Membership.person_id).where(
                Membership.group_id == group.id,
                Membership.status == "active",
                col(Membership.role).in_(STAFF_OF_GROUP),
                Membership.person_id != post.author_id,
            )
        )
    )
    if not supporters:
        return
    already = _unread_about(session, supporters, link, "groups.needs_look")
    for person in sorted(supporters - already):
        note = notify(
            session,
            person,
            "groups.needs_look",
            _("A post in a group you support may need a look soon. It is first in the queue."),
            link,
        )
        note.push_pending = True


def tell_of_check_in(session: Session, person_id: int, link: str) -> None:
    """Tell someone a peer supporter sent them a private check-in: in the app, and on their
    devices if they asked for replies there. The words say only that a message waits (never
    the post's words nor the message's, which may be read over a shoulder or on a lock
    screen). The caller commits."""
    note = notify(
        session,
        person_id,
        "groups.check_in",
        _("A peer supporter sent you a private message. Only you can read it."),
        link,
    )
    note.push_pending = bool(
        session.exec(
            select(PeerProfile.push_replies).where(PeerProfile.person_id == person_id)
        ).first()
    )


def tell_member(session: Session, person_id: int | None, words: str, link: str) -> None:
    """Tell one member what a peer supporter did about them (in the app only)."""
    if person_id is not None:
        notify(session, person_id, "groups.moderation", words, link)


def push_pending(session: Session) -> int:
    """Send waiting group notifications to people's devices; return how many were sent.

    Each is claimed before it is sent, so two clocks never send one twice.
    """
    sent = 0
    waiting = session.exec(
        select(Notification.id, Notification.person_id, Notification.message, Notification.link)
        .where(col(Notification.push_pending))
        .order_by(Notification.id)
        .limit(PUSH_BATCH)
    ).all()
    for note_id, person_id, words, link in waiting:
        claimed = session.exec(
            update(Notification)
            .where(col(Notification.id) == note_id, col(Notification.push_pending))
            .values(push_pending=False)
        )
        session.commit()
        if claimed.rowcount != 1:
            continue
        try:
            push.send(session, person_id, push.Message(title="Coproduce", body=words, url=link))
            session.commit()
            sent += 1
        except Exception:  # one person's failure never stops the others
            session.rollback()
            current_app.logger.exception("groups: pushing notification %s failed", note_id)
    return sent
