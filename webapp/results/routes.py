"""Results pages: staff import, hold back and release; the person reads and asks about them."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from webapp.accounts import services as accounts
from webapp.accounts.services import AccountError, validate_nhs_number
from webapp.db import get_session
from webapp.formatting import csv_cell, local_date
from webapp.htmx import hx_redirect, render
from webapp.kept import TOKEN_PLACEHOLDER, fill, kept_html
from webapp.planning import summary as planning_summary
from webapp.results import charts, services
from webapp.results.importing import ImportFailed
from webapp.results.services import ResultError
from webapp.reviews import services as reviews
from webapp.reviews.routes import status_names

bp = Blueprint("results", __name__, url_prefix="/results")
bp.add_app_template_global(charts.trend_chart, "trend_chart")


# --- staff ---------------------------------------------------------------------------------


def _review_page(review_id: int, status: int = 200, **context: object) -> Response:
    """Render the staff page for one person's results ahead of a review."""
    db = get_session()
    review = reviews.get_review(db, current_user, review_id)
    results = services.staff_results(db, current_user, review)
    tests = services.catalogue()
    context.setdefault("form_errors", {})
    context.setdefault("problems", [])
    context.setdefault("rows", [{} for _n in range(services.FORM_ROWS)])
    return render(
        "results/staff_review.html",
        status=status,
        review=review,
        patient=reviews.practice_patient(db, current_user, review.practice_id, review.patient_id),
        results=results,
        tests=tests,
        waiting=sum(
            1 for r in results if r.released_at is None and not r.held and r.withdrawn_at is None
        ),
        current=[r for r in results if not services.is_old(r)],
        older=[r for r in results if services.is_old(r)],
        targets=services.personal_targets(db, review.patient_id),
        shared=planning_summary.shared_for_review(
            db, current_user, review, record=request.method == "GET"
        ),
        status_names=status_names(),
        show=services.show_result,
        name=services.result_name,
        unit_name=services.display_unit,
        **context,
    )


@bp.get("/reviews/<int:review_id>")
@login_required
def review(review_id: int) -> Response:
    """Show staff the person's results for a review, with import, hold and release."""
    return _review_page(review_id)


def _import_failed(review_id: int, error: ImportFailed, **context: object) -> Response:
    return _review_page(review_id, status=422, problems=[str(p) for p in error.problems], **context)


@bp.post("/reviews/<int:review_id>/entered")
@login_required
def enter(review_id: int) -> Response:
    """Import the results staff typed in for the person."""
    db = get_session()
    review = reviews.get_review(db, current_user, review_id)
    rows = [
        {
            key: request.form.get(f"{key}-{n}", "")[:80]
            for key in ("test", "value", "unit", "date_taken", "reference_range")
        }
        for n in range(services.FORM_ROWS)
    ]
    try:
        report = services.import_form(db, current_user, review, rows)
    except ImportFailed as error:
        return _import_failed(review_id, error, rows=rows)
    flash(report.summary(), "success")
    return hx_redirect(url_for("results.review", review_id=review_id))


