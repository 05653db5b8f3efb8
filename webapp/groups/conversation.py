"""Group conversation pages: the thread list is on the group page; here a thread page by page
with new replies appearing while the reader types, starting a thread, replying (with the same
gentle safety step as the planning conversation when words suggest someone may not be safe),
changing one's post, saying thank you, muting a thread, reporting a post, and jumping to the
first unread post.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.contact import services as contact
from webapp.content import get_content
from webapp.db import get_session, utcnow
from webapp.groups import moderation, threads
from webapp.groups.models import Membership, PeerGroup, Post, Thread
from webapp.groups.routes import bp
from webapp.groups.services import GroupError, get_group, is_supporter, membership
from webapp.htmx import hx_redirect, render, requested_page
from webapp.kept import kept_page, plain_visit


def thread_of(slug: str, thread_id: int) -> tuple[Thread, PeerGroup, Membership]:
    """Return the thread, its group and the reader's membership; 404 unless the thread is in
    the group of the address and the reader an active member of it."""
    found = threads.get_thread(get_session(), current_user, thread_id)
    if found[1].slug != slug:
        abort(404)
    return found


def post_of(slug: str, post_id: int) -> Post:
    post = get_session().get(Post, post_id)
    if post is None:
        abort(404)
    thread_of(slug, post.thread_id)
    return post


def _needs_safety_step(*words: str) -> bool:
    """Say whether to show the safety step first: crisis words, not yet seen the step."""
    if request.form.get("confirmed") == "yes":
        return False
    return get_content().crisis.check("\n".join(words)) is not None


def _safety_page(
    action: str,
    title: str | None,
    body: str,
    key: str,
    back: str,
    status: int = 200,
    **care_team: object,
) -> Response:
    """Show the safety step before a post goes up; `care_team` holds what the poster was told
    after asking their care team to contact them (see care_team below)."""
    args = request.view_args or {}
    return render(
        "groups/safety.html",
        status=status,
        action=action,
        title=title,
        body=body,
        key=key,
        back=back,
        help_lines=get_content().crisis.help,
        care_team_url=url_for(
            "groups.care_team", slug=args.get("slug"), thread_id=args.get("thread_id")
        ),
        told=care_team.get("told"),
        care_team_error=care_team.get("error", ""),
    )


@bp.post("/<slug>/care-team")
@bp.post("/<slug>/threads/<int:thread_id>/care-team")
@login_required
def care_team(slug: str, thread_id: int | None = None) -> Response:
    """From the safety step: ask the poster's care team to contact them, then show the step
    again with their post as it was (none of it goes to the practice or is kept)."""
    body = request.form.get("body", "")[:20_000]
    key = request.form.get("key", "")[:64]
    if thread_id is not None:
        thread_of(slug, thread_id)
        title = None
        action = url_for("groups.reply", slug=slug, thread_id=thread_id)
        back = url_for("groups.thread", slug=slug, thread_id=thread_id)
    else:
        member = membership(get_session(), current_user, get_group(get_session(), slug))
        if member is None or member.status != "active":
            abort(404)
        title = request.form.get("title", "")[:400]
        action = url_for("groups.start_thread", slug=slug)
        back = url_for("groups.show", slug=slug)
    try:
        told = contact.ask(get_session(), current_user, "groups")
    except contact.ContactError as error:
        return _safety_page(action, title, body, key, back, status=422, error=error.message)
    return _safety_page(action, title, body, key, back, told=told)


def thread_page(
    slug: str, thread_id: int, page: int, status: int = 200, **context: object
) -> Response:
    """Render a page of a thread. A plain visit is kept per worker, keyed by the thread's
    version, the reader's place in the group and in the thread, and what they are waiting
    for (slow mode, a pause, the window for changing their newest post)."""
    db = get_session()
    found, reading = threads.get_thread_for_reading(db, current_user, thread_id)
    thread, group, member = found
    if group.slug != slug:
        abort(404)
    context.setdefault("error", "")
    context.setdefault("typed", "")
    wait = _wait(group, member, thread, slow_mode=False)
    slow_wait = _wait(group, member, thread, slow_mode=True)
    now = utcnow()
    pinned = thread.pinned and (thread.pinned_until is None or thread.pinned_until > now)

    def everything() -> dict[str, object]:
        view = threads.read_page(db, current_user, thread_id, page, found)
        return dict(
            view=view,
            group=view.group,
            thread=view.thread,
            supporter=is_supporter(view.member),
            hidden_actions=_hidden_actions(view),
            wait=wait,
            slow_wait=slow_wait,
            pinned=pinned,
            can_edit=threads.can_edit,
            **context,
        )

    if status == 200 and plain_visit():
        since_posting = (
            (now - member.last_posted_at) // dt.timedelta(minutes=1)
            if member.last_posted_at is not None
            else None
        )
        window = threads.EDIT_WINDOW // dt.timedelta(minutes=1)
        key = (
            thread.id,
            page,
            thread.version,
            group.name,
            group.slow_mode_minutes,
            member.role,
            wait,
            slow_wait,
            pinned,
            reading,
            # "Change" shows on one's posts for a while after posting: the page is drawn
            # again each minute of that while, counted from their newest post.
            since_posting if since_posting is not None and since_posting <= window else None,
        )
        return kept_page(key, "groups/thread.html", everything)
    context.setdefault("key", secrets.token_urlsafe(16))
    return render("groups/thread.html", status=status, **everything())


def _hidden_actions(view: threads.ThreadPage) -> dict[int, int]:
    """Map each of the reader's hidden posts to its log entry, for asking a second look."""
    found = {}
    for item in view.posts:
        if item.mine and item.post.status == "hidden":
            entry = moderation.hidden_action(get_session(), item.post)
            if entry is not None:
                found[item.post.id] = entry.id
    return found


