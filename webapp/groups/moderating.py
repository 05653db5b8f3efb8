"""Peer supporters' pages: what needs a look across their groups, the review queue, a private
check-in with a post's author (and the author reading it), hiding a post, locking and pinning
threads, slow mode, pausing and removing members, the moderation log; asking for a second
look, and the group administrator's answers.
"""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.content import get_content
from webapp.db import get_session, utcnow
from webapp.groups import checkins, looks, moderation, services
from webapp.groups.conversation import post_of, thread_of, thread_page
from webapp.groups.models import Post
from webapp.groups.routes import bp
from webapp.groups.services import GroupError, get_group, is_supporter, membership
from webapp.htmx import hx_redirect, render, requested_page


def _queue_page(slug: str, status: int = 200, **context: object) -> Response:
    group, items = moderation.queue(get_session(), current_user, slug)
    context.setdefault("error", "")
    context.setdefault("problem_id", None)
    return render("groups/queue.html", status=status, group=group, items=items, **context)


@bp.get("/<slug>/queue")
@login_required
def queue(slug: str) -> Response:
    """Show the review queue (the group's peer supporters)."""
    return _queue_page(slug)


@bp.get("/needs-a-look")
@login_required
def needs_look() -> Response:
    """List the groups the person supports, with the posts waiting for a look in each (the
    header's "Needs a look" leads here; 404 for anyone who supports no group)."""
    rows = looks.waiting_by_group(get_session(), current_user)
    if not rows:
        abort(404)
    return render("groups/needs_look.html", rows=rows)


def _check_in_page(slug: str, post_id: int, status: int = 200, **context: object) -> Response:
    db = get_session()
    found = checkins.target(db, current_user, slug, post_id)
    mine = services.profile(db, current_user)
    context.setdefault("error", None)
    context.setdefault("words", checkins.default_words(found.author))
    return render(
        "groups/check_in.html",
        status=status,
        found=found,
        group=found.group,
        help_lines=get_content().crisis.help,
        words_max=checkins.WORDS_MAX,
        me=mine.display_name if mine is not None else "",
        **context,
    )


@bp.get("/<slug>/posts/<int:post_id>/check-in")
@login_required
def check_in_form(slug: str, post_id: int) -> Response:
    """Show the form for a private check-in with a post's author (the group's peer
    supporters), or the one already sent."""
    return _check_in_page(slug, post_id)


@bp.post("/<slug>/posts/<int:post_id>/check-in")
@login_required
def check_in(slug: str, post_id: int) -> Response:
    """Send a post's author a private check-in, with the help lines; a double submit sends
    once."""
    words = request.form.get("words", "")[:4000]
    try:
        _made, fresh = checkins.send_check_in(get_session(), current_user, slug, post_id, words)
    except GroupError as error:
        return _check_in_page(slug, post_id, status=422, error=error, words=words)
    flash(
        _("Sent. Only they can read it, with the help lines.")
        if fresh
        else _("You had already sent them a check-in about this post. It was not sent again."),
        "success",
    )
    return hx_redirect(url_for("groups.check_in_form", slug=slug, post_id=post_id))


@bp.get("/check-ins/<int:check_in_id>")
@login_required
def check_in_message(check_in_id: int) -> Response:
    """Show the person a private check-in a peer supporter sent them, with the help lines."""
    received = checkins.read_check_in(get_session(), current_user, check_in_id)
    return render(
        "groups/check_in_message.html",
        received=received,
        help_lines=get_content().crisis.help,
    )


@bp.post("/<slug>/queue/<int:report_id>")
@login_required
def decide_item(slug: str, report_id: int) -> Response:
    """Hide, keep, or let go up a post in the queue, with a reason."""
    try:
        words = moderation.decide(
            get_session(),
            current_user,
            slug,
            report_id,
            request.form.get("decision", ""),
            request.form.get("reason", "")[:2000],
            request.form.get("version", 0, type=int) or 0,
        )
    except GroupError as error:
        return _queue_page(slug, status=422, error=error.message, problem_id=report_id)
    flash(words, "success")
    return hx_redirect(url_for("groups.queue", slug=slug))


def _hide_page(post: Post, slug: str, status: int = 200, **context: object) -> Response:
    context.setdefault("error", "")
    context.setdefault("reason", "")
    return render(
        "groups/hide.html",
        status=status,
        post=post,
        group=get_group(get_session(), slug),
        **context,
    )


