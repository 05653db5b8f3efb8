"""Looking back on agreed goals: the person scores first, in their words, then a clinician;
the scale runs from -2 to +2; the T-score is the standard one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person, make_app, sign_in
from webapp.accounts.models import Practice, Role
from webapp.accounts.services import load_actor
from webapp.goals import lookback
from webapp.goals.models import CarePlan, GoalEvent, GoalScore
from webapp.goals.services import GoalError
from webapp.planning.models import Goal
from webapp.reviews import services as reviews


@pytest.fixture
def setting(app, db, patient, clinician, practice):
    """A plan agreed at a review three months ago, and the next review booked."""
    now = dt.datetime.now(dt.UTC)
    with app.test_request_context():
        priya = load_actor(db, clinician)
        earlier = reviews.create_review(
            db, priya, practice.id, patient.id, now + dt.timedelta(days=1)
        )
        later = reviews.create_review(
            db, priya, practice.id, patient.id, now + dt.timedelta(days=90)
        )
        goal = Goal(
            patient_id=patient.id,
            review_id=earlier.id,
            text="Walk every weekday",
            shared=True,
            status="agreed",
            person_agreed_at=now,
            clinician_agreed_at=now,
            agreed_by_id=clinician.id,
        )
        draft = Goal(patient_id=patient.id, review_id=earlier.id, text="Sleep", shared=True)
        db.add_all(
            [goal, draft, CarePlan(review_id=earlier.id, patient_id=patient.id, agreed_at=now)]
        )
        db.commit()
        yield load_actor(db, patient), priya, goal, draft, earlier, later


def test_the_t_score_is_the_standard_one():
    assert lookback.t_score([]) is None
    assert lookback.t_score([0, 0]) == 50
    assert lookback.t_score([2]) == pytest.approx(70)
    assert lookback.t_score([1, 1, 1]) == pytest.approx(50 + 30 / (4.8**0.5))
    assert lookback.t_score([-2, -2]) == pytest.approx(50 - 40 / (2.6**0.5))


def test_the_person_scores_first_then_the_clinician(db, setting):
    pat, priya, goal, _draft, _earlier, later = setting
    with pytest.raises(GoalError, match="own look back comes first"):
        lookback.score(db, priya, goal.id, "clinician", "1")
    lookback.score(db, pat, goal.id, "person", "1", "  Most weeks, not when it rained ")
    lookback.score(db, priya, goal.id, "clinician", "0", "As we hoped")
    found = lookback.mine(db, pat, pat.id)
    assert found.of(goal, "person").score == 1
    assert found.of(goal, "person").comment == "Most weeks, not when it rained"
    assert found.of(goal, "clinician").score == 0
    staff_view = lookback.before_review(db, priya, later)
    assert [g.id for g in staff_view.goals] == [goal.id]
    # A changed score replaces the last; the history keeps both.
    lookback.score(db, pat, goal.id, "person", "2")
    assert len(db.exec(select(GoalScore)).all()) == 2
    events = db.exec(select(GoalEvent).where(GoalEvent.what == "scored")).all()
    assert len(events) == 3


@pytest.mark.parametrize(
    ("value", "comment", "field"),
    [
        ("3", "", "score"),
        ("-3", "", "score"),
        ("", "", "score"),
        ("lots", "", "score"),
        ("1.5", "", "score"),
        ("0", "x" * 1001, "comment"),
    ],
)
def test_bad_scores_say_what_to_fix(db, setting, value, comment, field):
    pat, _priya, goal, *_rest = setting
    with pytest.raises(GoalError) as error:
        lookback.score(db, pat, goal.id, "person", value, comment)
    assert field in error.value.problems
    assert db.exec(select(GoalScore)).all() == []


def test_only_agreed_goals_and_only_this_practice(db, setting, practice):
    pat, priya, goal, draft, *_rest = setting
    with pytest.raises(GoalError, match="Only goals agreed"):
        lookback.score(db, pat, draft.id, "person", "0")
    other = Practice(name="Elsewhere")
    db.add(other)
    db.commit()
    stranger = add_person(db, "Sol", "sol@example.org", (other, Role.CLINICIAN))
    admin = add_person(db, "Ade", "ade@example.org", (practice, Role.ADMIN))
    lookback.score(db, pat, goal.id, "person", "0")
    for who in (stranger, admin):
        with pytest.raises(NotFound):
            lookback.score(db, load_actor(db, who), goal.id, "clinician", "0")
    with pytest.raises(NotFound):
        lookback.score(db, priya, goal.id, "person", "0")


def test_looking_back_through_http(app, client, db, patient, clinician, setting):
    _pat, _priya, goal, _draft, _earlier, later = setting
    sign_in(app, client, patient)
    page = client.get("/plan/look-back").get_data(as_text=True)
    assert "Walk every weekday" in page and "Much more than I expected" in page
    bad = client.form(f"/plan/goals/{goal.id}/score", {"comment": "Better than I thought"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Choose how it went" in body and "Better than I thought" in body
    done = client.form(f"/plan/goals/{goal.id}/score", {"score": "2", "comment": "Better"})
    assert done.status_code == 303
    assert "You said: Much more than I expected." in client.get("/plan/look-back").get_data(
        as_text=True
    )
    staff = make_app().test_client()
    sign_in(app, staff, clinician)
    review_page = staff.get(f"/reviews/{later.id}/plan").get_data(as_text=True)
    assert (
        "Looking back at the last plan" in review_page
        and "Much more than I expected (+2)" in review_page
    )
    scored = staff.form(
        f"/reviews/plan/goals/{goal.id}/score", {"score": "1", "review": str(later.id)}
    )
    assert scored.status_code == 303
    assert "You: A bit more than I expected (+1)." in staff.get(
        f"/reviews/{later.id}/plan"
    ).get_data(as_text=True)
