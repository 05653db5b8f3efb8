"""Moderation by peer supporters, without HTTP.

Members report posts (the report keeps the post as it was). The group's peer supporters
work a review queue (posts with crisis words first, then oldest first): hide a post (it
stays in place with the reason, and its author is told why and how to ask for a review),
keep it, or let a held post go up. They lock and pin threads, set slow mode, pause and
remove members. Every action has a reason and goes in the group's moderation log. The
member it was about, or a peer supporter unsure of a call, can ask a group administrator for
a second look. Two peer supporters acting on the same thing at once: one wins, the other is
told what was done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.db import utcnow
from webapp.formatting import day_month_year
from webapp.groups import checkins, notices
from webapp.groups.models import (
    Appeal,
    Membership,
    ModAction,
    PeerGroup,
    PeerProfile,
    Post,
    Report,
    Thread,
)
from webapp.groups.services import GroupError, claim, get_group, is_supporter, membership
from webapp.groups.text import plain_line
from webapp.groups.threads import get_thread, moment, touch, went_up

REASON_MAX = 500
REPORT_REASONS = {
    "unsafe": _l("Someone may not be safe"),
    "unkind": _l("Unkind, hurtful or unfair"),
    "advice": _l("Health advice that could do harm"),
    "private": _l("Shares someone's private details"),
    "spam": _l("Advertising or spam"),
    "other": _l("Something else"),
}
SLOW_MODE_CHOICES = (0, 5, 10, 30, 60, 240, 1440)
MUTE_CHOICES = {
    "1h": dt.timedelta(hours=1),
    "1d": dt.timedelta(days=1),
    "3d": dt.timedelta(days=3),
    "7d": dt.timedelta(days=7),
}
LOG_PAGE = 50
QUEUE_MAX = 100
# What each action was, for the log and for telling people.
ACTION_WORDS = {
    "hide": _l("hid a post"),
    "approve": _l("let a held post go up"),
    "keep": _l("kept a reported post"),
    "lock": _l("locked a conversation"),
    "unlock": _l("unlocked a conversation"),
    "pin": _l("pinned a conversation"),
    "unpin": _l("unpinned a conversation"),
    "slow_mode": _l("set slow mode"),
    "mute": _l("paused a member's posting"),
    "unmute": _l("let a member post again"),
    "remove": _l("removed a member"),
    "welcome": _l("welcomed a new member"),
    "decline": _l("declined a request to join"),
    "invite": _l("invited someone to join"),
    "appeal_upheld": _l("kept a decision after a second look"),
    "appeal_overturned": _l("undid a decision after a second look"),
}
# Actions the member they were about may ask a second look at.
APPEALABLE = {"hide", "mute", "remove", "lock"}


def _supporter(session: Session, actor: Actor, group: PeerGroup) -> Membership:
    """Return the actor's membership as a peer supporter of the group, or raise NotFound."""
    require(actor, "groups.take_part", actor.id)
    mine = membership(session, actor, group)
    if not is_supporter(mine):
        raise NotFound()
    assert mine is not None
    return mine


def is_admin(member: Membership | None) -> bool:
    """Say whether a membership makes someone the group's administrator."""
    return member is not None and member.status == "active" and member.role == "admin"


def _reason(text: str, needed: bool = True) -> str:
    reason = plain_line(text, REASON_MAX * 2)
    if needed and not reason:
        raise GroupError(
            _("Write the reason in a few words: it goes in the log, and the person sees it."),
            "reason",
        )
    if len(reason) > REASON_MAX:
        raise GroupError(_("A reason can be at most %(n)d characters.", n=REASON_MAX), "reason")
    return reason


def _log(
    session: Session,
    actor: Actor,
    group: PeerGroup,
    action: str,
    reason: str,
    thread_id: int | None = None,
    post_id: int | None = None,
    member_id: int | None = None,
    detail: str = "",
    prior: str = "",
    until: dt.datetime | None = None,
) -> ModAction:
    entry = ModAction(
        group_id=group.id,
        actor_id=actor.id,
        action=action,
        thread_id=thread_id,
        post_id=post_id,
        member_id=member_id,
        reason=reason,
        detail=detail[:120],
        prior=prior,
        until=until,
    )
    session.add(entry)
    session.flush()
    audit.record(session, actor.id, f"groups.mod.{action}", actor.id, group=group.slug)
    return entry


