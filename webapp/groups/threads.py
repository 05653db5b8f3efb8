"""Threads and posts without HTTP: starting a conversation, replying (once per key, within
locks, mutes and slow mode, with a clear message saying when they can post), reading a page
of posts by display name, editing within a window, and saying thank you.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.content import get_content
from webapp.db import utcnow
from webapp.formatting import clock, day_month_year
from webapp.groups import notices
from webapp.groups.models import (
    Membership,
    PeerGroup,
    PeerProfile,
    Post,
    Report,
    Thanks,
    Thread,
    ThreadState,
)
from webapp.groups.services import GroupError, get_group, membership
from webapp.groups.text import check_post, has_link, plain_line, render_post

POSTS_PER_PAGE = 30
THREADS_PER_PAGE = 20
# At most this many pinned threads head a group's first page.
PINNED_MAX = 10
TITLE_MAX = 120
EDIT_WINDOW = dt.timedelta(minutes=30)
# Someone with fewer posts than this that went up is a new member (links wait, and in some
# groups so do their first posts).
NEW_MEMBER_POSTS = 3


def _active_member(session: Session, actor: Actor, group: PeerGroup) -> Membership:
    """Return the actor's active membership, or raise NotFound (the group's words are its
    members' only)."""
    require(actor, "groups.take_part", actor.id)
    member = membership(session, actor, group)
    if member is None or member.status != "active":
        raise NotFound()
    return member


def moment(when: dt.datetime) -> str:
    """Say a time in words for a message: "24 Nov 2026 at 14:05" (UK time)."""
    return _("%(day)s at %(time)s", day=day_month_year(when), time=clock(when))


def _may_post(
    group: PeerGroup,
    member: Membership,
    thread: Thread | None,
    now: dt.datetime,
    slow_mode: bool = True,
    refused: bool = True,
) -> None:
    """Raise GroupError saying why the member cannot post now, and when they can (`refused`:
    a post was just sent and is kept on the page)."""
    if thread is not None and thread.locked_at is not None:
        reason = thread.locked_reason or _("no reason given")
        raise GroupError(
            _(
                "A peer supporter locked this conversation, so nobody can reply: %(reason)s",
                reason=reason,
            ),
            "body",
        )
    if member.muted_until is not None and member.muted_until > now:
        raise GroupError(
            _(
                "A peer supporter has paused your posting in this group until %(when)s.",
                when=moment(member.muted_until),
            ),
            "body",
        )
    if slow_mode and group.slow_mode_minutes and member.last_posted_at is not None:
        ready = member.last_posted_at + dt.timedelta(minutes=group.slow_mode_minutes)
        if ready > now:
            words = _(
                "This group is in slow mode: one post every %(n)d minutes. You can post "
                "again at %(when)s.",
                n=group.slow_mode_minutes,
                when=moment(ready),
            )
            if refused:
                words = f"{words} {_('What you wrote is still here.')}"
            raise GroupError(words, "body")


def check_may_post(
    group: PeerGroup, member: Membership, thread: Thread | None, slow_mode: bool = True
) -> None:
    """Raise GroupError saying why the member cannot post now (for the reply form: without
    slow mode, whether to offer the form at all)."""
    _may_post(group, member, thread, utcnow(), slow_mode=slow_mode, refused=False)


def can_edit(post: Post) -> bool:
    """Say whether a post is still within the window for changing it."""
    return post.status != "hidden" and utcnow() - post.created_at <= EDIT_WINDOW


def page_of(session: Session, actor: Actor, post: Post) -> int:
    """Return the page of its thread a post is on, as the actor reads the thread."""
    before = session.exec(
        select(func.count())
        .select_from(Post)
        .where(_visible(actor, post.thread_id), col(Post.id) < post.id)
    ).one()
    return before // POSTS_PER_PAGE + 1


def _checked_body(text: str) -> str:
    try:
        return check_post(text)
    except ValueError as error:
        if str(error) == "empty":
            raise GroupError(_("Write something before you post."), "body") from None
        raise GroupError(
            _("A post can be at most %(n)d characters. Split it into two.", n=10_000), "body"
        ) from None


