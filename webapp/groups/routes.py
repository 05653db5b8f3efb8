"""Group pages: the directory, one group with its pinned guidelines, joining and leaving,
the display name people take part under, and peer supporters answering requests to join."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.content import get_content
from webapp.db import get_session, utcnow
from webapp.groups import services
from webapp.groups.services import GroupError
from webapp.htmx import hx_redirect, render, requested_page
from webapp.kept import kept_page, plain_visit

bp = Blueprint("groups", __name__, url_prefix="/groups")


@bp.before_request
def _never_while_acting() -> None:
    """A carer acting for someone never sees that person's groups, nor their own meanwhile."""
    if current_user.is_authenticated and current_user.acting is not None:
        abort(404)


def _actor() -> object | None:
    return current_user if current_user.is_authenticated else None


@bp.get("")
def index() -> Response:
    """List the groups (their names and what they are for are public), searchable."""
    query = request.args.get("q", "")[:80]
    page = requested_page()
    db = get_session()

    def everything() -> dict[str, object]:
        groups, more = services.directory(db, _actor(), query, page)  # type: ignore[arg-type]
        return dict(groups=groups, more=more, page=page, query=query)

    if current_user.is_authenticated and plain_visit():
        # Kept per worker for a minute (others' joining shows in the counts by then), and
        # at once when the viewer's own memberships change.
        minute = utcnow().strftime("%Y%m%d%H%M")
        key = (query, page, minute, services.directory_stamp(db, current_user))
        return kept_page(key, "groups/index.html", everything)
    return render("groups/index.html", **everything())


def _group_page(slug: str, status: int = 200, **context: object) -> Response:
    db = get_session()
    group = services.get_group(db, slug)
    member = services.membership(db, _actor(), group)  # type: ignore[arg-type]
    spec = get_content().groups.get(slug)
    context.setdefault("error", "")
    page = requested_page()
    listed: list = []
    more, waiting_count, paused = False, 0, ""
    if member is not None and member.status == "active":
        from webapp.groups import moderation, threads

        listed, more = threads.list_threads(db, current_user, group, page)
        if services.is_supporter(member):
            waiting_count = moderation.queue_count(db, group)
        try:
            threads.check_may_post(group, member, None)
        except GroupError as error:
            paused = error.message
    return render(
        "groups/show.html",
        status=status,
        group=group,
        member=member,
        guidelines=spec.guidelines_html if spec else "",
        supporter=services.is_supporter(member),
        admin=member is not None and member.status == "active" and member.role == "admin",
        threads=listed,
        more=more,
        page=page,
        waiting_count=waiting_count,
        paused=paused,
        has_name=current_user.is_authenticated and services.profile(db, current_user) is not None,
        **context,
    )


@bp.get("/<slug>")
def show(slug: str) -> Response:
    """Show a group: what it is for, its guidelines, and how to join."""
    return _group_page(slug)


@bp.post("/<slug>/join")
@login_required
def join(slug: str) -> Response:
    """Join an open group, ask to join an approval group, or accept an invitation."""
    try:
        member = services.join(get_session(), current_user, slug)
    except GroupError as error:
        if error.field == "display_name":
            flash(error.message, "error")
            return hx_redirect(url_for("groups.profile", next=slug))
        return _group_page(slug, status=422, error=error.message)
    if member.status == "pending":
        flash(_("Thank you. A peer supporter will look at your request soon."), "success")
    else:
        flash(_("Welcome to the group."), "success")
    return hx_redirect(url_for("groups.show", slug=slug))


@bp.post("/<slug>/leave")
@login_required
def leave(slug: str) -> Response:
    """Leave a group, or withdraw a request to join."""
    services.leave(get_session(), current_user, slug)
    flash(_("You have left the group. What you wrote stays in its conversations."), "success")
    return hx_redirect(url_for("groups.show", slug=slug))


def _profile_page(status: int = 200, **context: object) -> Response:
    found = services.profile(get_session(), current_user)
    context.setdefault("error", "")
    context.setdefault("typed", found.display_name if found else "")
    return render("groups/profile.html", status=status, found=found, **context)


@bp.get("/profile")
@login_required
def profile() -> Response:
    """Show the form for the display name the person takes part under."""
    return _profile_page()


@bp.post("/profile")
@login_required
def save_profile() -> Response:
    """Choose or change the display name."""
    typed = request.form.get("display_name", "")[:200]
    try:
        services.set_display_name(
            get_session(), current_user, typed, request.form.get("push_replies") == "yes"
        )
    except GroupError as error:
        return _profile_page(status=422, error=error.message, typed=typed)
    flash(_("Saved. This is the name others see in groups."), "success")
    then = request.args.get("next", "")
    if then and get_content().groups.get(then):
        return hx_redirect(url_for("groups.show", slug=then))
    return hx_redirect(url_for("groups.index"))


def _requests_page(slug: str, status: int = 200, **context: object) -> Response:
    db = get_session()
    group = services.get_group(db, slug)
    context.setdefault("error", "")
    context.setdefault("problem_id", None)
    return render(
        "groups/requests.html",
        status=status,
        group=group,
        waiting=services.waiting(db, current_user, slug),
        **context,
    )


@bp.get("/<slug>/requests")
@login_required
def requests(slug: str) -> Response:
    """Show the people waiting to join, oldest first (the group's peer supporters)."""
    return _requests_page(slug)


@bp.post("/<slug>/requests/<int:member_id>")
@login_required
def decide(slug: str, member_id: int) -> Response:
    """Approve or decline a request to join."""
    approve = request.form.get("decision") == "approve"
    try:
        services.decide(
            get_session(),
            current_user,
            slug,
            member_id,
            approve,
            request.form.get("version", 0, type=int) or 0,
            request.form.get("reason", "")[:1000],
        )
    except GroupError as error:
        return _requests_page(slug, status=422, error=error.message, problem_id=member_id)
    flash(_("Welcomed to the group.") if approve else _("Declined, with your reason."), "success")
    return hx_redirect(url_for("groups.requests", slug=slug))


# The conversation and moderation pages add their routes to this blueprint.
from webapp.groups import conversation, moderating  # noqa: E402, F401