def _post_in(session: Session, group: PeerGroup, post_id: int) -> tuple[Post, Thread]:
    post = session.get(Post, post_id)
    thread = session.get(Thread, post.thread_id) if post is not None else None
    if post is None or thread is None or thread.group_id != group.id:
        raise NotFound()
    return post, thread


def _post_link(group: PeerGroup, post: Post) -> str:
    return f"/groups/{group.slug}/posts/{post.id}"


# Reporting -------------------------------------------------------------------------------


def report(session: Session, actor: Actor, post_id: int, reason: str, note: str) -> str:
    """Report a post to the group's peer supporters; return what happened in words.

    The report keeps the post as it is now. A post already hidden, or already reported by
    the same person and not yet looked at, is not reported again.
    """
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound()
    _thread, group, _member = get_thread(session, actor, post.thread_id)
    if post.status == "held" and post.author_id != actor.id:
        raise NotFound()
    if post.author_id == actor.id:
        raise GroupError(_("This is your own post. You can change it or ask for it to go."))
    if post.status == "hidden":
        return _("A peer supporter has already hidden this post. Thank you for looking out.")
    if reason not in REPORT_REASONS:
        raise GroupError(_("Choose what is wrong with the post."), "reason")
    note = plain_line(note, REASON_MAX * 2)
    if reason == "other" and not note:
        raise GroupError(_("Say in a few words what is wrong with the post."), "note")
    if len(note) > REASON_MAX:
        raise GroupError(_("Keep it to %(n)d characters.", n=REASON_MAX), "note")
    earlier = session.exec(
        select(Report.id).where(
            Report.post_id == post.id, Report.reporter_id == actor.id, Report.status == "open"
        )
    ).first()
    if earlier is None:
        session.add(
            Report(
                group_id=group.id,
                post_id=post.id,
                kind="report",
                reporter_id=actor.id,
                reason=reason,
                note=note,
                snapshot=post.body,
                crisis=post.crisis or reason == "unsafe",
            )
        )
        audit.record(session, actor.id, "groups.report", actor.id, group=group.slug)
        session.commit()
    return _(
        "Thank you. A peer supporter will look at it soon. The person is not told who reported it."
    )


# The review queue ------------------------------------------------------------------------


@dataclass
class QueueItem:
    """A post waiting for a peer supporter, with every open report of it."""

    report: Report
    post: Post
    thread: Thread
    author: str
    reasons: list[str]
    notes: list[str]
    reporters: int
    # Private check-ins peer supporters have sent its author about it.
    check_ins: list[checkins.Sent] = field(default_factory=list)


def queue(session: Session, actor: Actor, slug: str) -> tuple[PeerGroup, list[QueueItem]]:
    """Return the group's review queue: crisis words first, then oldest first."""
    group = get_group(session, slug)
    _supporter(session, actor, group)
    rows = session.exec(
        select(Report, Post, Thread, PeerProfile.display_name)
        .join(Post, col(Post.id) == Report.post_id)
        .join(Thread, col(Thread.id) == Post.thread_id)
        .join(PeerProfile, col(PeerProfile.person_id) == Post.author_id, isouter=True)
        .where(Report.group_id == group.id, Report.status == "open")
        .order_by(col(Report.crisis).desc(), col(Report.created_at), col(Report.id))
        .limit(QUEUE_MAX * 3)
    ).all()
    items: dict[int, QueueItem] = {}
    for found, post, thread, name in rows:
        item = items.get(post.id or 0)
        if item is None:
            if len(items) >= QUEUE_MAX:
                continue
            item = items[post.id or 0] = QueueItem(
                found, post, thread, name or _("a former member"), [], [], 0
            )
        if found.kind == "report":
            item.reporters += 1
            item.reasons.append(str(REPORT_REASONS.get(found.reason, found.reason)))
            if found.note:
                item.notes.append(found.note)
    sent = checkins.sent_about(session, actor, list(items))
    for post_id, item in items.items():
        item.check_ins = sent.get(post_id, [])
    return group, list(items.values())


