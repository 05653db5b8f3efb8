"""Private check-ins, without HTTP: a peer supporter's short, kind message to the author of a
post that may need a look (crisis words, a report), for the author alone.

The supporter starts from kind words they can change; the help lines are added from content
when the message is read, as tap-to-call and tap-to-text links. The group never sees it. The
notification (in the app, and on the author's devices if they asked for replies there) says
only that a message waits: never the post's words, nor the message's. One check-in per peer
supporter per post (a double submit sends once), and a few dozen a day at most.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.db import utcnow
from webapp.groups import notices
from webapp.groups.models import CheckIn, PeerGroup, PeerProfile, Post, Thread
from webapp.groups.services import GroupError, get_group, is_supporter, membership
from webapp.groups.text import plain_text

WORDS_MAX = 600
# Check-ins one peer supporter may send in a day: plenty for a busy group, few enough that
# nobody's account could be used to pester members.
PER_DAY = 30


def default_words(author: str) -> str:
    """Return the kind words a check-in starts from, which the peer supporter may change."""
    return _(
        "Hello %(name)s. I am one of the peer supporters in the group. I read your post and "
        "wanted to check how you are doing. You have not done anything wrong, and you are not "
        "on your own. If things feel like too much, the people below are there to listen, "
        "any time, day or night.",
        name=author,
    )


@dataclass
class Sent:
    """A check-in already sent about a post: by whom (their display name), and whether by the
    person looking."""

    check_in: CheckIn
    by: str
    mine: bool


@dataclass
class Target:
    """A post a peer supporter may check in about: its group, the post, its author's display
    name, and the check-ins peer supporters have already sent about it."""

    group: PeerGroup
    post: Post
    author: str
    sent: list[Sent]

    @property
    def mine(self) -> Sent | None:
        """Return the check-in the person looking sent about this post, if any."""
        return next((found for found in self.sent if found.mine), None)


def sent_about(session: Session, actor: Actor, post_ids: list[int]) -> dict[int, list[Sent]]:
    """Return the check-ins sent about each of these posts, oldest first (one query; for
    peer supporters, who may see that a colleague has already been in touch)."""
    if not post_ids:
        return {}
    rows = session.exec(
        select(CheckIn, PeerProfile.display_name)
        .join(PeerProfile, col(PeerProfile.person_id) == CheckIn.sender_id, isouter=True)
        .where(col(CheckIn.post_id).in_(post_ids))
        .order_by(col(CheckIn.id))
    ).all()
    found: dict[int, list[Sent]] = {}
    for check_in, name in rows:
        found.setdefault(check_in.post_id, []).append(
            Sent(check_in, name or _("a former peer supporter"), check_in.sender_id == actor.id)
        )
    return found


def target(session: Session, actor: Actor, slug: str, post_id: int) -> Target:
    """Return a post of the group for one of its peer supporters to check in about, or raise
    NotFound (not a peer supporter of this group, or no such post in it)."""
    require(actor, "groups.take_part", actor.id)
    group = get_group(session, slug)
    if not is_supporter(membership(session, actor, group)):
        raise NotFound()
    post = session.get(Post, post_id)
    thread = session.get(Thread, post.thread_id) if post is not None else None
    if post is None or thread is None or thread.group_id != group.id:
        raise NotFound()
    name = None
    if post.author_id is not None:
        name = session.exec(
            select(PeerProfile.display_name).where(PeerProfile.person_id == post.author_id)
        ).first()
    return Target(
        group,
        post,
        name or _("a former member"),
        sent_about(session, actor, [post.id or 0]).get(post.id or 0, []),
    )


def send_check_in(
    session: Session, actor: Actor, slug: str, post_id: int, words: str
) -> tuple[CheckIn, bool]:
    """Send the author of a post a private check-in from a peer supporter of its group; return
    it, and whether it was sent now (False: this supporter had already sent one about this
    post, which stands as it was, so a double submit sends once)."""
    found = target(session, actor, slug, post_id)
    post = found.post
    if post.author_id == actor.id:
        raise GroupError(_("This is your own post."))
    if post.author_id is None:
        raise GroupError(_("Its author's account has closed, so a message cannot reach them."))
    if found.mine is not None:
        return found.mine.check_in, False
    text = plain_text(words)
    if not text:
        raise GroupError(_("Write a few kind words to go with the help lines."), "words")
    if len(text) > WORDS_MAX:
        raise GroupError(
            _(
                "Keep it to %(n)d characters: a short message is easier to read when things "
                "are hard. It has %(count)d now.",
                n=WORDS_MAX,
                count=len(text),
            ),
            "words",
        )
    today = session.exec(
        select(func.count(CheckIn.id)).where(
            CheckIn.sender_id == actor.id,
            CheckIn.created_at > utcnow() - dt.timedelta(days=1),
        )
    ).one()
    if today >= PER_DAY:
        raise GroupError(
            _(
                "You have sent %(n)d check-ins in the last day, the most one peer supporter "
                "can. Ask another peer supporter of the group to get in touch.",
                n=PER_DAY,
            )
        )
    made = CheckIn(
        group_id=found.group.id,
        post_id=post.id,
        sender_id=actor.id,
        recipient_id=post.author_id,
        words=text,
    )
    session.add(made)
    try:
        session.flush()
    except IntegrityError:  # sent twice at once: the other one stands
        session.rollback()
        again = target(session, actor, slug, post_id).mine
        if again is None:
            raise
        return again.check_in, False
    notices.tell_of_check_in(session, post.author_id, f"/groups/check-ins/{made.id}")
    # Recorded as the peer supporter's own action, like every moderation step: the author's
    # record would name the supporter by their real name, and groups are pseudonymous.
    audit.record(
        session,
        actor.id,
        "groups.check_in",
        actor.id,
        group=found.group.slug,
        post_id=post.id,
        check_in_id=made.id,
    )
    session.commit()
    session.refresh(made)
    return made, True


@dataclass
class Received:
    """A check-in as its reader sees it: the words, who sent it (by display name), and the
    group they support."""

    check_in: CheckIn
    by: str
    group: PeerGroup


def read_check_in(session: Session, actor: Actor, check_in_id: int) -> Received:
    """Return a check-in sent to the actor, marking it read; anyone else gets NotFound (the
    sender, the group, a carer acting for them)."""
    require(actor, "groups.take_part", actor.id)
    found = session.get(CheckIn, check_in_id)
    if found is None or found.recipient_id != actor.id:
        raise NotFound()
    group = session.get(PeerGroup, found.group_id)
    assert group is not None
    name = None
    if found.sender_id is not None:
        name = session.exec(
            select(PeerProfile.display_name).where(PeerProfile.person_id == found.sender_id)
        ).first()
    if found.read_at is None:
        found.read_at = utcnow()
        session.add(found)
        session.commit()
    return Received(found, name or _("a former peer supporter"), group)
