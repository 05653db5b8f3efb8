"""The care team's view: coming reviews with results sent, ready and shared counts, search;
one patient with only what they shared, progress and the agreed plan; each read audited;
another practice gets 404."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from tests.conftest import add_person, sign_in
from webapp.accounts.models import Practice, Role
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.goals.models import CarePlan, GoalAction, ProgressEntry
from webapp.planning.models import AgendaItem, Goal
from webapp.reviews import services as reviews


def _arrange(app, db, patient, clinician, practice):
    with app.test_request_context():
        review = reviews.create_review(
            db,
            load_actor(db, clinician),
            practice.id,
            patient.id,
            dt.datetime.now(dt.UTC) + dt.timedelta(days=5),
            clinician.id,
        )
    earlier = reviews.Review(
        practice_id=practice.id,
        patient_id=patient.id,
        scheduled_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=90),
        status="plan_agreed",
    )
    db.add(earlier)
    db.flush()
    now = dt.datetime.now(dt.UTC)
    walk = Goal(
        patient_id=patient.id,
        review_id=earlier.id,
        text="Walk every weekday",
        shared=True,
        status="agreed",
        person_agreed_at=now,
        clinician_agreed_at=now,
    )
    db.add_all(
        [
            AgendaItem(
                patient_id=patient.id,
                review_id=review.id,
                kind="agenda",
                text="My knees",
                shared=True,
            ),
            AgendaItem(
                patient_id=patient.id, review_id=review.id, kind="agenda", text="A private worry"
            ),
            Goal(patient_id=patient.id, review_id=review.id, text="Sleep by eleven", shared=True),
            Goal(patient_id=patient.id, review_id=review.id, text="A private goal"),
            walk,
            CarePlan(review_id=earlier.id, patient_id=patient.id, agreed_at=now, note="Good start"),
        ]
    )
    db.flush()
    db.add(GoalAction(goal_id=walk.id, text="Walking group", owner="community"))
    db.add(ProgressEntry(goal_id=walk.id, patient_id=patient.id, outcome="did", key="k1"))
    db.commit()
    return review


def test_coming_reviews_show_results_ready_and_shared_counts_and_search(
    app, client, db, patient, clinician, practice
):
    _arrange(app, db, patient, clinician, practice)
    with app.test_request_context():
        priya = load_actor(db, clinician)
        rows, _more = reviews.list_reviews(db, priya, practice.id)
        assert [(name, count) for _r, name, count in rows] == [("Pat Morgan", 2)]
        assert reviews.list_reviews(db, priya, practice.id, query="pat")[0]
        assert reviews.list_reviews(db, priya, practice.id, query="nobody")[0] == []
    sign_in(app, client, clinician)
    page = client.get(f"/reviews/practices/{practice.id}").get_data(as_text=True)
    assert "Results sent" in page and "Not yet" in page
    assert f"/care-team/practices/{practice.id}/patients/{patient.id}" in page
    searched = client.get(f"/reviews/practices/{practice.id}?q=zz").get_data(as_text=True)
    assert "No coming reviews for patients matching" in searched


def test_one_patient_shows_only_what_they_shared(app, client, db, patient, clinician, practice):
    _arrange(app, db, patient, clinician, practice)
    sign_in(app, client, clinician)
    page = client.get(f"/care-team/practices/{practice.id}/patients/{patient.id}").get_data(
        as_text=True
    )
    assert "My knees" in page and "Sleep by eleven" in page and "Walk every weekday" in page
    assert "A private worry" not in page and "A private goal" not in page
    assert "Last 8 weeks: 1 did it" in page and "Walking group" in page and "Good start" in page
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "care_team.read_patient")).one()


def test_another_practice_gets_404_for_everything(app, client, db, patient, clinician, practice):
    _arrange(app, db, patient, clinician, practice)
    other = Practice(name="Hillside")
    db.add(other)
    db.commit()
    stranger = add_person(db, "Sol Other", "sol@example.org", (other, Role.CLINICIAN))
    sign_in(app, client, stranger)
    for path in (
        f"/care-team/practices/{practice.id}/patients/{patient.id}",
        f"/care-team/practices/{other.id}/patients/{patient.id}",  # not their patient either
    ):
        assert client.get(path).status_code == 404


def test_each_clinician_gets_their_own_kept_list(app, db, patient, clinician, practice):
    from tests.conftest import make_app

    _arrange(app, db, patient, clinician, practice)
    other = add_person(db, "Ola Nurse", "ola@example.org", (practice, Role.CLINICIAN))
    pages = []
    for person in (clinician, other):
        client = make_app().test_client()
        sign_in(app, client, person)
        pages.append(client.get(f"/reviews/practices/{practice.id}").get_data(as_text=True))
    assert f'data-person="{clinician.id}"' in pages[0]
    assert f'data-person="{other.id}"' in pages[1]


def test_the_patient_page_shows_this_practices_next_review(
    app, client, db, patient, clinician, practice
):
    review = _arrange(app, db, patient, clinician, practice)
    other = Practice(name="Hillside")
    db.add(other)
    db.commit()
    sooner = reviews.Review(
        practice_id=other.id,
        patient_id=patient.id,
        scheduled_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    db.add(sooner)
    db.commit()
    sign_in(app, client, clinician)
    page = client.get(f"/care-team/practices/{practice.id}/patients/{patient.id}").get_data(
        as_text=True
    )
    assert f"/results/reviews/{review.id}" in page and "No review is booked" not in page
