"""Review pages through HTTP: staff find a patient, plan and move a review; the person sees it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from tests.conftest import add_person, sign_in
from webapp.accounts.models import Role
from webapp.reviews.models import Review

DAY = (dt.date.today() + dt.timedelta(days=20)).isoformat()


def test_staff_find_a_patient_and_plan_a_review(app, client, db, practice, patient, clinician):
    add_person(db, "Patrick Other", "patrick@example.org", (practice, Role.PATIENT))
    sign_in(app, client, clinician)
    found = client.get(f"/reviews/practices/{practice.id}?q=pat").get_data(as_text=True)
    assert "Plan a review for Pat Morgan" in found and "Plan a review for Patrick Other" in found
    assert "Priya Shah" not in found  # staff are not patients
    partial = client.get(
        f"/reviews/practices/{practice.id}?q=morgan", headers={"HX-Request": "true"}
    )
    assert partial.get_data(as_text=True).lstrip().startswith('<div id="patients"')
    form = client.get(f"/reviews/practices/{practice.id}/patients/{patient.id}/new")
    assert "Plan a review for Pat Morgan" in form.get_data(as_text=True)
    done = client.form(
        f"/reviews/practices/{practice.id}/patients/{patient.id}",
        {"day": DAY, "time": "09:30", "clinician": str(clinician.id)},
    )
    assert done.status_code == 303
    review = db.exec(select(Review)).one()
    assert review.clinician_id == clinician.id
    listing = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Review planned." in listing and "Pat Morgan" in listing and "09:30" in listing


def test_bad_dates_and_times_are_explained_and_kept(app, client, db, practice, patient, clinician):
    sign_in(app, client, clinician)
    url = f"/reviews/practices/{practice.id}/patients/{patient.id}"
    for data, message in (
        ({"day": "14/12/2026", "time": "09:30"}, "Enter the date of the review"),
        ({"day": DAY, "time": "half nine"}, "Enter the time of the review"),
        ({"day": "2020-01-01", "time": "09:30"}, "already passed"),
    ):
        response = client.form(url, data)
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert message in body and f'value="{data["time"]}"' in body
    assert db.exec(select(Review)).all() == []


def test_move_a_review_and_the_person_sees_it_with_a_calendar_file(
    app, client, db, practice, patient, clinician
):
    sign_in(app, client, clinician)
    client.form(
        f"/reviews/practices/{practice.id}/patients/{patient.id}", {"day": DAY, "time": "09:30"}
    )
    review = db.exec(select(Review)).one()
    later = (dt.date.today() + dt.timedelta(days=27)).isoformat()
    assert f'value="{DAY}"' in client.get(f"/reviews/{review.id}/edit").get_data(as_text=True)
    moved = client.form(f"/reviews/{review.id}/reschedule", {"day": later, "time": "14:15"})
    assert moved.status_code == 303
    person = app.test_client()
    sign_in(app, person, patient)
    home = person.get("/").get_data(as_text=True)
    assert "Your next review" in home and "14:15" in home
    ics = person.get(f"/reviews/{review.id}/calendar.ics")
    assert ics.mimetype == "text/calendar"
    text = ics.get_data(as_text=True)
    assert "BEGIN:VEVENT" in text and "Riverside Health Centre" in text
    assert later.replace("-", "") in text.replace("\r\n ", "")


def test_another_practices_patients_are_out_of_reach(app, client, db, practice, clinician):
    from webapp.accounts.models import Practice

    elsewhere = Practice(name="Hillside Surgery")
    db.add(elsewhere)
    db.commit()
    outsider = add_person(db, "Pat Elsewhere", "pat.else@example.org", (elsewhere, Role.PATIENT))
    sign_in(app, client, clinician)
    found = client.get(f"/reviews/practices/{practice.id}?q=elsewhere").get_data(as_text=True)
    assert "Pat Elsewhere" not in found and "No patient of this practice matches" in found
    # Nor can a review be planned for them by changing the address.
    url = f"/reviews/practices/{practice.id}/patients/{outsider.id}"
    assert client.get(url + "/new").status_code == 404
    assert client.form(url, {"day": DAY, "time": "09:30"}).status_code == 404
    assert db.exec(select(Review)).all() == []