def _locked(session: Session, member: Membership) -> Membership:
    """Read the membership again, locked until commit (PostgreSQL), so two posts sent at the
    same moment both see the other in slow mode."""
    found = session.exec(
        select(Membership).where(col(Membership.id) == member.id).with_for_update()
    ).one()
    session.refresh(found)
    return found


def _is_new(member: Membership) -> bool:
    return member.posts_approved < NEW_MEMBER_POSTS and member.role == "member"


def _new_post(
    session: Session,
    group: PeerGroup,
    member: Membership,
    thread: Thread,
    body: str,
    key: str,
    title: str = "",
) -> Post:
    """Add a post: held for a peer supporter when it is a new member's link (or, in groups
    that ask for it, any of a new member's first posts)."""
    held = _is_new(member) and (group.hold_first_posts or has_link(body) or has_link(title))
    crisis = get_content().crisis.check(f"{title}\n{body}") is not None
    post = Post(
        thread_id=thread.id,
        author_id=member.person_id,
        body=body,
        html=render_post(body),
        status="held" if held else "shown",
        crisis=crisis,
        key=key,
    )
    session.add(post)
    session.flush()
    now = utcnow()
    session.exec(
        update(Membership)
        .where(col(Membership.id) == member.id)
        .values(
            last_posted_at=now,
            posts_approved=Membership.posts_approved + (0 if held else 1),
        )
    )
    took_part(session, thread.id, member.person_id, post.id)
    touch(session, thread.id)
    if held or crisis:
        # Peer supporters see it in their queue: to let it go up, or to reach out.
        session.add(
            Report(
                group_id=group.id,
                post_id=post.id,
                kind="held" if held else "crisis",
                snapshot=body,
                crisis=crisis,
            )
        )
    if crisis:  # and are told at once, not only when they next look at the queue
        notices.tell_supporters_of_crisis(session, group, post)
    if not held:
        went_up(session, group, thread, post)
    return post


def went_up(
    session: Session, group: PeerGroup, thread: Thread, post: Post, late: bool = False
) -> None:
    """Count a post that is now shown in its thread, and tell those listening (a post let
    up later than newer ones is linked to itself, as "first unread" would pass it by)."""
    session.exec(
        update(Thread)
        .where(col(Thread.id) == thread.id)
        .values(post_count=Thread.post_count + 1, last_post_at=utcnow(), version=Thread.version + 1)
    )
    session.exec(
        update(Thread)
        .where(col(Thread.id) == thread.id, col(Thread.last_post_id) < post.id)
        .values(last_post_id=post.id)
    )
    notices.tell_about_post(session, group, thread, post, late)


def _state(session: Session, thread_id: int, person_id: int) -> ThreadState:
    """Return the person's state in the thread, made if it is their first time."""
    found = session.exec(
        select(ThreadState).where(
            ThreadState.thread_id == thread_id, ThreadState.person_id == person_id
        )
    ).first()
    if found is not None:
        return found
    state = ThreadState(thread_id=thread_id, person_id=person_id)
    try:
        with session.begin_nested():
            session.add(state)
    except IntegrityError:  # opened in two tabs at once: the other made it
        return session.exec(
            select(ThreadState).where(
                ThreadState.thread_id == thread_id, ThreadState.person_id == person_id
            )
        ).one()
    return state


def took_part(session: Session, thread_id: int, person_id: int, post_id: int) -> None:
    """Mark that the person wrote in the thread (so they hear of replies) and read to here."""
    state = _state(session, thread_id, person_id)
    state.posted = True
    state.last_read_post_id = max(state.last_read_post_id, post_id)
    session.add(state)


def _key(key: str) -> str:
    """Return the form's key; a missing one gets its own (no double-submit guard then)."""
    return key[:64] if key.strip() else secrets.token_urlsafe(16)


