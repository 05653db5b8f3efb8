"""The agreed plan: the person's current plan (offline, print, FHIR), and the clinician's side
of agreeing it at the review."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.access import can, sees_goal
from webapp.accounts.models import Person
from webapp.db import get_session
from webapp.goals import cycle, lookback
from webapp.goals import plan as plans
from webapp.goals import services as goals
from webapp.goals.fhir import careplan_bundle
from webapp.goals.routes import OFFLINE_HEADER, owner_names, status_names
from webapp.goals.services import GoalError
from webapp.htmx import hx_redirect, is_htmx, render
from webapp.kept import kept_page, plain_visit
from webapp.reviews import services as reviews

bp = Blueprint("plan", __name__)


def _version() -> int:
    return request.form.get("version", 0, type=int) or 0


def _plan_page(template: str, status: int = 200, **context: object) -> Response:
    """Render the plan (or its print view); a plain visit is kept until the plan changes."""
    db = get_session()
    context.setdefault("problems", {})
    context.setdefault("typed", {})
    review = reviews.next_review(db, current_user, current_user.record_id)

    def everything() -> dict[str, object]:
        return dict(
            current=plans.current_plan(db, current_user, current_user.record_id),
            coming=plans.coming_plan(db, current_user, current_user.record_id),
            review=review,
            owners=owner_names(),
            statuses=status_names(),
            **context,
        )

    if status == 200 and plain_visit():
        coming = (review.id, review.scheduled_at) if review else None
        key = (
            current_user.record_id,
            coming,
            goals.goals_stamp(db, current_user.record_id),
            # Which goals show changes as reviews fall behind the person, or are moved.
            cycle.plan_stamp(db, current_user.record_id),
        )
        response = kept_page(key, template, everything)
    else:
        response = render(template, status=status, **everything())
    # Kept on the phone for offline reading, but not someone else's record on a carer's phone.
    if status == 200 and current_user.acting is None:
        response.headers[OFFLINE_HEADER] = "personal"
    return response


@bp.get("/plan")
@login_required
def mine() -> Response:
    """Show the person's current agreed plan, and shared goals waiting to be agreed."""
    return _plan_page("plan/mine.html")


@bp.get("/plan/print")
@login_required
def printable() -> Response:
    """Show the current plan on its own, laid out for paper."""
    return _plan_page("plan/print.html")


