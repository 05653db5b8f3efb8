"""Long-term conditions: the person's "My conditions" page, and the care team's forms on a
patient's page to record a condition, mark it no longer active and take a mistake off."""

from __future__ import annotations

from flask import Blueprint, Response, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.clinicians.routes import patient_page
from webapp.conditions import services
from webapp.conditions.services import ConditionError
from webapp.db import get_session
from webapp.htmx import hx_redirect, render
from webapp.inputs import LARGEST_ID

bp = Blueprint("conditions", __name__, url_prefix="/conditions")


@bp.get("")
@login_required
def mine() -> Response:
    """Show the person's conditions in plain words, and which matter most to them now."""
    found = services.my_conditions(get_session(), current_user, current_user.record_id)
    return render("conditions/mine.html", conditions=found, test_names=services.test_names())


@bp.post("/matters")
@login_required
def choose() -> Response:
    """Save which of the person's conditions matter most to them now."""
    # Ids as the rest of the app bounds them (webapp/inputs.py); a person has a few conditions.
    chosen = {
        int(v)
        for v in request.form.getlist("matters")[:100]
        if v.isascii() and v.isdigit() and int(v) <= LARGEST_ID
    }
    services.choose_what_matters(get_session(), current_user, current_user.record_id, chosen)
    flash(_("Saved what matters most to you now."), "success")
    return hx_redirect(url_for("conditions.mine"))


def _back(practice_id: int, patient_id: int) -> str:
    """Return the patient's care-team page, at its conditions."""
    return (
        url_for("clinicians.patient", practice_id=practice_id, patient_id=patient_id)
        + "#conditions-heading"
    )


@bp.post("/practices/<int:practice_id>/patients/<int:patient_id>")
@login_required
def create(practice_id: int, patient_id: int) -> Response:
    """Record a condition for one of the practice's patients, from content's list."""
    typed = {
        "code": request.form.get("code", "")[:20],
        "onset": request.form.get("onset", "")[:20],
    }
    try:
        condition = services.record_condition(
            get_session(), current_user, practice_id, patient_id, typed["code"], typed["onset"]
        )
    except ConditionError as error:
        return patient_page(
            practice_id,
            patient_id,
            status=422,
            problems={f"condition_{error.field or 'code'}": error.message},
            typed=typed,
        )
    flash(_("Recorded: %(name)s.", name=condition.display), "success")
    return hx_redirect(_back(practice_id, patient_id))


@bp.post("/practices/<int:practice_id>/<int:condition_id>/status")
@login_required
def set_status(practice_id: int, condition_id: int) -> Response:
    """Mark a condition no longer active, or active again."""
    status = request.form.get("status", "")[:20]
    db = get_session()
    try:
        condition = services.set_condition_status(
            db, current_user, practice_id, condition_id, status
        )
    except ConditionError as error:
        flash(error.message, "error")
        found = services.staff_condition_patient(db, current_user, practice_id, condition_id)
        return hx_redirect(_back(practice_id, found))
    flash(
        _("Marked as active.")
        if condition.clinical_status == "active"
        else _("Marked as no longer active."),
        "success",
    )
    return hx_redirect(_back(practice_id, condition.patient_id))


@bp.post("/practices/<int:practice_id>/<int:condition_id>/remove")
@login_required
def remove(practice_id: int, condition_id: int) -> Response:
    """Take a condition recorded by mistake off the person's list."""
    patient_id = services.remove_condition(get_session(), current_user, practice_id, condition_id)
    flash(_("Taken off their list. The change is in their record of who changed what."), "success")
    return hx_redirect(_back(practice_id, patient_id))
