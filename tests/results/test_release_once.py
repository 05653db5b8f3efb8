"""Results go to the person once, however many presses or clocks release them at once: the
release claims the waiting results in the database before anyone is told."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from tests.conftest import outbox, together
from tests.results.helpers import add_result, plan_review
from webapp.accounts.services import load_actor
from webapp.notifications.models import Notification
from webapp.results import services
from webapp.results.services import ResultError
from webapp.reviews.models import Review, ReviewStatus


def test_pressing_release_again_tells_the_person_nothing_more(
    app, db, practice, patient, clinician
):
    review = plan_review(db, practice.id, patient.id)
    add_result(db, practice, patient)
    with app.test_request_context():
        staff = load_actor(db, clinician)
        assert services.release_results(db, staff, review) == 1
        with pytest.raises(ResultError, match="no results waiting"):
            services.release_results(db, staff, db.get(Review, review.id))
    assert len(db.exec(select(Notification)).all()) == 1
    assert len(outbox(app)) == 1


@pytest.mark.postgres
def test_two_staff_pressing_release_at_once_tell_the_person_once(
    app, db, practice, patient, clinician
):
    review = plan_review(db, practice.id, patient.id)
    for value in (50.0, 51.0):
        add_result(db, practice, patient, value=value, fingerprint=f"f{value}")

    def press(session, _n):
        return services.release_results(
            session, load_actor(session, clinician), session.get(Review, review.id)
        )

    answers = together(app, 2, press)
    assert sorted(map(type, answers), key=str) == sorted([int, ResultError], key=str), answers
    assert 2 in answers
    assert len(db.exec(select(Notification)).all()) == 1
    assert len(outbox(app)) == 1


@pytest.mark.postgres
def test_two_clocks_release_each_review_once(app, db, practice, patient):
    from tests.conftest import add_person
    from webapp.accounts.models import Role

    people = [patient] + [
        add_person(db, f"P{n}", f"p{n}@example.org", (practice, Role.PATIENT)) for n in range(9)
    ]
    for person in people:
        review = plan_review(db, practice.id, person.id)
        review.release_on = dt.date.today()
        db.add(review)
        db.commit()
        add_result(db, practice, person, fingerprint=f"p{person.id}")

    answers = together(app, 2, lambda session, _n: services.release_due(session, dt.date.today()))
    assert sum(answers) == 10, answers
    db.expire_all()
    statuses = db.exec(select(Review.status)).all()
    assert statuses == [ReviewStatus.RESULTS_RELEASED] * 10
    notes = db.exec(select(Notification.person_id)).all()
    assert sorted(notes) == sorted(p.id for p in people)
    assert len(outbox(app)) == 10
