"""A year and a half of care, with the clock moved through three reviews and a fourth booked:
the plan carries from review to review until a goal is achieved, changed or stopped; every
goal in the plan since the last review is looked back on, on both sides; each review's page
tells what was carried over, what changed and what is new; the FHIR download and the
outcomes follow the same rule, counting each look back once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import select

from webapp.accounts.services import load_actor
from webapp.goals import cycle, lookback
from webapp.goals import plan as plans
from webapp.goals import services as goals
from webapp.goals.fhir import careplan_bundle
from webapp.goals.models import GoalScore
from webapp.outcomes import services as outcomes
from webapp.planning.models import Goal
from webapp.reviews import services as reviews
from webapp.reviews.models import ReviewStatus

UTC = dt.UTC
R1 = dt.datetime(2027, 1, 15, 10, tzinfo=UTC)
R2 = dt.datetime(2027, 7, 15, 10, tzinfo=UTC)
R3 = dt.datetime(2028, 1, 14, 10, tzinfo=UTC)
R4 = dt.datetime(2028, 7, 14, 10, tzinfo=UTC)


class Year:
    """Pat and Dr Shah going round the review cycle, with the clock in hand."""

    def __init__(self, db, pat, priya, practice, clock):
        self.db, self.pat, self.priya, self.practice, self.clock = db, pat, priya, practice, clock
        self.goal: dict[str, int] = {}

    def at(self, moment: dt.datetime) -> None:
        self.clock.move_to(moment)

    def book(self, when: dt.datetime):
        return reviews.create_review(
            self.db, self.priya, self.practice.id, self.pat.id, when, self.priya.id
        )

    def draft(self, name: str, words: str, review) -> None:
        made = goals.create_goal(self.db, self.pat, self.pat.id, {"text": words})
        made.shared, made.review_id = True, review.id
        self.db.commit()
        self.goal[name] = made.id

    def get(self, name: str) -> Goal:
        found = self.db.get(Goal, self.goal[name])
        self.db.refresh(found)
        return found

    def agree(self, *names: str) -> None:
        for name in names:
            plans.agree(
                self.db, self.priya, self.goal[name], "clinician", True, self.get(name).version
            )
            plans.agree(self.db, self.pat, self.goal[name], "person", True, self.get(name).version)

    def mark(self, name: str, status: str) -> None:
        goals.set_status(self.db, self.pat, self.goal[name], status, self.get(name).version)

    def plan_now(self) -> list[str]:
        current = plans.current_plan(self.db, self.pat, self.pat.id)
        return [self.name_of(g.id) for g in current.goals if g.status == "agreed"]

    def name_of(self, goal_id: int) -> str:
        return next(name for name, found in self.goal.items() if found == goal_id)

    def to_look_back(self) -> list[str]:
        return [self.name_of(g.id) for g in lookback.mine(self.db, self.pat, self.pat.id).goals]

    def look_back(self, scores: dict[str, int]) -> None:
        for name, value in scores.items():
            lookback.score(self.db, self.pat, self.goal[name], "person", str(value))

    def clinician_looks_back(self, review, scores: dict[str, int]) -> None:
        for name, value in scores.items():
            lookback.score(
                self.db, self.priya, self.goal[name], "clinician", str(value), "", review.id
            )

    def staff_look_back(self, review) -> list[str]:
        return [
            self.name_of(g.id) for g in lookback.before_review(self.db, self.priya, review).goals
        ]


@pytest.fixture
def year(app, db, patient, clinician, practice):
    with (
        app.test_request_context(),
        time_machine.travel(dt.datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False) as clock,
    ):
        yield Year(db, load_actor(db, patient), load_actor(db, clinician), practice, clock)


def test_the_plan_carries_over_through_three_reviews(db, year, monkeypatch):
    # January: the first review. Four goals agreed.
    first = year.book(R1)
    for name, words in [
        ("walk", "Walk to the shop every weekday"),
        ("sugar", "No sugar in my tea"),
        ("sleep", "In bed by eleven"),
        ("swim", "Swim once a week"),
    ]:
        year.draft(name, words, first)
    year.at(R1 + dt.timedelta(minutes=20))
    year.agree("walk", "sugar", "sleep", "swim")
    assert db.get(type(first), first.id).status == ReviewStatus.PLAN_AGREED
    assert year.plan_now() == ["walk", "sugar", "sleep", "swim"]

    # Spring: progress, sugar achieved, sleep stopped. The second review is booked.
    year.at(dt.datetime(2027, 3, 1, 8, tzinfo=UTC))
    goals.log_progress(db, year.pat, year.goal["walk"], {"outcome": "did"}, "k-walk-1")
    year.mark("sugar", "achieved")
    year.at(dt.datetime(2027, 5, 2, 8, tzinfo=UTC))
    year.mark("sleep", "stopped")
    second = year.book(R2)
    assert year.plan_now() == ["walk", "swim"]

    # Before the second review: every goal in the plan since January is looked back on,
    # the ones that left it since included, on both sides.
    year.at(dt.datetime(2027, 7, 1, 8, tzinfo=UTC))
    assert year.to_look_back() == ["walk", "sugar", "sleep", "swim"]
    year.look_back({"walk": 1, "sugar": 2, "sleep": -1, "swim": 0})
    year.at(R2 + dt.timedelta(minutes=10))
    assert year.staff_look_back(second) == ["walk", "sugar", "sleep", "swim"]
    year.clinician_looks_back(second, {"walk": 1, "sugar": 1, "sleep": -1, "swim": 0})
    at_second = plans.review_plan(db, year.priya, second.id, record=False)
    assert [year.name_of(g.id) for g in at_second.across.carried] == ["walk", "swim"]
    assert [year.name_of(g.id) for g in at_second.across.ended] == ["sugar", "sleep"]
    # One new goal agreed at the second review.
    year.draft("cook", "Cook from scratch twice a week", second)
    year.agree("cook")
    assert year.plan_now() == ["walk", "swim", "cook"]
    assert [year.name_of(g.id) for g in at_second.goals] == []  # read before it was added
    at_second = plans.review_plan(db, year.priya, second.id, record=False)
    assert [year.name_of(g.id) for g in at_second.goals] == ["cook"]

    # The autumn: swimming changed (the pool closed); the third review booked.
    year.at(dt.datetime(2027, 10, 5, 8, tzinfo=UTC))
    year.mark("swim", "changed")
    third = year.book(R3)
    # The June goals are not lost: walking is in the plan, carried over once.
    assert year.plan_now() == ["walk", "cook"]
    year.at(dt.datetime(2028, 1, 3, 8, tzinfo=UTC))
    assert year.to_look_back() == ["walk", "swim", "cook"]
    year.look_back({"walk": 2, "swim": -2, "cook": 0})
    year.at(R3 + dt.timedelta(minutes=10))
    assert year.staff_look_back(third) == ["walk", "swim", "cook"]
    year.clinician_looks_back(third, {"walk": 2, "swim": -1, "cook": 0})
    at_third = plans.review_plan(db, year.priya, third.id, record=False)
    assert [year.name_of(g.id) for g in at_third.across.carried] == ["walk", "cook"]
    assert [year.name_of(g.id) for g in at_third.across.ended] == ["swim"]
    year.draft("aqua", "Aqua class on Tuesdays", third)
    year.agree("aqua")

    # After the third review: walking carried over twice, and looked back on three times.
    fourth_booked = dt.datetime(2028, 2, 1, 8, tzinfo=UTC)
    year.at(fourth_booked)
    fourth = year.book(R4)
    assert year.plan_now() == ["walk", "cook", "aqua"]
    assert year.to_look_back() == ["walk", "cook", "aqua"]
    year.at(dt.datetime(2028, 7, 1, 8, tzinfo=UTC))
    year.look_back({"walk": 1, "cook": 1, "aqua": 0})
    assert year.staff_look_back(fourth) == ["walk", "cook", "aqua"]
    walk_scores = db.exec(
        select(GoalScore.for_review_id, GoalScore.score)
        .where(GoalScore.goal_id == year.goal["walk"], GoalScore.side == "person")
        .order_by(GoalScore.scored_at)
    ).all()
    assert walk_scores == [(second.id, 1), (third.id, 2), (fourth.id, 1)]

    # Earlier reviews' pages still show their own look back.
    assert year.staff_look_back(second) == ["walk", "sugar", "sleep", "swim"]
    earlier = lookback.before_review(db, year.priya, second)
    walk = db.get(Goal, year.goal["walk"])
    assert earlier.of(walk, "person").score == 1 and earlier.of(walk, "clinician").score == 1

    # The FHIR download: the current plan active with every goal in it; earlier ones completed.
    current = plans.current_plan(db, year.pat, year.pat.id)
    stages = cycle.history(db, year.pat.id)
    assert [s.status for s in stages] == ["active", "completed", "completed"]
    bundle = careplan_bundle(current, year.pat.id, None, stages[1:])
    Bundle.model_validate(bundle)
    careplans = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"
    ]
    assert [c["status"] for c in careplans] == ["active", "completed", "completed"]
    goal_status = {
        e["resource"]["description"]["text"]: e["resource"]["lifecycleStatus"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Goal"
    }
    assert goal_status == {
        "Walk to the shop every weekday": "active",
        "Cook from scratch twice a week": "active",
        "Aqua class on Tuesdays": "active",
        "No sugar in my tea": "completed",
        "In bed by eleven": "cancelled",
        "Swim once a week": "cancelled",
    }
    assert len(careplans[0]["goal"]) == 3

    # The outcomes count each look back once: 4 in 2027 Q3 (before July), 3 in 2028 Q1,
    # 3 in 2028 Q3 (not yet a finished quarter in July).
    monkeypatch.setattr(outcomes, "SMALLEST", 1)
    year.at(dt.datetime(2028, 7, 2, 8, tzinfo=UTC))
    found = outcomes.practice_outcomes(db, year.priya, year.practice.id)
    scored = {q.label: q.cells["gas_mean"] for q in found.quarters}
    assert scored["2027 Q3"].value == pytest.approx((1 + 2 - 1 + 0) / 4)
    assert scored["2028 Q1"].value == pytest.approx((2 - 2 + 0) / 3)


def test_a_stopped_goal_is_looked_back_on_once_and_not_again(db, year):
    first = year.book(R1)
    year.draft("walk", "Walk every day", first)
    year.draft("read", "Read before bed", first)
    year.at(R1 + dt.timedelta(minutes=5))
    year.agree("walk", "read")
    year.at(dt.datetime(2027, 4, 1, 8, tzinfo=UTC))
    year.mark("read", "stopped")
    second = year.book(R2)
    year.at(dt.datetime(2027, 7, 10, 8, tzinfo=UTC))
    assert year.to_look_back() == ["walk", "read"]
    year.look_back({"read": -1})
    year.at(R2 + dt.timedelta(days=2))  # the second review is behind them now
    # No third review yet: walking waits for one to be booked, and says so.
    assert year.to_look_back() == []
    waiting = lookback.mine(db, year.pat, year.pat.id).unbooked
    assert [year.name_of(g.id) for g in waiting] == ["walk"]
    with pytest.raises(goals.GoalError, match="Once it is booked"):
        year.look_back({"walk": 0})
    with pytest.raises(goals.GoalError, match="left the plan before the last review"):
        year.look_back({"read": 0})
    year.book(R3)
    assert year.to_look_back() == ["walk"]
    # The stopped goal is no longer in the plan; walking is, carried over.
    assert year.plan_now() == ["walk"]
    assert year.staff_look_back(second) == ["walk", "read"]


def test_a_goal_ended_during_its_review_belongs_to_the_stretch_before(db, year):
    first = year.book(R1)
    year.draft("walk", "Walk every day", first)
    year.draft("read", "Read before bed", first)
    year.at(R1 + dt.timedelta(minutes=5))
    year.agree("walk", "read")
    second = year.book(R2)
    third = year.book(R3)
    # At the second review, after a new goal is agreed (the review's plan agreed at 10:10),
    # Pat looks back and marks reading achieved at 10:30: both belong to the second review.
    year.draft("cook", "Cook twice a week", second)
    year.at(R2 + dt.timedelta(minutes=10))
    year.agree("cook")
    year.at(R2 + dt.timedelta(minutes=20))
    assert year.to_look_back() == ["walk", "read"]
    year.look_back({"walk": 1, "read": 2})
    year.at(R2 + dt.timedelta(minutes=30))
    year.mark("read", "achieved")
    assert year.staff_look_back(second) == ["walk", "read"]
    scores = lookback.before_review(db, year.priya, second)
    assert {year.name_of(g.id): scores.of(g, "person").score for g in scores.goals} == {
        "walk": 1,
        "read": 2,
    }
    at_second = plans.review_plan(db, year.priya, second.id, record=False)
    assert [year.name_of(g.id) for g in at_second.across.ended] == ["read"]
    # Reading shows as achieved in the plan until the second review is behind Pat; then it
    # is gone, and it is not looked back on again before the third.
    assert [year.name_of(g.id) for g in plans.current_plan(db, year.pat, year.pat.id).goals] == [
        "walk",
        "read",
        "cook",
    ]
    year.at(R2 + dt.timedelta(days=1))
    assert year.plan_now() == ["walk", "cook"]
    assert "read" not in [
        year.name_of(g.id) for g in plans.current_plan(db, year.pat, year.pat.id).goals
    ]
    assert year.to_look_back() == ["walk", "cook"]
    assert year.staff_look_back(third) == ["walk", "cook"]
    at_third = plans.review_plan(db, year.priya, third.id, record=False)
    assert at_third.across.ended == []


def test_a_plan_marked_agreed_early_or_a_review_moved_keeps_each_look_back_with_its_review(
    db, year
):
    first = year.book(R1)
    year.draft("walk", "Walk every day", first)
    year.at(R1 + dt.timedelta(minutes=5))
    year.agree("walk")
    second = year.book(R2)
    year.at(dt.datetime(2027, 7, 1, 8, tzinfo=UTC))
    year.look_back({"walk": 1})
    # Staff mark the second review's plan agreed a fortnight early, by mistake: nothing moves.
    reviews.advance_review(db, year.priya, second.id, ReviewStatus.PLAN_AGREED)
    assert year.to_look_back() == ["walk"]
    assert lookback.mine(db, year.pat, year.pat.id).of(db.get(Goal, year.goal["walk"]), "person")
    # Pat misses the review; it is moved to August. The look back stays with it.
    year.at(R2 + dt.timedelta(days=2))
    second = db.get(type(second), second.id)
    second.scheduled_at = dt.datetime(2027, 8, 20, 10, tzinfo=UTC)
    db.commit()
    found = lookback.mine(db, year.pat, year.pat.id)
    walk = db.get(Goal, year.goal["walk"])
    assert found.target[walk.id].id == second.id and found.of(walk, "person").score == 1


def test_a_goal_agreed_late_is_not_looked_back_on_before_reviews_it_missed(db, year):
    first = year.book(R1)
    second = year.book(R2)
    third = year.book(R3)
    year.draft("walk", "Walk every day", first)
    # Only agreed in September, after the second review, though drafted for the first.
    year.at(dt.datetime(2027, 9, 1, 9, tzinfo=UTC))
    year.agree("walk")
    assert year.staff_look_back(second) == []
    assert year.to_look_back() == ["walk"]
    assert lookback.mine(db, year.pat, year.pat.id).target[year.goal["walk"]].id == third.id


def test_each_practice_looks_back_on_its_own_goals(db, year, app):
    from tests.conftest import add_person
    from webapp.accounts.models import Practice, PracticeRole, Role

    first = year.book(R1)
    year.draft("walk", "Walk every day", first)
    year.at(R1 + dt.timedelta(minutes=5))
    year.agree("walk")
    # Pat moves to Hillside, whose clinician books her next review.
    hillside = Practice(name="Hillside Surgery")
    db.add(hillside)
    db.commit()
    db.add(PracticeRole(person_id=year.pat.id, practice_id=hillside.id, role=Role.PATIENT))
    sol = add_person(db, "Sol Other", "sol@example.org", (hillside, Role.CLINICIAN))
    sol = load_actor(db, sol)
    there = reviews.create_review(db, sol, hillside.id, year.pat.id, R2, sol.id)
    # Riverside's goal waits for a Riverside review; Hillside's page does not show it.
    assert year.to_look_back() == []
    assert lookback.before_review(db, sol, there).goals == []
    assert [year.name_of(g.id) for g in lookback.mine(db, year.pat, year.pat.id).unbooked] == [
        "walk"
    ]


def test_a_review_that_agreed_nothing_new_still_shows_its_note(db, year):
    first = year.book(R1)
    year.draft("walk", "Walk every day", first)
    year.at(R1 + dt.timedelta(minutes=5))
    year.agree("walk")
    second = year.book(R2)
    year.at(R2 + dt.timedelta(minutes=30))
    plans.set_note(db, year.priya, second.id, "Keep walking; we look again in the new year.")
    year.at(R2 + dt.timedelta(days=1))
    current = plans.current_plan(db, year.pat, year.pat.id)
    assert current.plan.note == "Keep walking; we look again in the new year."
    assert current.agreed_on == R2
    assert [year.name_of(g.id) for g in current.goals] == ["walk"]


def test_an_agreed_goal_never_goes_back_to_a_draft(db, year):
    first = year.book(R1)
    year.draft("walk", "Walk every day", first)
    year.at(R1 + dt.timedelta(minutes=5))
    year.agree("walk")
    year.mark("walk", "achieved")
    with pytest.raises(goals.GoalError, match="stays in your plan"):
        year.mark("walk", "draft")
    assert year.get("walk").person_agreed_at is not None


def test_a_goal_drafted_for_one_review_and_agreed_at_the_next_is_new_there(db, year):
    first = year.book(R1)
    second = year.book(R2)
    third = year.book(R3)
    year.draft("walk", "Walk every day", first)
    year.draft("cook", "Cook twice a week", second)
    # Neither is agreed until the second review, in the room.
    year.at(R2 + dt.timedelta(minutes=10))
    year.agree("walk", "cook")
    assert year.staff_look_back(second) == []
    at_second = plans.review_plan(db, year.priya, second.id, record=False)
    assert at_second.across.carried == [] and at_second.across.ended == []
    current = plans.current_plan(db, year.pat, year.pat.id)
    walk = year.get("walk")
    assert current.agreed_at_review[walk.id].id == second.id
    assert not current.carried_over(walk)
    # Both are looked back on once, before the third review.
    assert year.to_look_back() == ["walk", "cook"]
    assert year.staff_look_back(third) == ["walk", "cook"]


def test_both_fhir_downloads_name_the_same_current_plan_after_a_note_only_review(db, year):
    from webapp.rights import fhir as rights_fhir

    first = year.book(R1)
    year.draft("walk", "Walk every day", first)
    year.at(R1 + dt.timedelta(minutes=5))
    year.agree("walk")
    second = year.book(R2)
    year.at(R2 + dt.timedelta(minutes=30))
    plans.set_note(db, year.priya, second.id, "Carry on as you are.")
    year.at(R2 + dt.timedelta(days=1))
    current = plans.current_plan(db, year.pat, year.pat.id)
    stages = cycle.history(db, year.pat.id)
    assert [s.review.id for s in stages] == [second.id, first.id]
    earlier = [s for s in stages if s.plan.id != current.plan.id]
    mine = careplan_bundle(current, year.pat.id, None, earlier)
    everything = rights_fhir.everything_bundle(db, year.pat, year.pat.id)

    def careplans(bundle):
        return sorted(
            (e["fullUrl"], e["resource"]["status"])
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "CarePlan"
        )

    assert careplans(mine) == careplans(everything)
    assert sorted(status for _url, status in careplans(mine)) == ["active", "completed"]


def test_a_look_back_given_before_any_later_review_was_booked_joins_the_next_one(db, year):
    first = year.book(R1)
    year.draft("walk", "Walk every day", first)
    year.at(R1 + dt.timedelta(minutes=5))
    year.agree("walk")
    # A score kept from before looking back was tied to a review.
    db.add(GoalScore(goal_id=year.goal["walk"], patient_id=year.pat.id, side="person", score=2))
    db.commit()
    year.at(dt.datetime(2027, 3, 1, 9, tzinfo=UTC))
    second = year.book(R2)
    found = lookback.mine(db, year.pat, year.pat.id)
    walk = year.get("walk")
    assert found.target[walk.id].id == second.id and found.of(walk, "person").score == 2


def test_a_care_team_action_on_a_carried_over_goal_keeps_the_page_and_the_words(
    app, client, db, year, clinician
):
    from tests.conftest import sign_in

    first = year.book(R1)
    year.draft("walk", "Walk every day", first)
    year.at(R1 + dt.timedelta(minutes=5))
    year.agree("walk")
    second = year.book(R2)
    year.at(R2 + dt.timedelta(minutes=5))
    sign_in(app, client, clinician)
    url = f"/reviews/plan/goals/{year.goal['walk']}/actions"
    form = {"text": "", "who": "The practice nurse", "review": str(second.id)}
    refused = client.form(url, form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f'id="action-text-{year.goal["walk"]}-error"' in page
    assert 'value="The practice nurse"' in page and '<details class="edit" open>' in page
    done = client.form(url, {**form, "text": "Book a foot check"})
    assert done.status_code == 303 and done.location.endswith(f"/reviews/{second.id}/plan")