def queue_count(session: Session, group: PeerGroup) -> int:
    """Return how many posts wait in the group's review queue."""
    return session.exec(
        select(func.count(func.distinct(Report.post_id))).where(
            Report.group_id == group.id, Report.status == "open"
        )
    ).one()


def _done_already(session: Session, report_id: int) -> GroupError:
    """Say what another peer supporter decided a moment ago."""
    found = session.get(Report, report_id)
    if found is not None:
        session.refresh(found)
    outcome = {
        "hide": _("hid the post"),
        "keep": _("kept the post"),
        "approve": _("let the post go up"),
    }.get(found.outcome if found else "", _("dealt with it"))
    return GroupError(
        _("Another peer supporter looked at this a moment ago and %(what)s.", what=outcome)
    )


def decide(
    session: Session,
    actor: Actor,
    slug: str,
    report_id: int,
    decision: str,
    reason: str,
    version: int,
) -> str:
    """Act on a queue item: hide the post, keep it, or let a held post go up.

    Every open item about the same post is closed with it. Two peer supporters at once: the
    first wins and the second is told what was done.
    """
    group = get_group(session, slug)
    _supporter(session, actor, group)
    found = session.get(Report, report_id)
    if found is None or found.group_id != group.id:
        raise NotFound()
    post, thread = _post_in(session, group, found.post_id)
    if decision not in ("hide", "keep", "approve"):
        raise GroupError(_("Choose what to do with the post."), "decision")
    if decision == "approve" and post.status != "held":
        decision = "keep"
    if decision == "keep" and post.status == "held":
        raise GroupError(_("This post is waiting to go up: let it go up, or hide it."), "decision")
    reason = _reason(reason, needed=decision != "approve")
    if found.status != "open":
        raise _done_already(session, report_id)
    if post.status == "hidden":  # hidden from its thread meanwhile: nothing left to decide
        session.exec(
            update(Report)
            .where(col(Report.post_id) == post.id, col(Report.status) == "open")
            .values(status="done", decided_at=utcnow(), outcome="hide")
        )
        session.commit()
        raise GroupError(_("A peer supporter has already hidden this post."))
    now = utcnow()
    if not claim(
        session,
        Report,
        found.id,
        "open",
        version,
        status="done",
        decided_by_id=actor.id,
        decided_at=now,
        outcome=decision,
    ):
        session.rollback()
        raise _done_already(session, report_id)
    session.exec(
        update(Report)
        .where(col(Report.post_id) == post.id, col(Report.status) == "open")
        .values(status="done", decided_by_id=actor.id, decided_at=now, outcome=decision)
    )
    if decision == "hide":
        _hide(session, actor, group, thread, post, reason)
    elif decision == "approve":
        _approve(session, actor, group, thread, post, reason)
    else:
        _log(session, actor, group, "keep", reason, thread.id, post.id)
    session.commit()
    return {
        "hide": _("Hidden, with your reason. Its author has been told."),
        "approve": _("It has gone up."),
        "keep": _("Kept. It is noted in the log."),
    }[decision]


def _approve(
    session: Session, actor: Actor, group: PeerGroup, thread: Thread, post: Post, reason: str
) -> None:
    moved = session.exec(
        update(Post)
        .where(col(Post.id) == post.id, col(Post.status) == "held")
        .values(status="shown", version=Post.version + 1)
    )
    if moved.rowcount != 1:
        return
    session.exec(
        update(Membership)
        .where(col(Membership.group_id) == group.id, col(Membership.person_id) == post.author_id)
        .values(posts_approved=Membership.posts_approved + 1)
    )
    session.refresh(post)
    went_up(session, group, thread, post)
    _log(session, actor, group, "approve", reason, thread.id, post.id)
    notices.tell_member(
        session,
        post.author_id,
        _("A peer supporter read your post and it has gone up."),
        _post_link(group, post),
    )


