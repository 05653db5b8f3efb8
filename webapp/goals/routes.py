"""Goal pages: my goals, one goal with its actions and history; plain forms (htmx-boosted)."""

from __future__ import annotations

import datetime as dt
import secrets

from flask import Blueprint, Response, flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.db import get_session, utcnow
from webapp.formatting import local_date, weekday_names
from webapp.goals import reminders
from webapp.goals import services as goals
from webapp.goals.progress import goal_progress, progress_chart
from webapp.goals.services import GoalConflict, GoalError
from webapp.htmx import hx_redirect, render
from webapp.kept import kept_page, plain_visit

bp = Blueprint("goals", __name__, url_prefix="/goals")

# Goal pages may be kept on the person's phone for offline use (emptied at sign-out).
OFFLINE_HEADER = "X-Keep-Offline"
FIELDS = ("text", "why", "if_then", "importance", "confidence", "target_date")
ACTION_FIELDS = ("text", "owner", "who", "when")


def _form(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "")[:5000] for name in names}


def _list_page(status: int = 200, **context: object) -> Response:
    """Render the goal list; a plain visit is kept per worker until a goal changes."""
    context.setdefault("problems", {})
    context.setdefault("typed", {})
    db = get_session()

    def everything() -> dict[str, object]:
        return dict(
            goals=goals.my_goals(db, current_user, current_user.record_id),
            owners=owner_names(),
            **context,
        )

    if status == 200 and plain_visit():
        key = (current_user.record_id, goals.goals_stamp(db, current_user.record_id))
        return kept_page(key, "goals/index.html", everything)
    return render("goals/index.html", status=status, **everything())


@bp.get("")
@login_required
def index() -> Response:
    """List the person's goals, open ones first, with a form to add one."""
    return _list_page()


@bp.post("")
@login_required
def create() -> Response:
    """Add a goal in the person's own words."""
    form = _form(FIELDS)
    try:
        goal = goals.create_goal(get_session(), current_user, current_user.record_id, form)
    except GoalError as error:
        return _list_page(status=422, problems=error.problems, typed=form)
    if current_user.acting is not None:
        flash(
            _(
                "The goal is saved for %(name)s. It is a draft until they agree it with their "
                "care team.",
                name=current_user.acting.person_name,
            )
        )
    else:
        flash(_("Your goal is saved. It is a draft until you agree it with your care team."))
    return hx_redirect(url_for("goals.show", goal_id=goal.id))


def _goal_page(goal_id: int, status: int = 200, **context: object) -> Response:
    """Render one goal's page. A plain visit is kept per worker, keyed by the goal's version
    and the newest change, entry and reminder (and the day: the weeks shown move on)."""
    db = get_session()
    goal, stamp = goals.goal_with_stamp(db, current_user, goal_id)
    context.setdefault("problems", {})
    context.setdefault("typed", {})
    context.setdefault("action_problems", {})
    context.setdefault("action_typed", {})
    context.setdefault("conflict", None)
    context.setdefault("progress_problems", {})
    context.setdefault("progress_typed", {})
    context.setdefault("reminder_problems", {})
    context.setdefault("reminder_typed", None)

    def everything() -> dict[str, object]:
        summary = goal_progress(db, current_user, goal_id)
        entries = goals.progress(db, current_user, goal_id, limit=10)
        return dict(
            goal=goal,
            entries=entries,
            logged_by=goals.attributions(
                db, current_user, goal.patient_id, {e.typed_by_id for e in entries}
            ),
            progress=summary,
            reminder=reminders.reminder_for(db, current_user, goal_id),
            weekdays=weekday_names(),
            chart=progress_chart(summary, f"progress-{goal_id}", _("Entries per week")),
            outcomes=outcome_names(),
            actions=goals.actions(db, current_user, goal_id),
            history=goals.history(db, current_user, goal_id)[:20],
            owners=owner_names(),
            statuses=status_names(),
            **context,
        )

    if status == 200 and plain_visit():
        key = (goal.id, stamp, local_date(utcnow()))
        response = kept_page(key, "goals/show.html", everything)
    else:
        response = render(
            "goals/show.html", status=status, key=secrets.token_urlsafe(12), **everything()
        )
    # Kept on the phone for offline reading, but not someone else's record on a carer's phone.
    if status == 200 and current_user.acting is None:
        response.headers[OFFLINE_HEADER] = "personal"
    return response


@bp.get("/<int:goal_id>")
@login_required
def show(goal_id: int) -> Response:
    """Show one goal: the person's words, its actions, and what changed."""
    return _goal_page(goal_id)


def _version() -> int:
    return request.form.get("version", 0, type=int) or 0


@bp.post("/<int:goal_id>/edit")
@login_required
def edit(goal_id: int) -> Response:
    """Change a goal, unless someone else changed it meanwhile (then show both)."""
    form = _form(FIELDS)
    try:
        goals.update_goal(get_session(), current_user, goal_id, form, _version())
    except GoalConflict as conflict:
        return _goal_page(
            goal_id,
            status=409,
            problems=conflict.problems,
            typed=form,
            conflict=conflict,
        )
    except GoalError as error:
        return _goal_page(goal_id, status=422, problems=error.problems, typed=form)
    if current_user.acting is not None:
        flash(
            _(
                "Saved. %(name)s's care team will see the new words once %(name)s shares the "
                "goal again.",
                name=current_user.acting.person_name,
            )
        )
        still = goals.get_goal_or_none(get_session(), current_user, goal_id)
        return hx_redirect(
            url_for("goals.show", goal_id=goal_id) if still else url_for("goals.index")
        )
    flash(_("Saved."))
    return hx_redirect(url_for("goals.show", goal_id=goal_id))