def _supporter_post(slug: str, post_id: int) -> Post:
    post = post_of(slug, post_id)
    group = get_group(get_session(), slug)
    if not is_supporter(membership(get_session(), current_user, group)):
        abort(404)
    return post


@bp.get("/<slug>/posts/<int:post_id>/hide")
@login_required
def hide_form(slug: str, post_id: int) -> Response:
    """Show the form to hide a post with a reason (the group's peer supporters)."""
    return _hide_page(_supporter_post(slug, post_id), slug)


@bp.post("/<slug>/posts/<int:post_id>/hide")
@login_required
def hide(slug: str, post_id: int) -> Response:
    """Hide a post: it stays in place with the reason, and its author is told."""
    post = _supporter_post(slug, post_id)
    reason = request.form.get("reason", "")[:2000]
    try:
        moderation.hide_post(get_session(), current_user, slug, post_id, reason)
    except GroupError as error:
        return _hide_page(post, slug, status=422, error=error.message, reason=reason)
    flash(_("Hidden, with your reason. Its author has been told."), "success")
    return hx_redirect(url_for("groups.post", slug=slug, post_id=post_id))


def _thread_form_error(slug: str, thread_id: int, error: GroupError) -> Response:

    return thread_page(slug, thread_id, 1, status=422, tools_error=error.message)


@bp.post("/<slug>/threads/<int:thread_id>/lock")
@login_required
def lock(slug: str, thread_id: int) -> Response:
    """Lock a thread (or unlock it), with a reason."""
    thread_of(slug, thread_id)
    locking = request.form.get("lock") == "yes"
    try:
        moderation.lock_thread(
            get_session(),
            current_user,
            slug,
            thread_id,
            locking,
            request.form.get("reason", "")[:2000],
        )
    except GroupError as error:
        return _thread_form_error(slug, thread_id, error)
    flash(_("Locked: nobody can reply.") if locking else _("Unlocked."), "success")
    return hx_redirect(url_for("groups.thread", slug=slug, thread_id=thread_id))


@bp.post("/<slug>/threads/<int:thread_id>/pin")
@login_required
def pin(slug: str, thread_id: int) -> Response:
    """Pin a thread to the top of the group (optionally until a day), or unpin it."""
    thread_of(slug, thread_id)
    pinning = request.form.get("pin") == "yes"
    try:
        moderation.pin_thread(
            get_session(),
            current_user,
            slug,
            thread_id,
            pinning,
            request.form.get("until", "")[:20],
            request.form.get("reason", "")[:2000],
        )
    except GroupError as error:
        return _thread_form_error(slug, thread_id, error)
    flash(_("Pinned to the top of the group.") if pinning else _("Unpinned."), "success")
    return hx_redirect(url_for("groups.thread", slug=slug, thread_id=thread_id))


def _members_page(slug: str, status: int = 200, **context: object) -> Response:
    db = get_session()
    query = request.args.get("q", "")[:40]
    rows = moderation.members(db, current_user, slug, query)
    group = get_group(db, slug)
    context.setdefault("error", "")
    context.setdefault("problem_id", None)
    context.setdefault("typed", "")
    return render(
        "groups/members.html",
        status=status,
        group=group,
        rows=rows,
        query=query,
        now=utcnow(),
        slow_choices=moderation.SLOW_MODE_CHOICES,
        **context,
    )


@bp.get("/<slug>/members")
@login_required
def members(slug: str) -> Response:
    """Show the members, slow mode, and the tools to pause or remove (peer supporters)."""
    return _members_page(slug)


@bp.post("/<slug>/members/<int:member_id>/mute")
@login_required
def mute(slug: str, member_id: int) -> Response:
    """Pause a member's posting for a set time, or let them post again."""
    try:
        moderation.mute_member(
            get_session(),
            current_user,
            slug,
            member_id,
            request.form.get("length", ""),
            request.form.get("reason", "")[:2000],
        )
    except GroupError as error:
        return _members_page(slug, status=422, error=error.message, problem_id=member_id)
    flash(_("Done, with your reason. They have been told."), "success")
    return hx_redirect(url_for("groups.members", slug=slug))