def _wait(group: PeerGroup, member: Membership, thread: Thread, slow_mode: bool) -> str:
    """Why the reader cannot reply now, and until when (empty when they can). In slow mode
    the form stays, so a reply can be written meanwhile."""
    try:
        threads.check_may_post(group, member, thread, slow_mode)
    except GroupError as error:
        return error.message
    return ""


@bp.get("/<slug>/threads/<int:thread_id>")
@login_required
def thread(slug: str, thread_id: int) -> Response:
    """Read a thread, a page at a time; the last page shows new replies as they come."""
    return thread_page(slug, thread_id, requested_page())


@bp.get("/<slug>/threads/<int:thread_id>/unread")
@login_required
def first_unread(slug: str, thread_id: int) -> Response:
    """Go to the first post the reader has not read (or the end, if they have read it all)."""
    thread_of(slug, thread_id)
    page, post_id = threads.first_unread(get_session(), current_user, thread_id)
    anchor = f"post-{post_id}" if post_id else "reply"
    return redirect(
        url_for("groups.thread", slug=slug, thread_id=thread_id, page=page) + "#" + anchor
    )


@bp.get("/<slug>/threads/<int:thread_id>/since")
@login_required
def since(slug: str, thread_id: int) -> Response:
    """Answer the page's polling with replies newer than the one it shows last (204 if none)."""
    thread, group, member = where = thread_of(slug, thread_id)
    after = request.args.get("after", 0, type=int) or 0
    found = threads.since(get_session(), current_user, thread_id, after, where)
    if not found:
        return Response(status=204)
    return render(
        "groups/_since.html",
        posts=found,
        group=group,
        thread=thread,
        supporter=is_supporter(member),
        last_id=max(item.post.id or 0 for item in found),
        can_edit=threads.can_edit,
        hidden_actions={},
    )


@bp.get("/<slug>/posts/<int:post_id>")
@login_required
def post(slug: str, post_id: int) -> Response:
    """Go to a post in its thread (notifications link here)."""
    found = post_of(slug, post_id)
    page = threads.page_of(get_session(), current_user, found)
    return redirect(
        url_for("groups.thread", slug=slug, thread_id=found.thread_id, page=page)
        + f"#post-{found.id}"
    )


@bp.post("/<slug>/threads/<int:thread_id>/reply")
@login_required
def reply(slug: str, thread_id: int) -> Response:
    """Reply in a thread; a double submit posts once; crisis words bring the safety step."""
    thread_of(slug, thread_id)
    body = request.form.get("body", "")[:20_000]
    key = request.form.get("key", "")[:64]
    if _needs_safety_step(body):
        return _safety_page(
            url_for("groups.reply", slug=slug, thread_id=thread_id),
            None,
            body,
            key,
            url_for("groups.thread", slug=slug, thread_id=thread_id),
        )
    try:
        made = threads.reply(get_session(), current_user, thread_id, body, key)
    except GroupError as error:
        return thread_page(
            slug, thread_id, 10_000, status=422, error=error.message, typed=body, key=key
        )
    _posted_message(made)
    return hx_redirect(url_for("groups.post", slug=slug, post_id=made.id))


def _posted_message(made: Post) -> None:
    if made.status == "held":
        flash(_("Thank you. A peer supporter will read it before it goes up."), "success")
    else:
        flash(_("Posted."), "success")


@bp.get("/<slug>/threads/new")
@login_required
def new_thread(slug: str) -> Response:
    """Show the form to start a conversation in a group."""
    group = get_group(get_session(), slug)
    member = membership(get_session(), current_user, group)
    if member is None or member.status != "active":
        abort(404)
    return render(
        "groups/new_thread.html",
        group=group,
        errors={},
        title="",
        body="",
        key=secrets.token_urlsafe(16),
    )