def _hide(
    session: Session, actor: Actor, group: PeerGroup, thread: Thread, post: Post, reason: str
) -> ModAction:
    prior = post.status
    done = session.exec(
        update(Post)
        .where(col(Post.id) == post.id, col(Post.status) != "hidden")
        .values(
            status="hidden",
            hidden_reason=reason,
            hidden_by_id=actor.id,
            version=Post.version + 1,
        )
    )
    if done.rowcount != 1:
        session.rollback()
        raise GroupError(_("A peer supporter has already hidden this post."))
    touch(session, thread.id)
    entry = _log(session, actor, group, "hide", reason, thread.id, post.id, prior=prior)
    notices.tell_member(
        session,
        post.author_id,
        _("A peer supporter hid one of your posts and said why. You can ask for a second look."),
        _post_link(group, post),
    )
    return entry


def hide_post(session: Session, actor: Actor, slug: str, post_id: int, reason: str) -> None:
    """Hide a post straight from its thread, with a reason; open reports of it close."""
    group = get_group(session, slug)
    _supporter(session, actor, group)
    post, thread = _post_in(session, group, post_id)
    reason = _reason(reason)
    if post.status == "hidden":
        raise GroupError(_("A peer supporter has already hidden this post."))
    _hide(session, actor, group, thread, post, reason)
    session.exec(
        update(Report)
        .where(col(Report.post_id) == post.id, col(Report.status) == "open")
        .values(status="done", decided_by_id=actor.id, decided_at=utcnow(), outcome="hide")
    )
    session.commit()


# Threads and the group -------------------------------------------------------------------


def lock_thread(
    session: Session, actor: Actor, slug: str, thread_id: int, lock: bool, reason: str
) -> None:
    """Lock a thread (nobody can reply; the reason shows), or unlock it."""
    group = get_group(session, slug)
    _supporter(session, actor, group)
    thread = session.get(Thread, thread_id)
    if thread is None or thread.group_id != group.id:
        raise NotFound()
    reason = _reason(reason)
    if lock == (thread.locked_at is not None):
        raise GroupError(
            _("This conversation is already locked.")
            if lock
            else _("This conversation is not locked.")
        )
    thread.locked_at = utcnow() if lock else None
    thread.locked_reason = reason if lock else ""
    session.add(thread)
    touch(session, thread.id)
    _log(
        session,
        actor,
        group,
        "lock" if lock else "unlock",
        reason,
        thread.id,
        until=thread.locked_at,
    )
    session.commit()


def pin_thread(
    session: Session,
    actor: Actor,
    slug: str,
    thread_id: int,
    pin: bool,
    until: str,
    reason: str,
) -> None:
    """Pin a thread to the top of the group (optionally until a day), or unpin it."""
    group = get_group(session, slug)
    _supporter(session, actor, group)
    thread = session.get(Thread, thread_id)
    if thread is None or thread.group_id != group.id:
        raise NotFound()
    reason = _reason(reason)
    ends: dt.datetime | None = None
    detail = ""
    if pin and until.strip():
        try:
            day = dt.date.fromisoformat(until.strip())
        except ValueError:
            raise GroupError(
                _("Give the last day as a date, for example 2027-01-31."), "until"
            ) from None
        today = utcnow().date()
        if day < today or day > today + dt.timedelta(days=366):
            raise GroupError(_("The last day must be from today to a year ahead."), "until")
        ends = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        detail = _("until %(day)s", day=day_month_year(day))
    thread.pinned, thread.pinned_until = pin, ends
    session.add(thread)
    touch(session, thread.id)
    _log(session, actor, group, "pin" if pin else "unpin", reason, thread.id, detail=detail)
    session.commit()


def set_slow_mode(session: Session, actor: Actor, slug: str, minutes: int, reason: str) -> None:
    """Set slow mode for the group: one post per member per so many minutes (0 is off)."""
    group = get_group(session, slug)
    _supporter(session, actor, group)
    if minutes not in SLOW_MODE_CHOICES:
        raise GroupError(_("Choose one of the lengths offered."), "minutes")
    reason = _reason(reason)
    group.slow_mode_minutes = minutes
    session.add(group)
    detail = _("off") if minutes == 0 else _("%(n)d minutes", n=minutes)
    _log(session, actor, group, "slow_mode", reason, detail=detail)
    session.commit()


# Members ---------------------------------------------------------------------------------


