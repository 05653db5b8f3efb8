"""Conditions through HTTP: the care team's forms on a patient's page, the person's "My
conditions" page (without JavaScript), and a carer helping them prepare."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.conftest import add_person, sign_in
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.carers import services as carers
from webapp.conditions import services
from webapp.conditions.models import Condition


def page_of(practice, patient) -> str:
    return f"/care-team/practices/{practice.id}/patients/{patient.id}"


@pytest.fixture
def recorded(app, db, practice, patient, clinician):
    """Type 2 diabetes and osteoarthritis on Pat's list, recorded by the clinician."""
    with app.app_context():
        staff = load_actor(db, clinician)
        return [
            services.record_condition(db, staff, practice.id, patient.id, code)
            for code in ("44054006", "396275006")
        ]


def test_the_clinician_records_a_condition_from_the_list(
    app, client, db, practice, patient, clinician
):
    sign_in(app, client, clinician)
    page = client.get(page_of(practice, patient)).get_data(as_text=True)
    assert "Long-term conditions" in page and "No conditions recorded yet." in page
    assert '<option value="195967001">Asthma (195967001)</option>' in page
    sent = client.form(
        f"/conditions/practices/{practice.id}/patients/{patient.id}",
        {"code": "195967001", "onset": "2015"},
    )
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith(page_of(practice, patient) + "#conditions-heading")
    page = client.get(page_of(practice, patient)).get_data(as_text=True)
    assert "Recorded: Asthma." in page and "SNOMED CT 195967001" in page and "1 Jan 2015" in page


def test_a_bad_onset_is_shown_next_to_the_field_and_the_choice_kept(
    app, client, db, practice, patient, clinician
):
    sign_in(app, client, clinician)
    sent = client.form(
        f"/conditions/practices/{practice.id}/patients/{patient.id}",
        {"code": "195967001", "onset": "last spring"},
    )
    assert sent.status_code == 422
    page = sent.get_data(as_text=True)
    assert 'id="condition-onset-error"' in page and "like 2019-03-25" in page
    assert '<option value="195967001" selected>' in page and 'value="last spring"' in page
    assert db.exec(select(Condition)).all() == []


def test_the_clinician_marks_one_resolved_and_removes_a_mistake(
    app, client, db, practice, patient, clinician, recorded
):
    diabetes, knees = recorded
    sign_in(app, client, clinician)
    done = client.form(
        f"/conditions/practices/{practice.id}/{knees.id}/status", {"status": "resolved"}
    )
    assert done.status_code == 303
    assert "Marked as no longer active." in client.get(page_of(practice, patient)).get_data(
        as_text=True
    )
    bad = client.form(f"/conditions/practices/{practice.id}/{knees.id}/status", {"status": "x"})
    assert bad.status_code == 303  # back to the page, with a message
    assert "Choose active or no longer active." in client.get(page_of(practice, patient)).get_data(
        as_text=True
    )
    gone = client.form(f"/conditions/practices/{practice.id}/{diabetes.id}/remove")
    assert gone.status_code == 303
    page = client.get(page_of(practice, patient)).get_data(as_text=True)
    assert "<strong>Type 2 diabetes</strong>" not in page
    assert "<strong>Osteoarthritis</strong>" in page
    actions = {
        e.action for e in db.exec(select(AuditEvent).where(AuditEvent.subject_id == patient.id))
    }
    assert {"conditions.record", "conditions.status", "conditions.remove"} <= actions


def test_the_person_reads_plain_words_and_chooses_without_javascript(
    app, client, db, practice, patient, recorded
):
    diabetes, knees = recorded
    sign_in(app, client, patient)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/conditions"' in home
    page = client.get("/conditions").get_data(as_text=True)
    assert "<h1>My conditions</h1>" in page and "Type 2 diabetes" in page
    assert "your care team does not see these choices" in page
    assert 'href="/results/tests/hba1c">HbA1c</a>' in page
    assert 'href="/plan"' in page
    sent = client.form(
        "/conditions/matters", {"matters": [str(knees.id)], "record": str(patient.id)}
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/conditions")
    page = client.get("/conditions").get_data(as_text=True)
    assert "Saved what matters most to you now." in page
    assert re.search(rf'id="matters-{knees.id}" name="matters" value="{knees.id}" checked', page)
    assert f'id="matters-{diabetes.id}" name="matters" value="{diabetes.id}">' in page
    # Nothing ticked: nothing matters most now (and no error).
    client.form("/conditions/matters", {"record": str(patient.id)})
    with app.app_context():
        assert not any(c.matters_most for c in services.conditions_of(db, patient.id))


def test_the_care_team_does_not_see_what_matters_most(
    app, client, db, practice, patient, clinician, recorded
):
    with app.app_context():
        services.choose_what_matters(db, load_actor(db, patient), patient.id, {recorded[0].id})
    sign_in(app, client, clinician)
    page = client.get(page_of(practice, patient)).get_data(as_text=True)
    assert "Type 2 diabetes" in page and "matters most" not in page


@pytest.mark.parametrize(("scope", "sees"), [("planning", True), ("results", False)])
def test_a_carer_helps_only_with_the_planning_scope(
    app, client, db, patient, recorded, scope, sees
):
    sam = add_person(db, "Sam Lee", "sam@example.org")
    with app.test_request_context():
        grant, token, _code = carers.invite_carer(
            db, load_actor(db, patient), patient.id, {"name": "Sam Lee"}, [scope]
        )
        carers.accept(db, load_actor(db, sam), token=token)
    sign_in(app, client, sam)
    assert client.form(f"/carers/act/{grant.id}").status_code == 303
    response = client.get("/conditions")
    if not sees:
        assert response.status_code == 404
        chose = client.form(
            "/conditions/matters", {"matters": [str(recorded[0].id)], "record": str(patient.id)}
        )
        assert chose.status_code == 404
        return
    page = response.get_data(as_text=True)
    assert "Pat's conditions" in page and "Type 2 diabetes" in page
    assert "/results/tests/hba1c" not in page  # no results scope: no links to results pages
    chose = client.form(
        "/conditions/matters", {"matters": [str(recorded[0].id)], "record": str(patient.id)}
    )
    assert chose.status_code == 303
    row = db.get(Condition, recorded[0].id)
    db.refresh(row)
    assert row.matters_most and row.matters_set_by_id == sam.id
    said = db.exec(
        select(AuditEvent).where(
            AuditEvent.action == "carer.change", AuditEvent.subject_id == patient.id
        )
    ).all()
    assert any('"conditions"' in e.detail for e in said)