@bp.post("/<slug>/members/<int:member_id>/remove")
@login_required
def remove(slug: str, member_id: int) -> Response:
    """Remove a member from the group, with a reason they see."""
    try:
        moderation.remove_member(
            get_session(), current_user, slug, member_id, request.form.get("reason", "")[:2000]
        )
    except GroupError as error:
        return _members_page(slug, status=422, error=error.message, problem_id=member_id)
    flash(_("Removed, with your reason. They have been told."), "success")
    return hx_redirect(url_for("groups.members", slug=slug))


@bp.post("/<slug>/slow-mode")
@login_required
def slow_mode(slug: str) -> Response:
    """Set or end slow mode for the group."""
    try:
        moderation.set_slow_mode(
            get_session(),
            current_user,
            slug,
            request.form.get("minutes", -1, type=int),
            request.form.get("reason", "")[:2000],
        )
    except GroupError as error:
        return _members_page(slug, status=422, error=error.message, problem_id="slow")
    flash(_("Slow mode is set."), "success")
    return hx_redirect(url_for("groups.members", slug=slug))


@bp.post("/<slug>/invite")
@login_required
def invite(slug: str) -> Response:
    """Invite someone to the group by their display name."""
    typed = request.form.get("display_name", "")[:200]
    try:
        name = services.invite(get_session(), current_user, slug, typed)
    except GroupError as error:
        return _members_page(
            slug, status=422, error=error.message, problem_id="invite", typed=typed
        )
    flash(_("%(name)s is invited. They will see it on the group's page.", name=name), "success")
    return hx_redirect(url_for("groups.members", slug=slug))


@bp.get("/<slug>/log")
@login_required
def log(slug: str) -> Response:
    """Show the moderation log, newest first (the group's peer supporters)."""
    page = requested_page()
    group, entries, more = moderation.log(get_session(), current_user, slug, page)
    return render("groups/log.html", group=group, entries=entries, more=more, page=page)


def _appeal_page(slug: str, action_id: int, status: int = 200, **context: object) -> Response:
    group, entry, found = moderation.appealable(get_session(), current_user, slug, action_id)
    post = get_session().get(Post, entry.post_id) if entry.post_id else None
    context.setdefault("error", "")
    context.setdefault("words", "")
    return render(
        "groups/appeal.html",
        status=status,
        group=group,
        entry=entry,
        found=found,
        post=post,
        action_words=moderation.ACTION_WORDS,
        **context,
    )


@bp.get("/<slug>/appeal/<int:action_id>")
@login_required
def appeal_form(slug: str, action_id: int) -> Response:
    """Show a decision and the form to ask the group's administrator for a second look."""
    return _appeal_page(slug, action_id)


@bp.post("/<slug>/appeal/<int:action_id>")
@login_required
def appeal(slug: str, action_id: int) -> Response:
    """Ask for a second look at a decision."""
    words = request.form.get("words", "")[:4000]
    try:
        moderation.appeal(get_session(), current_user, slug, action_id, words)
    except GroupError as error:
        return _appeal_page(slug, action_id, status=422, error=error.message, words=words)
    flash(_("Sent. The group's administrator will look again and tell you."), "success")
    return hx_redirect(url_for("groups.appeal_form", slug=slug, action_id=action_id))


def _appeals_page(slug: str, status: int = 200, **context: object) -> Response:
    group, rows = moderation.appeals(get_session(), current_user, slug)
    context.setdefault("error", "")
    context.setdefault("problem_id", None)
    return render(
        "groups/appeals.html",
        status=status,
        group=group,
        rows=rows,
        action_words=moderation.ACTION_WORDS,
        **context,
    )


@bp.get("/<slug>/appeals")
@login_required
def appeals(slug: str) -> Response:
    """Show the open requests for a second look (the group's administrator)."""
    return _appeals_page(slug)


@bp.post("/<slug>/appeals/<int:appeal_id>")
@login_required
def answer_appeal(slug: str, appeal_id: int) -> Response:
    """Keep or undo a decision, with a reason the asker sees."""
    try:
        moderation.decide_appeal(
            get_session(),
            current_user,
            slug,
            appeal_id,
            request.form.get("decision") == "overturn",
            request.form.get("answer", "")[:2000],
            request.form.get("version", 0, type=int) or 0,
        )
    except GroupError as error:
        return _appeals_page(slug, status=422, error=error.message, problem_id=appeal_id)
    flash(_("Answered. They have been told."), "success")
    return hx_redirect(url_for("groups.appeals", slug=slug))