@dataclass
class MemberRow:
    """A member as peer supporters see them: display name, role, and any pause."""

    member: Membership
    display_name: str


def members(session: Session, actor: Actor, slug: str, query: str = "") -> list[MemberRow]:
    """Return the group's active members by display name (peer supporters only)."""
    group = get_group(session, slug)
    _supporter(session, actor, group)
    statement = (
        select(Membership, PeerProfile.display_name)
        .join(PeerProfile, col(PeerProfile.person_id) == Membership.person_id)
        .where(Membership.group_id == group.id, Membership.status == "active")
        .order_by(PeerProfile.display_name)
        .limit(200)
    )
    words = plain_line(query, 40)
    if words:
        statement = statement.where(
            func.lower(PeerProfile.display_name).contains(words.lower(), autoescape=True)
        )
    return [MemberRow(member, name) for member, name in session.exec(statement).all()]


def _target(session: Session, actor: Actor, group: PeerGroup, member_id: int) -> Membership:
    mine = _supporter(session, actor, group)
    target = session.get(Membership, member_id)
    if target is None or target.group_id != group.id:
        raise NotFound()
    if target.id == mine.id:
        raise GroupError(_("You cannot do this to yourself."))
    if target.role != "member" and not is_admin(mine):
        raise GroupError(_("Only the group's administrator can pause or remove a peer supporter."))
    return target


def mute_member(
    session: Session, actor: Actor, slug: str, member_id: int, length: str, reason: str
) -> None:
    """Pause a member's posting for a set time (or let them post again); they still read."""
    group = get_group(session, slug)
    target = _target(session, actor, group, member_id)
    if length != "off" and length not in MUTE_CHOICES:
        raise GroupError(_("Choose how long to pause their posting."), "length")
    reason = _reason(reason)
    if target.status != "active":
        raise GroupError(_("They are no longer a member of the group."))
    if length == "off":
        target.muted_until = None
        _log(session, actor, group, "unmute", reason, member_id=target.id)
        words = _("A peer supporter has let you post again in a group.")
    else:
        target.muted_until = utcnow() + MUTE_CHOICES[length]
        when = moment(target.muted_until)
        _log(
            session,
            actor,
            group,
            "mute",
            reason,
            member_id=target.id,
            detail=_("until %(when)s", when=when),
            until=target.muted_until,
        )
        words = _("A peer supporter has paused your posting in a group until %(when)s.", when=when)
    target.version += 1
    session.add(target)
    notices.tell_member(session, target.person_id, words, f"/groups/{group.slug}")
    session.commit()


def remove_member(session: Session, actor: Actor, slug: str, member_id: int, reason: str) -> None:
    """Remove a member from the group; they see the reason and can ask for a second look."""
    group = get_group(session, slug)
    target = _target(session, actor, group, member_id)
    reason = _reason(reason)
    role = target.role
    done = session.exec(
        update(Membership)
        .where(col(Membership.id) == target.id, col(Membership.status) == "active")
        .values(status="removed", role="member", reason=reason, version=Membership.version + 1)
    )
    if done.rowcount != 1:
        session.rollback()
        raise GroupError(_("They are no longer a member of the group."))
    _log(session, actor, group, "remove", reason, member_id=target.id, prior=role)
    notices.tell_member(
        session,
        target.person_id,
        _("A peer supporter removed you from a group and said why. You can ask for a second look."),
        f"/groups/{group.slug}",
    )
    session.commit()


# The log ---------------------------------------------------------------------------------


@dataclass
class Logged:
    """One line of the moderation log, in words."""

    entry: ModAction
    by: str
    about: str
    words: str
    appeal: Appeal | None


