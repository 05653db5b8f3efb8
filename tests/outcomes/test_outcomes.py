"""Outcomes across patients: counted per quarter, small numbers suppressed in the page and the
CSV alike (totals included), for the practice's staff and commissioners only."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person, sign_in
from webapp.accounts.models import Practice, Role
from webapp.accounts.services import load_actor
from webapp.goals.models import GoalScore, ProgressEntry
from webapp.outcomes import services
from webapp.planning.models import Goal
from webapp.reviews.models import Review

TODAY = dt.date(2026, 11, 24)  # 2026 Q4; the quarters are 2026 Q1 to Q4


def _cohort(db, practice, count, when, prepared=0, scores=(), start=0):
    """Add `count` patients, each with a review at `when`; the first `prepared` got ready the
    day before; each has one agreed goal, scored from `scores` in turn, and one entry."""
    made = []
    for n in range(count):
        person = add_person(db, f"Patient {start + n}", None, (practice, Role.PATIENT))
        review = Review(
            practice_id=practice.id,
            patient_id=person.id,
            scheduled_at=when,
            prepared_at=when - dt.timedelta(days=1) if n < prepared else None,
            status="plan_agreed",
        )
        db.add(review)
        db.flush()
        goal = Goal(
            patient_id=person.id,
            review_id=review.id,
            text="Walk",
            status="agreed",
            shared=True,
            person_agreed_at=when,
            clinician_agreed_at=when,
        )
        db.add(goal)
        db.flush()
        if scores:
            db.add(
                GoalScore(
                    goal_id=goal.id,
                    patient_id=person.id,
                    side="person",
                    score=scores[n % len(scores)],
                    scored_at=when + dt.timedelta(days=2),
                    for_review_id=review.id,
                )
            )
        db.add(
            ProgressEntry(
                goal_id=goal.id,
                patient_id=person.id,
                outcome="did",
                key=f"k{start + n}",
                logged_at=when + dt.timedelta(days=3),
            )
        )
        made.append(person)
    db.commit()
    return made


@pytest.fixture
def staff(app, db, clinician):
    with app.test_request_context():
        yield load_actor(db, clinician)


def _q(outcomes, label):
    return next(q for q in outcomes.quarters if q.label == label)


def test_outcomes_per_quarter_with_the_standard_t_score(db, practice, staff):
    spring = dt.datetime(2026, 5, 10, 10, tzinfo=dt.UTC)
    _cohort(db, practice, 10, spring, prepared=5, scores=(0, 1, -1, 2, 0))
    found = services.practice_outcomes(db, staff, practice.id, TODAY)
    q2 = _q(found, "2026 Q2")
    assert q2.cells["reviews"].shown() == "10"
    assert q2.cells["prepared"].shown() == "50%"
    assert q2.cells["goals_agreed"].shown() == "10"
    assert q2.cells["gas_mean"].shown() == "+0.40"
    assert q2.cells["gas_t"].shown() == f"{services.t_score([0, 1, -1, 2, 0] * 2):.1f}"
    assert q2.cells["progress_people"].shown() == "10"
    assert _q(found, "2026 Q1").cells["reviews"].shown() == "0"
    assert found.totals["reviews"].shown() == "10"


def test_a_quarter_with_three_patients_is_suppressed_in_the_page_and_the_csv(
    app, client, db, practice, clinician, staff
):
    _cohort(db, practice, 3, dt.datetime(2026, 2, 10, 10, tzinfo=dt.UTC), prepared=2, scores=(1,))
    _cohort(db, practice, 12, dt.datetime(2026, 8, 10, 10, tzinfo=dt.UTC), prepared=6, start=50)
    found = services.practice_outcomes(db, staff, practice.id, TODAY)
    q1 = _q(found, "2026 Q1")
    assert all(cell.shown() == "fewer than 5" for cell in q1.cells.values())
    # The totals would give Q1 away (total minus Q3): suppressed too.
    assert found.totals["reviews"].shown() == "fewer than 5"
    assert found.totals["progress_entries"].shown() == "fewer than 5"
    q3 = _q(found, "2026 Q3")
    assert q3.cells["reviews"].shown() == "12" and q3.cells["prepared"].shown() == "50%"
    rows = list(csv.reader(io.StringIO(services.as_csv(found))))
    by_quarter = {row[0]: row[1:] for row in rows[1:]}
    assert by_quarter["2026 Q1"] == ["fewer than 5"] * 7
    assert by_quarter["2026 Q3"][0] == "12"
    assert by_quarter["All four quarters"][0] == "fewer than 5"
    sign_in(app, client, clinician)
    page = client.get(f"/outcomes/practices/{practice.id}").get_data(as_text=True)
    assert page.count("fewer than 5") >= 8 and '<td data-label="2026 Q3">12</td>' in page
    download = client.get(f"/outcomes/practices/{practice.id}/outcomes.csv")
    assert download.mimetype == "text/csv" and download.get_data(as_text=True) == services.as_csv(
        services.practice_outcomes(db, staff, practice.id)
    )


def test_a_percentage_hides_a_small_group_on_either_side(db, practice, staff):
    # 10 reviews, 8 prepared: the 2 who did not prepare are a group of fewer than 5.
    _cohort(db, practice, 10, dt.datetime(2026, 5, 10, 10, tzinfo=dt.UTC), prepared=8)
    found = services.practice_outcomes(db, staff, practice.id, TODAY)
    assert _q(found, "2026 Q2").cells["prepared"].shown() == "fewer than 5"
    assert _q(found, "2026 Q2").cells["reviews"].shown() == "10"
    assert found.totals["prepared"].shown() == "fewer than 5"


def test_only_staff_and_commissioners_of_the_practice_see_outcomes(db, app, practice, patient):
    commissioner = add_person(
        db, "Cam Commission", "cam@example.org", (practice, Role.COMMISSIONER)
    )
    other = Practice(name="Elsewhere")
    db.add(other)
    db.commit()
    stranger = add_person(db, "Sol", "sol@example.org", (other, Role.COMMISSIONER))
    with app.test_request_context():
        assert services.practice_outcomes(db, load_actor(db, commissioner), practice.id, TODAY)
        for who in (stranger, patient):
            with pytest.raises(NotFound):
                services.practice_outcomes(db, load_actor(db, who), practice.id, TODAY)
        # A commissioner is not staff: no person's record.
        from webapp.reviews import services as reviews

        with pytest.raises(NotFound):
            reviews.list_reviews(db, load_actor(db, commissioner), practice.id)
    assert db.exec(select(Review)).all() == []


def test_the_quarter_under_way_is_never_shown(db, practice, staff):
    _cohort(db, practice, 10, dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC), prepared=5)
    found = services.practice_outcomes(db, staff, practice.id, TODAY)
    assert [q.label for q in found.quarters] == ["2025 Q4", "2026 Q1", "2026 Q2", "2026 Q3"]
    assert found.totals["reviews"].shown() == "0"
