"""Review pages: staff plan and reschedule reviews; a person adds theirs to a calendar."""

from __future__ import annotations

from flask import Blueprint, Response, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.access import require
from webapp.accounts import services as accounts
from webapp.accounts.models import Practice
from webapp.contact import services as contact
from webapp.db import get_session
from webapp.htmx import hx_redirect, render, requested_page
from webapp.kept import kept_page, plain_visit
from webapp.reviews import services
from webapp.reviews.services import ReviewError

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


def status_names() -> dict[str, str]:
    """Name each step of the review cycle in plain words."""
    return {
        "planned": _("Planned"),
        "results_released": _("Results sent"),
        "prepared": _("Prepared"),
        "held": _("Held"),
        "plan_agreed": _("Plan agreed"),
    }


@bp.get("/practices/<int:practice_id>")
@login_required
def index(practice_id: int) -> Response:
    """List the practice's coming reviews, and find a patient to plan one for."""
    db = get_session()
    # The practice's name comes with the signed-in actor (no query); the rule is checked as
    # get_practice would.
    require(current_user, "practice.view", practice_id)
    name = dict(current_user.practice_names).get(practice_id)
    practice = (
        Practice(id=practice_id, name=name)
        if name is not None
        else accounts.get_practice(db, current_user, practice_id)
    )
    page = requested_page()
    query = request.args.get("q", "")[:100]
    reviews, has_more = services.list_reviews(db, current_user, practice_id, page, query=query)
    patients = services.search_patients(db, current_user, practice_id, query)
    # Asked to be contacted: first on the page staff open first; names only, no words.
    waiting = contact.worklist(db, current_user, practice_id)
    context = dict(
        waiting=waiting,
        practice=practice,
        reviews=reviews,
        page=page,
        has_more=has_more,
        query=query,
        patients=patients,
        status_names=status_names(),
    )
    if not plain_visit():
        return render("reviews/index.html", "reviews/_patients.html", **context)
    # The list is read far more often than it changes: kept per worker, keyed by exactly
    # what its rows show (the query that finds them runs on every visit).
    key = (
        practice.id,
        practice.name,
        page,
        query,
        has_more,
        tuple(
            (
                r.id,
                r.patient_id,
                r.scheduled_at,
                r.status,
                bool(r.results_released_at),
                bool(r.prepared_at),
                name,
                count,
            )
            for r, name, count in reviews
        ),
        tuple((p.id, p.name, p.email) for p in patients),
        tuple((r.id, r.created_at, r.escalated_at, name) for r, name in waiting),
    )
    return kept_page(key, "reviews/index.html", lambda: context)


def _form_page(practice_id: int, patient_id: int, status: int = 200, **context: object) -> Response:
    """Render the form for planning or moving a review."""
    db = get_session()
    context.setdefault("form", {})
    context.setdefault("form_errors", {})
    return render(
        "reviews/form.html",
        status=status,
        practice=accounts.get_practice(db, current_user, practice_id),
        patient=services.practice_patient(db, current_user, practice_id, patient_id),
        clinicians=services.practice_clinicians(db, current_user, practice_id),
        **context,
    )


@bp.get("/practices/<int:practice_id>/patients/<int:patient_id>/new")
@login_required
def new(practice_id: int, patient_id: int) -> Response:
    """Show the form to plan a review for one patient."""
    return _form_page(practice_id, patient_id)


@bp.post("/practices/<int:practice_id>/patients/<int:patient_id>")
@login_required
def create(practice_id: int, patient_id: int) -> Response:
    """Plan a review for one patient."""
    form = {key: request.form.get(key, "")[:40] for key in ("day", "time", "clinician")}
    db = get_session()
    try:
        when = services.parse_review_time(form["day"], form["time"])
        clinician = request.form.get("clinician", type=int)  # bounded: see webapp/inputs.py
        services.create_review(db, current_user, practice_id, patient_id, when, clinician)
    except ReviewError as error:
        return _form_page(
            practice_id,
            patient_id,
            status=422,
            form=form,
            form_errors={error.field or "day": error.message},
        )
    flash(_("Review planned."), "success")
    return hx_redirect(url_for("reviews.index", practice_id=practice_id))


@bp.get("/<int:review_id>/edit")
@login_required
def edit(review_id: int) -> Response:
    """Show the form to move a review to another time."""
    review = services.get_review(get_session(), current_user, review_id)
    return _form_page(review.practice_id, review.patient_id, review=review)


@bp.post("/<int:review_id>/reschedule")
@login_required
def update(review_id: int) -> Response:
    """Move a review to another time."""
    db = get_session()
    review = services.get_review(db, current_user, review_id)
    form = {key: request.form.get(key, "")[:40] for key in ("day", "time")}
    try:
        when = services.parse_review_time(form["day"], form["time"])
        services.reschedule_review(db, current_user, review_id, when)
    except ReviewError as error:
        return _form_page(
            review.practice_id,
            review.patient_id,
            status=422,
            review=review,
            form=form,
            form_errors={error.field or "day": error.message},
        )
    flash(_("Review moved."), "success")
    return hx_redirect(url_for("reviews.index", practice_id=review.practice_id))


@bp.get("/<int:review_id>/calendar.ics")
@login_required
def calendar(review_id: int) -> Response:
    """Download the person's review as a calendar event."""
    body = services.calendar_file(get_session(), current_user, review_id, request.host)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'attachment; filename="review.ics"',
            "Cache-Control": "private, no-store",
        },
    )