def log(
    session: Session, actor: Actor, slug: str, page: int = 1
) -> tuple[PeerGroup, list[Logged], bool]:
    """Return a page of the group's moderation log, newest first (peer supporters only)."""
    group = get_group(session, slug)
    _supporter(session, actor, group)
    by = PeerProfile.__table__.alias("by_profile")
    about_member = Membership.__table__.alias("about_member")
    about = PeerProfile.__table__.alias("about_profile")
    rows = session.exec(
        select(ModAction, by.c.display_name, about.c.display_name)
        .join(by, by.c.person_id == ModAction.actor_id, isouter=True)
        .join(about_member, about_member.c.id == ModAction.member_id, isouter=True)
        .join(about, about.c.person_id == about_member.c.person_id, isouter=True)
        .where(ModAction.group_id == group.id)
        .order_by(col(ModAction.id).desc())
        .offset((page - 1) * LOG_PAGE)
        .limit(LOG_PAGE + 1)
    ).all()
    ids = [entry.id for entry, _b, _a in rows]
    appeals = {
        found.action_id: found
        for found in session.exec(select(Appeal).where(col(Appeal.action_id).in_(ids)))
    }
    former = _("a former member")
    return (
        group,
        [
            Logged(
                entry,
                by_name or former,
                about_name or "",
                str(ACTION_WORDS.get(entry.action, entry.action)),
                appeals.get(entry.id),
            )
            for entry, by_name, about_name in rows[:LOG_PAGE]
        ],
        len(rows) > LOG_PAGE,
    )


# Second looks ------------------------------------------------------------------------------


def _about(session: Session, entry: ModAction) -> int | None:
    """Return the person an action was about: the post's author or the member."""
    if entry.post_id is not None:
        post = session.get(Post, entry.post_id)
        return post.author_id if post is not None else None
    if entry.member_id is not None:
        target = session.get(Membership, entry.member_id)
        return target.person_id if target is not None else None
    if entry.thread_id is not None:  # a lock: the conversation's starter
        thread = session.get(Thread, entry.thread_id)
        return thread.author_id if thread is not None else None
    return None


def appealable(
    session: Session, actor: Actor, slug: str, action_id: int
) -> tuple[PeerGroup, ModAction, Appeal | None]:
    """Return an action the actor may ask a second look at (theirs, or as a peer supporter
    of the group), and any appeal of it already made; else raise NotFound."""
    require(actor, "groups.take_part", actor.id)
    group = get_group(session, slug)
    entry = session.get(ModAction, action_id)
    if entry is None or entry.group_id != group.id or entry.action not in APPEALABLE:
        raise NotFound()
    if _about(session, entry) != actor.id and not is_supporter(membership(session, actor, group)):
        raise NotFound()
    found = session.exec(select(Appeal).where(Appeal.action_id == entry.id)).first()
    return group, entry, found


def appeal(session: Session, actor: Actor, slug: str, action_id: int, words: str) -> Appeal:
    """Ask the group's administrator for a second look at a decision (once per decision)."""
    group, entry, found = appealable(session, actor, slug, action_id)
    if found is not None:
        raise GroupError(_("A second look at this decision has already been asked for."))
    text = plain_line(words, 2000)
    if not text:
        raise GroupError(_("Say in a few words why it should be looked at again."), "words")
    if len(text) > 1000:
        raise GroupError(_("Keep it to %(n)d characters.", n=1000), "words")
    made = Appeal(group_id=group.id, action_id=entry.id, by_id=actor.id, words=text)
    session.add(made)
    try:
        session.flush()
    except IntegrityError:  # asked twice at once: the other one is kept
        session.rollback()
        raise GroupError(_("A second look at this decision has already been asked for.")) from None
    admins = session.exec(
        select(Membership.person_id).where(
            Membership.group_id == group.id,
            Membership.status == "active",
            Membership.role == "admin",
        )
    ).all()
    for person in admins:
        notices.tell_member(
            session,
            person,
            _("Someone asked for a second look at a decision in a group."),
            f"/groups/{group.slug}/appeals",
        )
    audit.record(session, actor.id, "groups.appeal", actor.id, group=group.slug)
    session.commit()
    session.refresh(made)
    return made


@dataclass
class AppealRow:
    """An open appeal with the decision it is about."""

    appeal: Appeal
    entry: ModAction
    by: str
    snapshot: str