@bp.get("/plan/careplan.json")
@login_required
def fhir() -> Response:
    """Download the current agreed plan as a FHIR R4 Bundle (CarePlan with its Goals)."""
    db = get_session()
    current = plans.current_plan(db, current_user, current_user.record_id)
    if current.plan is None:
        abort(404)
    person = db.get(Person, current_user.record_id)
    # Earlier plans name only goals this reader may see (a carer: none the person kept private).
    earlier = [
        stage
        for stage in cycle.history(db, current_user.record_id)
        if stage.plan.id != current.plan.id
    ]
    for stage in earlier:
        stage.goals = [g for g in stage.goals if sees_goal(current_user, g)]
    bundle = careplan_bundle(
        current, current_user.record_id, person.nhs_number if person else None, earlier
    )
    return Response(
        json.dumps(bundle, indent=2, ensure_ascii=False),
        mimetype="application/fhir+json",
        headers={
            "Content-Disposition": 'attachment; filename="my-care-plan.json"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.post("/plan/goals/<int:goal_id>/agree")
@login_required
def agree(goal_id: int) -> Response:
    """Agree a shared goal from the person's side (or take the agreement back)."""
    agreed = request.form.get("agreed", "1") == "1"
    try:
        goal = plans.agree(get_session(), current_user, goal_id, "person", agreed, _version())
    except GoalError as error:
        return _plan_page("plan/mine.html", status=422, problems=error.problems)
    if goal.status == "agreed":
        flash(_("Agreed. This goal is now part of your plan."), "success")
    elif agreed:
        flash(_("You agreed this goal. It joins your plan when your clinician agrees it too."))
    else:
        flash(_("Your agreement is taken back. The goal is a draft again."))
    return hx_redirect(url_for("plan.mine"))


def scale_names() -> dict[int, str]:
    """Name each point of the goal attainment scale in plain words."""
    return {
        -2: _("Much less than I expected"),
        -1: _("A bit less than I expected"),
        0: _("About what I expected"),
        1: _("A bit more than I expected"),
        2: _("Much more than I expected"),
    }


def _look_back_page(status: int = 200, **context: object) -> Response:
    context.setdefault("problems", {})
    context.setdefault("problem_goal", None)
    context.setdefault("typed", {})
    db = get_session()
    found = lookback.mine(db, current_user, current_user.record_id)
    return render(
        "plan/look_back.html",
        status=status,
        found=found,
        # The review the goals are looked back on for (not the next one with no agreed plan).
        review=found.reviews[0] if found.reviews else None,
        scale=scale_names(),
        statuses=status_names(),
        **context,
    )


@bp.get("/plan/look-back")
@login_required
def look_back() -> Response:
    """Look back at each goal of the agreed plan before the next review."""
    return _look_back_page()


@bp.post("/plan/goals/<int:goal_id>/score")
@login_required
def score(goal_id: int) -> Response:
    """Score one agreed goal from the person's side, with their own comment."""
    form = {name: request.form.get(name, "")[:5000] for name in ("score", "comment")}
    try:
        lookback.score(
            get_session(), current_user, goal_id, "person", form["score"], form["comment"]
        )
    except GoalError as error:
        return _look_back_page(
            status=422, problems=error.problems, problem_goal=goal_id, typed=form
        )
    flash(_("Saved. Your care team sees it at your review."), "success")
    return hx_redirect(url_for("plan.look_back") + ("" if is_htmx() else f"#goal-{goal_id}"))


@bp.post("/plan/note")
@login_required
def person_note() -> Response:
    """Keep the person's own note on the plan for their coming review."""
    words = request.form.get("person_note", "")[:5000]
    try:
        plans.set_person_note(get_session(), current_user, current_user.record_id, words)
    except GoalError as error:
        return _plan_page(
            "plan/mine.html", status=422, problems=error.problems, typed={"person_note": words}
        )
    flash(_("Your note is saved. Your care team reads it with your shared goals."), "success")
    return hx_redirect(url_for("plan.mine"))


# --- the clinician's side -------------------------------------------------------------------


def _review_page(review_id: int, status: int = 200, **context: object) -> Response:
    context.setdefault("problems", {})
    context.setdefault("typed", {})
    context.setdefault("problem_goal", None)
    found = plans.review_plan(
        get_session(), current_user, review_id, record=request.method == "GET"
    )
    return render(
        "plan/review.html",
        status=status,
        found=found,
        earlier=lookback.before_review(get_session(), current_user, found.review),
        scale=scale_names(),
        can_agree=can(current_user, "plan.agree", found.review.practice_id),
        owners=owner_names(),
        statuses=status_names(),
        **context,
    )


@bp.get("/reviews/<int:review_id>/plan")
@login_required
def review(review_id: int) -> Response:
    """Show the clinician the goals shared for a review, to agree the plan together."""
    return _review_page(review_id)


@bp.post("/reviews/<int:review_id>/plan/note")
@login_required
def note(review_id: int) -> Response:
    """Keep the clinician's note on the plan."""
    words = request.form.get("note", "")[:5000]
    try:
        plans.set_note(get_session(), current_user, review_id, words)
    except GoalError as error:
        return _review_page(review_id, status=422, problems=error.problems, typed={"note": words})
    flash(_("Note saved."), "success")
    return hx_redirect(url_for("plan.review", review_id=review_id))


@bp.post("/reviews/plan/goals/<int:goal_id>/agree")
@login_required
def clinician_agree(goal_id: int) -> Response:
    """Agree a shared goal from the clinician's side (or take the agreement back)."""
    db = get_session()
    agreed = request.form.get("agreed", "1") == "1"
    try:
        goal = plans.agree(db, current_user, goal_id, "clinician", agreed, _version())
    except GoalError as error:
        review_id = plans.staff_goal_review_id(db, current_user, goal_id)
        return _review_page(review_id, status=422, problems=error.problems, problem_goal=goal_id)
    if goal.status == "agreed":
        flash(_("Agreed by you both. The goal is part of the plan."), "success")
    elif agreed:
        flash(_("You agreed this goal. It joins the plan when the person agrees it too."))
    else:
        flash(_("Your agreement is taken back."))
    assert goal.review_id is not None
    return hx_redirect(url_for("plan.review", review_id=goal.review_id))


@bp.post("/reviews/plan/goals/<int:goal_id>/actions")
@login_required
def care_team_action(goal_id: int) -> Response:
    """Add one of the care team's own steps under a shared goal."""
    db = get_session()
    form = {name: request.form.get(name, "")[:5000] for name in ("text", "who", "when")}
    # A goal carried over is added to from the later review's page: back to that page.
    review_id = plans.staff_review_for(
        db, current_user, goal_id, request.form.get("review", 0, type=int) or 0
    )
    try:
        plans.add_care_team_action(db, current_user, goal_id, form)
    except GoalError as error:
        return _review_page(
            review_id, status=422, problems=error.problems, typed=form, problem_goal=goal_id
        )
    flash(_("Care team action added."), "success")
    return hx_redirect(url_for("plan.review", review_id=review_id))


@bp.post("/reviews/plan/goals/<int:goal_id>/score")
@login_required
def clinician_score(goal_id: int) -> Response:
    """Score one goal of the last plan from the clinician's side (after the person)."""
    db = get_session()
    form = {name: request.form.get(name, "")[:5000] for name in ("score", "comment", "review")}
    review_id = request.form.get("review", 0, type=int) or 0  # bounded: see webapp/inputs.py
    try:
        given = lookback.score(
            db, current_user, goal_id, "clinician", form["score"], form["comment"], review_id
        )
    except GoalError as error:
        return _review_page(
            review_id or plans.staff_goal_review_id(db, current_user, goal_id),
            status=422,
            problems=error.problems,
            problem_goal=goal_id,
            typed=form,
        )
    flash(_("Your look back is saved."), "success")
    # Back to the review the look back is for, where it shows.
    back_to = (
        review_id or given.for_review_id or plans.staff_goal_review_id(db, current_user, goal_id)
    )
    return hx_redirect(url_for("plan.review", review_id=back_to))