def start_thread(
    session: Session, actor: Actor, slug: str, title: str, body: str, key: str
) -> Post:
    """Start a conversation with its first post; a double submit (same key) starts one."""
    group = get_group(session, slug)
    member = _active_member(session, actor, group)
    key = _key(key)
    earlier = session.exec(
        select(Thread).where(
            Thread.group_id == group.id, Thread.author_id == actor.id, Thread.key == key
        )
    ).first()
    if earlier is not None:
        return _first_post(session, earlier)
    title = plain_line(title, TITLE_MAX + 1)
    if not title:
        raise GroupError(_("Give the conversation a short title."), "title")
    if len(title) > TITLE_MAX:
        raise GroupError(_("A title can be at most %(n)d characters.", n=TITLE_MAX), "title")
    text = _checked_body(body)
    member = _locked(session, member)
    _may_post(group, member, None, utcnow())
    thread = Thread(group_id=group.id, author_id=actor.id, title=title, key=key)
    session.add(thread)
    try:
        session.flush()
    except IntegrityError:  # the same submit at the same moment: that one started it
        session.rollback()
        found = session.exec(
            select(Thread).where(
                Thread.group_id == group.id, Thread.author_id == actor.id, Thread.key == key
            )
        ).one()
        return _first_post(session, found)
    post = _new_post(session, group, member, thread, text, key, title)
    audit.record(session, actor.id, "groups.thread", actor.id, group=slug)
    session.commit()
    session.refresh(post)
    return post


def _first_post(session: Session, thread: Thread) -> Post:
    return session.exec(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)).one()


Found = tuple[Thread, PeerGroup, Membership]


def get_thread(session: Session, actor: Actor, thread_id: int) -> Found:
    """Return a thread of a group the actor is an active member of, or raise NotFound (one
    query: every thread page asks)."""
    require(actor, "groups.take_part", actor.id)
    if actor.acting is not None:
        raise NotFound()
    found = session.exec(
        select(Thread, PeerGroup, Membership)
        .join(PeerGroup, col(PeerGroup.id) == Thread.group_id)
        .join(
            Membership,
            (col(Membership.group_id) == Thread.group_id) & (col(Membership.person_id) == actor.id),
        )
        .where(col(Thread.id) == thread_id, col(Membership.status) == "active")
    ).first()
    if found is None:
        raise NotFound()
    thread, group, member = found
    return thread, group, member


# Asked by every thread page, so built once: the thread, its group, the reader's membership
# and their own state in it.
_FOR_READING = (
    select(
        Thread,
        PeerGroup,
        Membership,
        ThreadState.last_read_post_id,
        ThreadState.version,
        ThreadState.muted,
    )
    .join(PeerGroup, col(PeerGroup.id) == Thread.group_id)
    .join(
        Membership,
        (col(Membership.group_id) == Thread.group_id)
        & (col(Membership.person_id) == bindparam("person_id")),
    )
    .join(
        ThreadState,
        (col(ThreadState.thread_id) == Thread.id)
        & (col(ThreadState.person_id) == bindparam("person_id")),
        isouter=True,
    )
    .where(col(Thread.id) == bindparam("thread_id"), col(Membership.status) == "active")
    # Always the stored values: the version read here keys the kept page.
    .execution_options(populate_existing=True)
)


def get_thread_for_reading(
    session: Session, actor: Actor, thread_id: int
) -> tuple[Found, tuple[int, int, bool]]:
    """Return the thread, group and membership as get_thread does, and the reader's own
    state in it (how far they read, their thanks by version, muted), in one query."""
    require(actor, "groups.take_part", actor.id)
    if actor.acting is not None:
        raise NotFound()
    found = session.exec(
        _FOR_READING, params={"person_id": actor.id, "thread_id": thread_id}
    ).first()
    if found is None:
        raise NotFound()
    thread, group, member, read_to, version, muted = found
    return (thread, group, member), (read_to or 0, version or 0, bool(muted))


def touch(session: Session, thread_id: int | None) -> None:
    """Note that what a thread shows has changed (its kept pages are rendered again)."""
    session.exec(
        update(Thread).where(col(Thread.id) == thread_id).values(version=Thread.version + 1)
    )