@bp.post("/reviews/<int:review_id>/upload")
@login_required
def upload(review_id: int) -> Response:
    """Import a CSV or FHIR file for the person, whatever its NHS numbers say."""
    db = get_session()
    review = reviews.get_review(db, current_user, review_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _review_page(
            review_id, status=422, form_errors={"file": _("Choose a CSV or FHIR JSON file.")}
        )
    try:
        report = services.import_file(
            db, current_user, review.practice_id, file.read(), review.patient_id
        )
    except ImportFailed as error:
        return _import_failed(review_id, error)
    flash(report.summary(), "success")
    return hx_redirect(url_for("results.review", review_id=review_id))


@bp.post("/reviews/<int:review_id>/release")
@login_required
def release(review_id: int) -> Response:
    """Send the person their results that are not held back."""
    db = get_session()
    review = reviews.get_review(db, current_user, review_id)
    try:
        count = services.release_results(db, current_user, review)
    except ResultError as error:
        return _review_page(review_id, status=422, form_errors={"release": error.message})
    flash(_("Released %(n)d results. The person has been told.", n=count), "success")
    return hx_redirect(url_for("results.review", review_id=review_id))


@bp.post("/reviews/<int:review_id>/release-date")
@login_required
def release_date(review_id: int) -> Response:
    """Set or clear the day the results go to the person by themselves."""
    db = get_session()
    review = reviews.get_review(db, current_user, review_id)
    text = request.form.get("release_on", "").strip()[:20]
    try:
        day = dt.date.fromisoformat(text) if text else None
    except ValueError:
        return _review_page(
            review_id,
            status=422,
            form_errors={"release_on": _("Enter the day like 2026-12-01, or leave it empty.")},
        )
    try:
        services.set_release_date(db, current_user, review, day)
    except ResultError as error:
        return _review_page(review_id, status=422, form_errors={"release_on": error.message})
    flash(
        _("Results will go to the person on the day you chose.")
        if day
        else _("The release day is cleared."),
        "success",
    )
    return hx_redirect(url_for("results.review", review_id=review_id))


@bp.post("/reviews/<int:review_id>/results/<int:result_id>/hold")
@login_required
def hold(review_id: int, result_id: int) -> Response:
    """Hold one result back from the person, with a note for the care team."""
    db = get_session()
    review = reviews.get_review(db, current_user, review_id)
    try:
        services.hold_result(db, current_user, result_id, request.form.get("note", "")[:2000])
    except ResultError as error:
        return _review_page(review.id, status=422, form_errors={f"note-{result_id}": error.message})
    flash(_("That result is held back. The person cannot see it."), "success")
    return hx_redirect(url_for("results.review", review_id=review_id))


@bp.post("/reviews/<int:review_id>/results/<int:result_id>/unhold")
@login_required
def unhold(review_id: int, result_id: int) -> Response:
    """Stop holding a result back; it goes with the next release."""
    db = get_session()
    reviews.get_review(db, current_user, review_id)
    services.unhold_result(db, current_user, result_id)
    flash(_("That result is no longer held back. Release it when you are ready."), "success")
    return hx_redirect(url_for("results.review", review_id=review_id))


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ResultError(_("Write the target as numbers, like 48."), "target") from None


@bp.post("/reviews/<int:review_id>/targets")
@login_required
def target(review_id: int) -> Response:
    """Set or clear the person's own target for a test."""
    db = get_session()
    review = reviews.get_review(db, current_user, review_id)
    form = {key: request.form.get(key, "")[:40] for key in ("test", "low", "high", "high_second")}
    try:
        services.set_target(
            db,
            current_user,
            review.practice_id,
            review.patient_id,
            form["test"],
            _number(form["low"]),
            _number(form["high"]),
            _number(form["high_second"]),
        )
    except ResultError as error:
        return _review_page(
            review_id, status=422, form_errors={"target": error.message}, target_form=form
        )
    flash(_("Target saved."), "success")
    return hx_redirect(url_for("results.review", review_id=review_id))


@bp.get("/practices/<int:practice_id>/import")
@login_required
def practice_import(practice_id: int) -> Response:
    """Show the page for importing a lab or GP system file for many people at once."""
    practice = accounts.get_practice(get_session(), current_user, practice_id)
    return render("results/practice_import.html", practice=practice, form={}, form_errors={})


@bp.post("/practices/<int:practice_id>/import")
@login_required
def practice_import_file(practice_id: int) -> Response:
    """Import a file, matching each result to a patient by NHS number (or to one person)."""
    db = get_session()
    practice = accounts.get_practice(db, current_user, practice_id)
    form = {"nhs_number": request.form.get("nhs_number", "")[:40]}
    file = request.files.get("file")

    def again(errors: dict[str, str], problems: list[str] | None = None) -> Response:
        return render(
            "results/practice_import.html",
            status=422,
            practice=practice,
            form=form,
            form_errors=errors,
            problems=problems or [],
        )

    if file is None or not file.filename:
        return again({"file": _("Choose a CSV or FHIR JSON file.")})
    patient_id = None
    try:
        number = validate_nhs_number(form["nhs_number"])
    except AccountError as error:
        return again({"nhs_number": error.message})
    if number:
        found = services.practice_patient_by_nhs(db, current_user, practice_id, number)
        if found is None:
            return again({"nhs_number": _("No patient of this practice has that NHS number.")})
        patient_id = found
    try:
        report = services.import_file(db, current_user, practice_id, file.read(), patient_id)
    except ImportFailed as error:
        return again({}, [str(p) for p in error.problems])
    flash(report.summary(), "success")
    return hx_redirect(url_for("results.practice_import", practice_id=practice_id))


# --- the person ----------------------------------------------------------------------------


def _own_page(template: str, **context: object) -> Response:
    db = get_session()
    summaries = services.own_results(db, current_user, current_user.record_id)
    next_review = reviews.next_review(db, current_user, current_user.record_id)
    return render(
        template,
        summaries=summaries,
        release=services.latest_release(db, current_user, current_user.record_id),
        next_review=next_review,
        asked={
            item.test
            for item in services.agenda(db, current_user, current_user.record_id, next_review)
        },
        **context,
    )


@bp.get("")
@login_required
def mine() -> Response:
    """Show the person their released results, each with its trend and meaning.

    The page is read far more often than it changes, so each worker keeps it per person,
    keyed by everything it shows (see services.results_version), with the CSRF token left
    as a placeholder filled in for each request. A visit with a message to show (a flash)
    is rendered afresh, as the message is shown once.
    """
    db = get_session()
    person = current_user.record_id
    version = services.results_version(db, current_user, person)
    next_review = reviews.next_review(db, current_user, person)
    asked = frozenset(item.test for item in services.agenda(db, current_user, person, next_review))
    *depends_on, released_for = version
    locale = str(get_locale())
    placeholder = TOKEN_PLACEHOLDER

    def cards() -> Markup:
        if not version[0]:
            return Markup("")
        html = kept_html(
            ("cards", person, tuple(depends_on), asked, locale),
            lambda: render_template(
                "results/_cards.html",
                summaries=services.own_results(db, current_user, person),
                asked=asked,
                token_placeholder=placeholder,
            ),
        )
        return Markup(html)  # noqa: S704 - rendered by Jinja with autoescape

    def page() -> str:
        return render_template(
            "results/mine.html",
            has_results=bool(version[0]),
            cards=cards(),
            released_for=released_for,
            next_review=next_review,
            csrf_token=lambda: placeholder,
        )

    if "_flashes" in session:
        html = page()
    else:
        key = (
            "page",
            current_user.id,  # the page carries who is signed in
            current_user.acting,  # and, for a carer, the banner and their scopes
            person,
            tuple(version),
            (next_review.id, next_review.scheduled_at) if next_review else None,
            asked,
            locale,
            current_user.header_counts,
            current_user.roles,
        )
        html = kept_html(key, page)
    response = make_response(fill(html))
    response.vary.add("HX-Request")
    return response


@bp.get("/letter")
@login_required
def letter() -> Response:
    """Show the results letter: results, what they mean, and space to plan the review."""
    return _own_page("results/letter.html")


@bp.get("/tests/<slug>")
@login_required
def explain(slug: str) -> Response:
    """Explain one test in plain words, with the person's own readings of it."""
    db = get_session()
    test, summary = services.own_test(db, current_user, current_user.record_id, slug)
    asked = {item.test for item in services.agenda(db, current_user, current_user.record_id)}
    return render("results/explain.html", test=test, summary=summary, asked=asked)


@bp.get("/my-results.csv")
@login_required
def download() -> Response:
    """Download the person's released results as a CSV file."""
    summaries = services.own_results(get_session(), current_user, current_user.record_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["test", "date_taken", "value", "unit", "as_received"])
    for summary in summaries:
        for result in summary.readings:
            writer.writerow(
                [
                    csv_cell(summary.name),
                    local_date(result.taken_at).isoformat(),
                    csv_cell(summary.number(result)),
                    csv_cell(services.display_unit(result.unit)),
                    csv_cell(result.received),
                ]
            )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="my-results.csv"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.post("/ask")
@login_required
def ask() -> Response:
    """Add a result to the person's agenda for their next review."""
    key = request.form.get("test", "")[:200]
    db = get_session()
    _item, added = services.ask_about(db, current_user, current_user.record_id, key)
    if request.headers.get("HX-Request"):
        return render("results/_asked.html", key=key, added=added)
    flash(
        _("Added to your list for your review.") if added else _("It is already on your list."),
        "success",
    )
    back = request.form.get("back", "")
    if not back.startswith("/results") or back.startswith("//"):
        back = url_for("results.mine")
    return hx_redirect(back)


@bp.post("/agenda/<int:item_id>/remove")
@login_required
def remove(item_id: int) -> Response:
    """Take an item off the person's agenda."""
    services.remove_agenda_item(get_session(), current_user, item_id)
    flash(_("Taken off your list."), "success")
    return hx_redirect(url_for("main.index"))