@bp.post("/<int:goal_id>/status")
@login_required
def set_status(goal_id: int) -> Response:
    """Mark a goal achieved, changed, stopped, or a draft again."""
    try:
        goals.set_status(
            get_session(), current_user, goal_id, request.form.get("status", "")[:20], _version()
        )
    except GoalError as error:
        return _goal_page(goal_id, status=422, problems=error.problems)
    flash(_("Saved."))
    return hx_redirect(url_for("goals.show", goal_id=goal_id))


@bp.post("/<int:goal_id>/move")
@login_required
def move(goal_id: int) -> Response:
    """Move a goal up or down the list."""
    direction = "up" if request.form.get("direction") == "up" else "down"
    goals.move_goal(get_session(), current_user, goal_id, direction)
    return hx_redirect(url_for("goals.index"))


@bp.post("/<int:goal_id>/actions")
@login_required
def add_action(goal_id: int) -> Response:
    """Add an action under the goal."""
    form = _form(ACTION_FIELDS)
    try:
        goals.add_action(get_session(), current_user, goal_id, form)
    except GoalError as error:
        return _goal_page(goal_id, status=422, action_problems=error.problems, action_typed=form)
    flash(_("Action added."))
    return hx_redirect(url_for("goals.show", goal_id=goal_id))


@bp.post("/<int:goal_id>/progress")
@login_required
def log_progress(goal_id: int) -> Response:
    """Record how it went: did it, partly, or not this time (once per form key)."""
    form = _form(("outcome", "note", "measure", "value"))
    queued = request.headers.get("X-Outbox") == "1"
    try:
        entry, new = goals.log_progress(
            get_session(),
            current_user,
            goal_id,
            form,
            request.form.get("key", ""),
            _moment(request.form.get("logged_at", "")),
        )
    except GoalError as error:
        if queued:
            return jsonify(problems=error.problems), 422
        return _goal_page(
            goal_id, status=422, progress_problems=error.problems, progress_typed=form
        )
    if queued:  # sent by the page script from its queue of entries made offline
        return jsonify(logged=new, after_goal_ended=entry.after_goal_ended)
    said = _("Thank you. It is logged.") if new else _("That was logged already.")
    if request.form.get("back") == "home":
        # Back where the person was: the home page says it beside this goal, which the
        # address scrolls to (and the page script moves focus to). The query makes it a new
        # page load, even from the home page itself (a change of #anchor alone loads nothing).
        # Each time a new address, so a second tap on the same goal loads the page again.
        flash(said, f"logged-{goal_id}")
        here = url_for("main.index", logged=secrets.token_urlsafe(6), _anchor=f"logged-{goal_id}")
        return hx_redirect(here)
    flash(said)
    return hx_redirect(url_for("goals.show", goal_id=goal_id))


def _moment(raw: str) -> dt.datetime | None:
    """Read the time a phone says an entry was logged (ISO 8601), or None."""
    try:
        return dt.datetime.fromisoformat(raw.strip()[:40].replace("Z", "+00:00"))
    except ValueError:
        return None


@bp.post("/<int:goal_id>/reminder")
@login_required
def reminder(goal_id: int) -> Response:
    """Choose reminders for the goal (days and a time), or none."""
    db = get_session()
    days = [d[:1] for d in request.form.getlist("days")[:7]]
    at = request.form.get("at", "")[:10]
    try:
        if request.form.get("none") == "1":
            reminders.clear_reminder(db, current_user, goal_id)
            flash(_("No reminders for this goal."))
            return hx_redirect(url_for("goals.show", goal_id=goal_id))
        reminders.set_reminder(db, current_user, goal_id, days, at)
    except GoalError as error:
        return _goal_page(
            goal_id,
            status=422,
            reminder_problems=error.problems,
            reminder_typed={"days": days, "at": at},
        )
    flash(_("Reminders saved."))
    return hx_redirect(url_for("goals.show", goal_id=goal_id))


@bp.post("/actions/<int:action_id>/done")
@login_required
def action_done(action_id: int) -> Response:
    """Tick an action off, or untick it."""
    action = goals.set_action_done(
        get_session(), current_user, action_id, request.form.get("done") == "1"
    )
    return hx_redirect(url_for("goals.show", goal_id=action.goal_id))


@bp.post("/actions/<int:action_id>/remove")
@login_required
def remove_action(action_id: int) -> Response:
    """Remove an action."""
    db = get_session()
    goal_id = goals.action_goal_id(db, current_user, action_id)
    goals.remove_action(db, current_user, action_id)
    flash(_("Action removed."))
    return hx_redirect(url_for("goals.show", goal_id=goal_id))


def outcome_names() -> dict[str, str]:
    """Name each way it went, kindly."""
    return {"did": _("Did it"), "partly": _("Partly"), "not_this_time": _("Not this time")}


def owner_names() -> dict[str, str]:
    """Name whose an action is, in plain words."""
    return {
        "me": _("Me"),
        "care_team": _("My care team"),
        "carer": _("A carer"),
        "community": _("The community (a group, the time bank, a local service)"),
    }


def status_names() -> dict[str, str]:
    """Name each goal status in plain words."""
    return {
        "draft": _("Draft"),
        "agreed": _("Agreed"),
        "achieved": _("Achieved"),
        "changed": _("Changed"),
        "stopped": _("Stopped"),
    }