def reply(session: Session, actor: Actor, thread_id: int, body: str, key: str) -> Post:
    """Reply in a thread, once per key (a double submit posts once)."""
    thread, group, member = get_thread(session, actor, thread_id)
    key = _key(key)
    mine = select(Post).where(
        Post.thread_id == thread.id, Post.author_id == actor.id, Post.key == key
    )
    earlier = session.exec(mine).first()
    if earlier is not None:
        return earlier
    text = _checked_body(body)
    member = _locked(session, member)
    # The same submit may have been waiting for the lock while the first one posted.
    earlier = session.exec(mine).first()
    if earlier is not None:
        session.rollback()
        return earlier
    _may_post(group, member, thread, utcnow())
    try:
        post = _new_post(session, group, member, thread, text, key)
        session.commit()
    except IntegrityError:  # the same key at the same moment: that one went up
        session.rollback()
        return session.exec(mine).one()
    session.refresh(post)
    return post


@dataclass
class Shown:
    """A post as a reader sees it: by display name ("a former member" once gone)."""

    post: Post
    author: str
    mine: bool
    thanked: bool
    # The words to show: none for a post a peer supporter hid (its reason shows instead),
    # except to its author.
    html: str
    # Not read before (a marker goes above the first of these).
    new: bool = False


def _visible(actor: Actor, thread_id: int):
    """Posts of the thread the actor may see: all but others' posts still waiting."""
    return (col(Post.thread_id) == thread_id) & (
        (col(Post.status) != "held") | (col(Post.author_id) == actor.id)
    )


def _shown(
    session: Session, actor: Actor, rows: list[tuple[Post, str | None]], read_to: int
) -> list[Shown]:
    ids = [post.id for post, _n in rows]
    thanked = set(
        session.exec(
            select(Thanks.post_id).where(col(Thanks.post_id).in_(ids), Thanks.person_id == actor.id)
        )
    )
    former = _("a former member")
    return [
        Shown(
            post,
            name or former,
            post.author_id == actor.id,
            post.id in thanked,
            post.html if post.status != "hidden" or post.author_id == actor.id else "",
            new=(post.id or 0) > read_to and post.author_id != actor.id,
        )
        for post, name in rows
    ]


def _with_names():
    return select(Post, PeerProfile.display_name).join(
        PeerProfile, col(PeerProfile.person_id) == Post.author_id, isouter=True
    )


@dataclass
class ThreadPage:
    """One page of a thread, as the actor reads it."""

    thread: Thread
    group: PeerGroup
    member: Membership
    posts: list[Shown]
    page: int
    pages: int
    muted: bool
    # The newest post id on this page, for asking "anything new since?".
    last_id: int