@bp.post("/<slug>/threads")
@login_required
def start_thread(slug: str) -> Response:
    """Start a conversation with its first post."""
    group = get_group(get_session(), slug)
    title = request.form.get("title", "")[:400]
    body = request.form.get("body", "")[:20_000]
    key = request.form.get("key", "")[:64]
    member = membership(get_session(), current_user, group)
    if member is None or member.status != "active":
        abort(404)
    if _needs_safety_step(title, body):
        return _safety_page(
            url_for("groups.start_thread", slug=slug),
            title,
            body,
            key,
            url_for("groups.show", slug=slug),
        )
    try:
        made = threads.start_thread(get_session(), current_user, slug, title, body, key)
    except GroupError as error:
        return render(
            "groups/new_thread.html",
            status=422,
            group=group,
            errors={error.field or "body": error.message},
            title=title,
            body=body,
            key=key,
        )
    _posted_message(made)
    return hx_redirect(url_for("groups.thread", slug=slug, thread_id=made.thread_id))


def _edit_page(post: Post, slug: str, status: int = 200, **context: object) -> Response:
    context.setdefault("error", "")
    context.setdefault("typed", post.body)
    return render(
        "groups/edit_post.html",
        status=status,
        post=post,
        group=get_group(get_session(), slug),
        **context,
    )


@bp.get("/<slug>/posts/<int:post_id>/edit")
@login_required
def edit_post(slug: str, post_id: int) -> Response:
    """Show the form to change one's own post (within the window after posting)."""
    post = post_of(slug, post_id)
    if post.author_id != current_user.id:
        abort(404)
    return _edit_page(post, slug)


@bp.post("/<slug>/posts/<int:post_id>/edit")
@login_required
def save_post(slug: str, post_id: int) -> Response:
    """Save a changed post; it is marked as edited."""
    post = post_of(slug, post_id)
    if post.author_id != current_user.id:
        abort(404)
    body = request.form.get("body", "")[:20_000]
    try:
        threads.edit_post(
            get_session(),
            current_user,
            post_id,
            body,
            request.form.get("version", 0, type=int) or 0,
        )
    except GroupError as error:
        get_session().refresh(post)
        return _edit_page(post, slug, status=422, error=error.message, typed=body)
    flash(_("Changed. It shows as edited."), "success")
    return hx_redirect(url_for("groups.post", slug=slug, post_id=post_id))


@bp.post("/<slug>/posts/<int:post_id>/thanks")
@login_required
def thanks(slug: str, post_id: int) -> Response:
    """Say thank you for a post, or take it back."""
    post = post_of(slug, post_id)
    thanked = request.form.get("thanked") == "yes"
    threads.thank(get_session(), current_user, post_id, thanked)
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        return render("groups/_thanks.html", post=post, thanked=thanked, group_slug=slug)
    return redirect(url_for("groups.post", slug=slug, post_id=post_id), 303)


@bp.post("/<slug>/threads/<int:thread_id>/mute")
@login_required
def mute_thread(slug: str, thread_id: int) -> Response:
    """Stop or restart notifications of one thread."""
    thread_of(slug, thread_id)
    muted = request.form.get("muted") == "yes"
    threads.mute_thread(get_session(), current_user, thread_id, muted)
    flash(
        _("You will not be told about new replies here.")
        if muted
        else _("You will be told about new replies here again."),
        "success",
    )
    return hx_redirect(url_for("groups.thread", slug=slug, thread_id=thread_id))


def _report_page(post: Post, slug: str, status: int = 200, **context: object) -> Response:
    context.setdefault("errors", {})
    context.setdefault("reason", "")
    context.setdefault("note", "")
    return render(
        "groups/report.html",
        status=status,
        post=post,
        group=get_group(get_session(), slug),
        reasons=moderation.REPORT_REASONS,
        **context,
    )


@bp.get("/<slug>/posts/<int:post_id>/report")
@login_required
def report_form(slug: str, post_id: int) -> Response:
    """Show the form to report a post to the group's peer supporters."""
    post = post_of(slug, post_id)
    if post.status == "held" and post.author_id != current_user.id:
        abort(404)
    return _report_page(post, slug)


@bp.post("/<slug>/posts/<int:post_id>/report")
@login_required
def report(slug: str, post_id: int) -> Response:
    """Report a post; it keeps a copy of the post as it is now."""
    post = post_of(slug, post_id)
    reason = request.form.get("reason", "")[:40]
    note = request.form.get("note", "")[:2000]
    try:
        words = moderation.report(get_session(), current_user, post_id, reason, note)
    except GroupError as error:
        return _report_page(
            post,
            slug,
            status=422,
            errors={error.field or "reason": error.message},
            reason=reason,
            note=note,
        )
    flash(words, "success")
    return hx_redirect(url_for("groups.post", slug=slug, post_id=post_id))
