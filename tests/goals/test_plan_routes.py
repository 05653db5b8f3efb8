"""The agreed plan through HTTP: the clinician's page, the person's side, the plan page (kept
for offline reading), the print view and the FHIR download."""

from __future__ import annotations

import datetime as dt
import json

from fhir.resources.R4B.bundle import Bundle
from sqlmodel import select

from tests.conftest import make_app, sign_in
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.planning.models import Goal
from webapp.reviews import services as reviews


def _review_with_goal(app, db, patient, clinician, practice, shared=True):
    with app.test_request_context():
        review = reviews.create_review(
            db,
            load_actor(db, clinician),
            practice.id,
            patient.id,
            dt.datetime.now(dt.UTC) + dt.timedelta(days=3),
            clinician.id,
        )
    goal = Goal(
        patient_id=patient.id,
        review_id=review.id,
        text="Lose weight before my brother's wedding",
        why="To dance at it",
        shared=shared,
    )
    db.add(goal)
    db.commit()
    return review, goal


def test_a_draft_goal_becomes_the_agreed_plan(app, client, db, patient, clinician, practice):
    review, goal = _review_with_goal(app, db, patient, clinician, practice)
    staff = make_app().test_client()
    sign_in(app, staff, clinician)
    page = staff.get(f"/reviews/{review.id}/plan").get_data(as_text=True)
    assert "Lose weight before my brother&#39;s wedding" in page and "To dance at it" in page
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "plan.read")).one()
    assert (
        staff.form(
            f"/reviews/plan/goals/{goal.id}/actions", {"text": "Refer to the weight group"}
        ).status_code
        == 303
    )
    assert (
        staff.form(f"/reviews/{review.id}/plan/note", {"note": "Check in at 3 months"}).status_code
        == 303
    )
    db.refresh(goal)
    agreed = staff.form(
        f"/reviews/plan/goals/{goal.id}/agree", {"agreed": "1", "version": str(goal.version)}
    )
    assert agreed.status_code == 303

    sign_in(app, client, patient)
    mine = client.get("/plan").get_data(as_text=True)
    assert "Goals to agree at your review" in mine and "Priya Shah agreed it." in mine
    too_long = client.form("/plan/note", {"person_note": "n" * 2001})
    assert too_long.status_code == 422 and "Keep the note to 2000" in too_long.get_data(
        as_text=True
    )
    client.form("/plan/note", {"person_note": "Mornings are hard"})
    assert "Mornings are hard" in staff.get(f"/reviews/{review.id}/plan").get_data(as_text=True)
    db.refresh(goal)
    done = client.form(
        f"/plan/goals/{goal.id}/agree", {"agreed": "1", "version": str(goal.version)}
    )
    assert done.status_code == 303
    page = client.get("/plan")
    body = page.get_data(as_text=True)
    assert page.headers["X-Keep-Offline"] == "personal"
    assert "by Pat Morgan and Priya Shah" in body
    assert "Refer to the weight group" in body and "Check in at 3 months" in body
    assert "Goals to agree at your review" not in body
    printed = client.get("/plan/print").get_data(as_text=True)
    assert "My care and support plan" in printed and "Refer to the weight group" in printed
    download = client.get("/plan/careplan.json")
    assert download.mimetype == "application/fhir+json"
    assert "attachment" in download.headers["Content-Disposition"]
    bundle = json.loads(download.get_data(as_text=True))
    Bundle.model_validate(bundle)
    assert bundle["entry"][1]["resource"]["resourceType"] == "CarePlan"


def test_a_stale_agreement_is_refused_with_the_goal_shown_again(
    app, client, db, patient, clinician, practice
):
    _review, goal = _review_with_goal(app, db, patient, clinician, practice)
    staff = make_app().test_client()
    sign_in(app, staff, clinician)
    sign_in(app, client, patient)
    client.form(f"/goals/{goal.id}/edit", {"text": "Lose a stone by June", "version": "1"})
    stale = staff.form(f"/reviews/plan/goals/{goal.id}/agree", {"agreed": "1", "version": "1"})
    assert stale.status_code == 422
    body = stale.get_data(as_text=True)
    assert "This goal changed since the page was opened" in body
    assert "Lose a stone by June" in body
    db.refresh(goal)
    assert goal.clinician_agreed_at is None


def test_bad_care_team_action_and_note_are_explained_and_kept(
    app, db, patient, clinician, practice
):
    review, goal = _review_with_goal(app, db, patient, clinician, practice)
    staff = make_app().test_client()
    sign_in(app, staff, clinician)
    empty = staff.form(f"/reviews/plan/goals/{goal.id}/actions", {"text": " ", "when": "Fridays"})
    assert empty.status_code == 422
    body = empty.get_data(as_text=True)
    assert "Say what the action is." in body and 'value="Fridays"' in body
    long = staff.form(f"/reviews/{review.id}/plan/note", {"note": "y" * 2001})
    assert long.status_code == 422
    assert "Keep the note to 2000 characters" in long.get_data(as_text=True)


def test_the_person_agreeing_a_private_goal_is_told_to_share_it(
    app, client, db, patient, clinician, practice
):
    _review, goal = _review_with_goal(app, db, patient, clinician, practice, shared=False)
    sign_in(app, client, patient)
    refused = client.form(f"/plan/goals/{goal.id}/agree", {"agreed": "1", "version": "1"})
    assert refused.status_code == 422
    assert "Share this goal with your care team" in refused.get_data(as_text=True)


def test_no_plan_yet(app, client, patient):
    sign_in(app, client, patient)
    assert "You do not have an agreed plan yet." in client.get("/plan").get_data(as_text=True)
    assert client.get("/plan/careplan.json").status_code == 404