def read_page(
    session: Session, actor: Actor, thread_id: int, page: int = 1, found: Found | None = None
) -> ThreadPage:
    """Return a page of a thread's posts, oldest first, and note how far the actor read.

    Held posts are shown only to their author (as waiting); hidden ones stay in place.
    """
    thread, group, member = found or get_thread(session, actor, thread_id)
    visible = _visible(actor, thread.id)
    total = session.exec(select(func.count()).select_from(Post).where(visible)).one()
    pages = max(1, -(-total // POSTS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * POSTS_PER_PAGE
    # The page's ids first (from the index alone), read from whichever end is nearer, so
    # the last page of a long thread costs what the first does; then only those posts.
    if start > total // 2:
        ids = (
            select(Post.id)
            .where(visible)
            .order_by(col(Post.id).desc())
            .offset(max(total - start - POSTS_PER_PAGE, 0))
            .limit(min(POSTS_PER_PAGE, total - start))
        )
    else:
        ids = (
            select(Post.id)
            .where(visible)
            .order_by(col(Post.id))
            .offset(start)
            .limit(POSTS_PER_PAGE)
        )
    rows = session.exec(
        _with_names().where(col(Post.id).in_(ids.scalar_subquery())).order_by(col(Post.id))
    ).all()
    state = _state(session, thread.id, actor.id)
    read_to = state.last_read_post_id
    shown = _shown(session, actor, list(rows), read_to)
    last_id = max((item.post.id or 0 for item in shown), default=0)
    if last_id > read_to:
        session.exec(
            update(ThreadState)
            .where(col(ThreadState.id) == state.id, col(ThreadState.last_read_post_id) < last_id)
            .values(last_read_post_id=last_id)
        )
    session.commit()
    return ThreadPage(thread, group, member, shown, page, pages, state.muted, last_id)


def since(
    session: Session, actor: Actor, thread_id: int, after: int, found: Found | None = None
) -> list[Shown]:
    """Return posts that went up after the given one (at most a page), and note them read."""
    thread, _group, _member = found or get_thread(session, actor, thread_id)
    rows = session.exec(
        _with_names()
        .where(_visible(actor, thread.id), col(Post.id) > after)
        .order_by(col(Post.id))
        .limit(POSTS_PER_PAGE)
    ).all()
    if not rows:
        return []
    state = _state(session, thread.id, actor.id)
    shown = _shown(session, actor, list(rows), state.last_read_post_id)
    newest = max(item.post.id or 0 for item in shown)
    if newest > state.last_read_post_id:
        session.exec(
            update(ThreadState)
            .where(col(ThreadState.id) == state.id, col(ThreadState.last_read_post_id) < newest)
            .values(last_read_post_id=newest)
        )
        session.commit()
    return shown


def first_unread(session: Session, actor: Actor, thread_id: int) -> tuple[int, int | None]:
    """Return the page holding the first post the actor has not read, and that post (none
    when everything is read: then the last page)."""
    thread, _group, _member = get_thread(session, actor, thread_id)
    read_to = session.exec(
        select(ThreadState.last_read_post_id).where(
            ThreadState.thread_id == thread.id, ThreadState.person_id == actor.id
        )
    ).first()
    visible = _visible(actor, thread.id)
    target = session.exec(
        select(func.min(Post.id)).where(
            visible,
            col(Post.id) > (read_to or 0),
            col(Post.author_id).is_(None) | (col(Post.author_id) != actor.id),
        )
    ).one()
    if target is None:
        total = session.exec(select(func.count()).select_from(Post).where(visible)).one()
        return max(1, -(-total // POSTS_PER_PAGE)), None
    before = session.exec(
        select(func.count()).select_from(Post).where(visible, col(Post.id) < target)
    ).one()
    return before // POSTS_PER_PAGE + 1, target


def mute_thread(session: Session, actor: Actor, thread_id: int, muted: bool) -> None:
    """Stop (or start again) hearing of replies and mentions in one thread."""
    thread, _group, _member = get_thread(session, actor, thread_id)
    state = _state(session, thread.id, actor.id)
    state.muted = muted
    session.add(state)
    session.commit()


@dataclass
class Listed:
    """A thread in a group's list: pinned ones first, then the most recently active."""

    thread: Thread
    author: str
    pinned: bool
    unread: bool
    read_before: bool


def list_threads(
    session: Session, actor: Actor, group: PeerGroup, page: int = 1
) -> tuple[list[Listed], bool]:
    """Return a page of the group's threads for a member, and whether there is another."""
    now = utcnow()
    pinned = col(Thread.pinned) & (
        col(Thread.pinned_until).is_(None) | (col(Thread.pinned_until) > now)
    )
    base = (
        select(Thread, PeerProfile.display_name, ThreadState.last_read_post_id)
        .join(PeerProfile, col(PeerProfile.person_id) == Thread.author_id, isouter=True)
        .join(
            ThreadState,
            (col(ThreadState.thread_id) == Thread.id) & (col(ThreadState.person_id) == actor.id),
            isouter=True,
        )
        .where(
            Thread.group_id == group.id,
            (col(Thread.post_count) > 0) | (Thread.author_id == actor.id),
        )
    )
    order = (col(Thread.last_post_at).desc(), col(Thread.id).desc())
    # Pinned ones head the first page; the rest come newest first, in index order (no sort).
    on_top = (
        session.exec(base.where(pinned).order_by(*order).limit(PINNED_MAX)).all()
        if page == 1
        else []
    )
    rows = session.exec(
        base.where(~pinned)
        .order_by(*order)
        .offset((page - 1) * THREADS_PER_PAGE)
        .limit(THREADS_PER_PAGE + 1)
    ).all()
    listed = [
        Listed(
            thread,
            name or _("a former member"),
            is_pinned,
            read is not None and thread.last_post_id > read,
            read is not None,
        )
        for rows_of, is_pinned in ((on_top, True), (rows[:THREADS_PER_PAGE], False))
        for thread, name, read in rows_of
    ]
    return listed, len(rows) > THREADS_PER_PAGE


def edit_post(session: Session, actor: Actor, post_id: int, body: str, version: int) -> Post:
    """Change one's own post within the window after posting (marked as edited)."""
    post = session.get(Post, post_id)
    if post is None or post.author_id != actor.id:
        raise NotFound()
    thread, group, member = get_thread(session, actor, post.thread_id)
    if post.status == "hidden":
        raise GroupError(_("A peer supporter hid this post, so it cannot be edited."), "body")
    if utcnow() - post.created_at > EDIT_WINDOW:
        raise GroupError(
            _(
                "Posts can be changed for %(n)d minutes after posting. Write a reply instead.",
                n=int(EDIT_WINDOW.total_seconds() // 60),
            ),
            "body",
        )
    text = _checked_body(body)
    # An edit is held to what a new post is: not in a locked thread or while paused, and a
    # new member's added link waits for a peer supporter; crisis words are flagged.
    _may_post(group, member, thread, utcnow(), slow_mode=False)
    was, had_crisis = post.status, post.crisis
    status = "held" if _is_new(member) and has_link(text) else was
    crisis = had_crisis or get_content().crisis.check(text) is not None
    done = session.exec(
        update(Post)
        .where(col(Post.id) == post.id, col(Post.version) == version)
        .values(
            body=text,
            html=render_post(text),
            edited_at=utcnow(),
            version=version + 1,
            status=status,
            crisis=crisis,
        )
    )
    if done.rowcount != 1:
        session.rollback()
        raise GroupError(_("This post changed since you opened it. Here it is now."), "body")
    if was == "held":
        # Nobody has read it yet: the peer supporter reads the words as they are now.
        session.exec(
            update(Report)
            .where(
                col(Report.post_id) == post.id,
                col(Report.kind) == "held",
                col(Report.status) == "open",
            )
            .values(snapshot=text, crisis=crisis)
        )
    elif status == "held":
        # A new member added a link: it leaves the thread until a peer supporter reads it.
        session.exec(
            update(Thread)
            .where(col(Thread.id) == thread.id)
            .values(post_count=Thread.post_count - 1)
        )
        session.exec(
            update(Membership)
            .where(col(Membership.id) == member.id)
            .values(posts_approved=Membership.posts_approved - 1)
        )
        session.add(
            Report(
                group_id=group.id,
                post_id=post.id,
                kind="held",
                snapshot=text,
                crisis=crisis,
            )
        )
    elif crisis and not had_crisis:
        session.add(
            Report(group_id=group.id, post_id=post.id, kind="crisis", snapshot=text, crisis=True)
        )
    if crisis and not had_crisis:  # peer supporters are told at once
        notices.tell_supporters_of_crisis(session, group, post)
    touch(session, thread.id)
    session.commit()
    session.refresh(post)
    return post


def thank(session: Session, actor: Actor, post_id: int, thanked: bool) -> None:
    """Say thank you for a post, or take it back (saying it twice counts once)."""
    post = session.get(Post, post_id)
    if post is None or post.status != "shown":
        raise NotFound()
    get_thread(session, actor, post.thread_id)
    found = session.exec(
        select(Thanks).where(Thanks.post_id == post.id, Thanks.person_id == actor.id)
    ).first()
    if thanked and found is None:
        session.add(Thanks(post_id=post.id, person_id=actor.id))
    elif not thanked and found is not None:
        session.delete(found)
    session.exec(
        update(ThreadState)
        .where(col(ThreadState.thread_id) == post.thread_id, col(ThreadState.person_id) == actor.id)
        .values(version=ThreadState.version + 1)
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # thanked twice at once: once is kept


def touch_author_threads(session: Session, person_id: int) -> None:
    """Note that the threads a person wrote in show them differently now (a new display name,
    or "a former member" once their account closes). The caller commits."""
    session.exec(
        update(Thread)
        .where(
            col(Thread.id).in_(
                select(Post.thread_id).where(col(Post.author_id) == person_id).distinct()
            )
        )
        .values(version=Thread.version + 1)
    )
