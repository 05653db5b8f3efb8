"""Reviews without HTTP: planning, rescheduling, moving along the cycle, the next review."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from webapp.accounts.models import Practice, Role
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.reviews import services
from webapp.reviews.models import Review, ReviewStatus
from webapp.reviews.services import ReviewError

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def people(app, db, practice, patient, clinician):
    """The practice's patient and clinician as actors, and a stranger at another practice."""
    elsewhere = Practice(name="Hillside Surgery")
    db.add(elsewhere)
    db.commit()
    stranger = add_person(db, "Olu Ade", "olu@example.org", (elsewhere, Role.CLINICIAN))
    with app.app_context():
        return {
            "patient": load_actor(db, patient),
            "clinician": load_actor(db, clinician),
            "stranger": load_actor(db, stranger),
        }


def plan(app, db, people, practice, when=NOW + dt.timedelta(days=14), **kwargs):
    """Plan a review for the patient as the clinician."""
    with app.app_context():
        return services.create_review(
            db, people["clinician"], practice.id, people["patient"].id, when, **kwargs
        )


def test_staff_plan_a_review_and_the_person_sees_it_next(app, db, people, practice):
    review = plan(app, db, people, practice, clinician_id=people["clinician"].id)
    assert review.status == ReviewStatus.PLANNED
    with app.app_context():
        assert services.next_review(db, people["patient"], people["patient"].id).id == review.id
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "review.create")).one()
    assert (event.actor_id, event.subject_id) == (people["clinician"].id, people["patient"].id)


def test_next_review_is_the_soonest_without_an_agreed_plan(app, db, people, practice):
    later = plan(app, db, people, practice, NOW + dt.timedelta(days=60))
    sooner = plan(app, db, people, practice, NOW + dt.timedelta(days=10))
    with app.app_context():
        assert services.next_review(db, people["patient"], people["patient"].id).id == sooner.id
        services.advance_review(db, people["clinician"], sooner.id, ReviewStatus.PLAN_AGREED)
        assert services.next_review(db, people["patient"], people["patient"].id).id == later.id


def test_only_the_person_sees_their_next_review(app, db, people, practice):
    review = plan(app, db, people, practice)
    with app.app_context():
        for who in ("clinician", "stranger"):
            with pytest.raises(NotFound):
                services.next_review(db, people[who], people["patient"].id)
            with pytest.raises(NotFound):
                services.own_review(db, people[who], review.id)
        assert services.own_review(db, people["patient"], review.id).id == review.id


def test_other_practices_and_patients_cannot_manage_reviews(app, db, people, practice):
    review = plan(app, db, people, practice)
    with app.app_context():
        for who in ("stranger", "patient"):
            with pytest.raises(NotFound):
                services.create_review(
                    db, people[who], practice.id, people["patient"].id, NOW + dt.timedelta(days=3)
                )
            with pytest.raises(NotFound):
                services.reschedule_review(db, people[who], review.id, NOW + dt.timedelta(days=3))
            with pytest.raises(NotFound):
                services.advance_review(db, people[who], review.id, ReviewStatus.HELD)
    assert len(db.exec(select(Review)).all()) == 1


def test_bad_plans_are_explained(app, db, people, practice):
    with app.app_context():
        with pytest.raises(ReviewError, match="not a patient of this practice"):
            services.create_review(
                db,
                people["clinician"],
                practice.id,
                people["stranger"].id,
                NOW + dt.timedelta(days=3),
            )
        with pytest.raises(ReviewError, match="not a clinician in this practice"):
            services.create_review(
                db,
                people["clinician"],
                practice.id,
                people["patient"].id,
                NOW + dt.timedelta(days=3),
                clinician_id=people["patient"].id,
            )
        with pytest.raises(ReviewError, match="already passed"):
            services.create_review(
                db,
                people["clinician"],
                practice.id,
                people["patient"].id,
                NOW - dt.timedelta(days=1),
            )
    assert db.exec(select(Review)).all() == []


def test_reschedule_until_held(app, db, people, practice):
    review = plan(app, db, people, practice)
    new_time = NOW + dt.timedelta(days=21)
    with app.app_context():
        moved = services.reschedule_review(db, people["clinician"], review.id, new_time)
        assert moved.scheduled_at == new_time
        services.advance_review(db, people["clinician"], review.id, ReviewStatus.HELD)
        with pytest.raises(ReviewError, match="already been held"):
            services.reschedule_review(db, people["clinician"], review.id, new_time)


def test_the_cycle_only_moves_forward(app, db, people, practice):
    review = plan(app, db, people, practice)
    with app.app_context():
        services.advance_review(db, people["clinician"], review.id, "results_released")
        # A person may not prepare: the review can still be held.
        services.advance_review(db, people["clinician"], review.id, "held")
        with pytest.raises(ReviewError, match="only moves forward"):
            services.advance_review(db, people["clinician"], review.id, "prepared")
        with pytest.raises(ReviewError, match="not a step"):
            services.advance_review(db, people["clinician"], review.id, "cancelled")
    db.expire_all()
    assert db.get(Review, review.id).status == "held"
    statuses = db.exec(select(AuditEvent.detail).where(AuditEvent.action == "review.status")).all()
    assert len(statuses) == 2