def appeals(session: Session, actor: Actor, slug: str) -> tuple[PeerGroup, list[AppealRow]]:
    """Return the group's open appeals, oldest first (the group's administrator only)."""
    group = get_group(session, slug)
    if not is_admin(membership(session, actor, group)):
        raise NotFound()
    rows = session.exec(
        select(Appeal, ModAction, PeerProfile.display_name)
        .join(ModAction, col(ModAction.id) == Appeal.action_id)
        .join(PeerProfile, col(PeerProfile.person_id) == Appeal.by_id, isouter=True)
        .where(Appeal.group_id == group.id, Appeal.status == "open")
        .order_by(col(Appeal.created_at), col(Appeal.id))
    ).all()
    result = []
    for found, entry, name in rows:
        post = session.get(Post, entry.post_id) if entry.post_id else None
        result.append(
            AppealRow(found, entry, name or _("a former member"), post.body if post else "")
        )
    return group, result


def decide_appeal(
    session: Session,
    actor: Actor,
    slug: str,
    appeal_id: int,
    overturn: bool,
    answer: str,
    version: int,
) -> None:
    """Keep a decision or undo it, with a reason the asker sees; one administrator wins."""
    group = get_group(session, slug)
    if not is_admin(membership(session, actor, group)):
        raise NotFound()
    found = session.get(Appeal, appeal_id)
    if found is None or found.group_id != group.id:
        raise NotFound()
    answer = _reason(answer)
    if not claim(
        session,
        Appeal,
        found.id,
        "open",
        version,
        status="overturned" if overturn else "upheld",
        decided_by_id=actor.id,
        decided_at=utcnow(),
        answer=answer,
    ):
        session.rollback()
        raise GroupError(_("Another administrator answered this a moment ago."))
    entry = session.get(ModAction, found.action_id)
    assert entry is not None
    if overturn:
        _undo(session, group, entry)
    _log(
        session,
        actor,
        group,
        "appeal_overturned" if overturn else "appeal_upheld",
        answer,
        entry.thread_id,
        entry.post_id,
        entry.member_id,
    )
    notices.tell_member(
        session,
        found.by_id,
        _("The group's administrator answered your request for a second look."),
        f"/groups/{group.slug}/appeal/{entry.id}",
    )
    session.commit()


def _undo(session: Session, group: PeerGroup, entry: ModAction) -> None:
    """Undo a decision while what it set is still in force: show the post again (counted as
    going up if it had been waiting), end that pause, take the member back in their role,
    or lift that lock."""
    if entry.thread_id is not None:
        touch(session, entry.thread_id)
    if entry.action == "hide" and entry.post_id is not None:
        shown = session.exec(
            update(Post)
            .where(col(Post.id) == entry.post_id, col(Post.status) == "hidden")
            .values(status="shown", hidden_reason="", hidden_by_id=None, version=Post.version + 1)
        )
        post = session.get(Post, entry.post_id)
        if shown.rowcount == 1 and entry.prior == "held" and post is not None:
            session.refresh(post)
            thread = session.get(Thread, post.thread_id)
            assert thread is not None
            session.exec(
                update(Membership)
                .where(
                    col(Membership.group_id) == group.id,
                    col(Membership.person_id) == post.author_id,
                )
                .values(posts_approved=Membership.posts_approved + 1)
            )
            went_up(session, group, thread, post, late=True)
    elif entry.action == "mute" and entry.member_id is not None:
        session.exec(
            update(Membership)
            .where(
                col(Membership.id) == entry.member_id, col(Membership.muted_until) == entry.until
            )
            .values(muted_until=None)
        )
    elif entry.action == "remove" and entry.member_id is not None:
        session.exec(
            update(Membership)
            .where(col(Membership.id) == entry.member_id, col(Membership.status) == "removed")
            .values(
                status="active",
                role=entry.prior or "member",
                reason="",
                version=Membership.version + 1,
            )
        )
    elif entry.action == "lock" and entry.thread_id is not None:
        session.exec(
            update(Thread)
            .where(col(Thread.id) == entry.thread_id, col(Thread.locked_at) == entry.until)
            .values(locked_at=None, locked_reason="")
        )


def hidden_action(session: Session, post: Post) -> ModAction | None:
    """Return the log entry of the hiding of a post (for "ask for a second look")."""
    return session.exec(
        select(ModAction)
        .where(ModAction.post_id == post.id, ModAction.action == "hide")
        .order_by(col(ModAction.id).desc())
    ).first()
