"""The agreed plan without HTTP: both sides agree the same words, the clinician adds actions
and a note, the plan carries the date and both names, and it exports as valid FHIR R4."""

from __future__ import annotations

import datetime as dt

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from webapp.accounts.models import Practice, Role
from webapp.accounts.services import load_actor
from webapp.goals import plan as plans
from webapp.goals import services as goals
from webapp.goals.fhir import careplan_bundle
from webapp.goals.models import GoalEvent
from webapp.goals.services import GoalError
from webapp.planning.models import Goal
from webapp.reviews import services as reviews
from webapp.reviews.models import ReviewStatus

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def people(app, db, patient, clinician, practice):
    admin = add_person(db, "Ade Admin", "ade@example.org", (practice, Role.ADMIN))
    other = Practice(name="Hillside Surgery")
    db.add(other)
    db.commit()
    stranger = add_person(db, "Sol Other", "sol@example.org", (other, Role.CLINICIAN))
    with app.test_request_context():
        yield (
            load_actor(db, patient),
            load_actor(db, clinician),
            load_actor(db, admin),
            load_actor(db, stranger),
        )


def _shared_goal(db, pat, priya, practice, text="Walk to the shop every weekday", share=True):
    goal = goals.create_goal(db, pat, pat.id, {"text": text, "why": "To stay steady"}, TODAY)
    when = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    review = reviews.create_review(db, priya, practice.id, pat.id, when, priya.id)
    db.refresh(goal)
    goal.shared = share
    db.commit()
    return goal, review


def test_a_goal_is_agreed_when_both_sides_agree(db, people, practice):
    pat, priya, _admin, _stranger = people
    goal, review = _shared_goal(db, pat, priya, practice)
    goal = plans.agree(db, priya, goal.id, "clinician", True, goal.version)
    assert goal.status == "draft" and goal.clinician_agreed_at and goal.agreed_by_id == priya.id
    assert plans.current_plan(db, pat, pat.id).plan is None
    waiting = plans.current_plan(db, pat, pat.id).waiting
    assert [g.id for g in waiting] == [goal.id]
    goal = plans.agree(db, pat, goal.id, "person", True, goal.version)
    assert goal.status == "agreed"
    db.refresh(review)
    assert review.status != ReviewStatus.PLAN_AGREED  # agreed ahead: the review stays open
    current = plans.current_plan(db, pat, pat.id)
    assert [g.id for g in current.goals] == [goal.id] and current.waiting == []
    assert current.person_name == "Pat Morgan" and current.clinician_name == "Priya Shah"
    assert current.agreed_on is not None
    whats = [e.what for e in db.exec(select(GoalEvent).where(GoalEvent.goal_id == goal.id))]
    assert whats.count("agreed_by") == 2 and "agreed" in whats


def test_changing_a_drafts_words_asks_both_to_agree_again(db, people, practice):
    pat, priya, _admin, _stranger = people
    goal, _review = _shared_goal(db, pat, priya, practice)
    goal = plans.agree(db, priya, goal.id, "clinician", True, goal.version)
    seen = goal.version
    goal = goals.update_goal(db, pat, goal.id, {"text": "Walk to the park"}, seen, TODAY)
    assert goal.clinician_agreed_at is None and goal.agreed_by_id is None
    # The person agrees; the clinician's page still shows the old words: refused.
    goal = plans.agree(db, pat, goal.id, "person", True, goal.version)
    with pytest.raises(GoalError, match="changed since the page was opened"):
        plans.agree(db, priya, goal.id, "clinician", True, seen)
    db.refresh(goal)
    assert goal.status == "draft" and goal.clinician_agreed_at is None


def test_agreement_can_be_taken_back_before_both_agree(db, people, practice):
    pat, priya, _admin, _stranger = people
    goal, _review = _shared_goal(db, pat, priya, practice)
    goal = plans.agree(db, pat, goal.id, "person", True, goal.version)
    goal = plans.agree(db, pat, goal.id, "person", False, goal.version)
    assert goal.person_agreed_at is None and goal.status == "draft"
    goal = plans.agree(db, pat, goal.id, "person", True, goal.version)
    goal = plans.agree(db, priya, goal.id, "clinician", True, goal.version)
    assert goal.status == "agreed"
    with pytest.raises(GoalError, match="already"):
        plans.agree(db, pat, goal.id, "person", False, goal.version)


def test_a_private_goal_or_one_without_a_review_cannot_be_agreed(db, people, practice):
    pat, priya, _admin, _stranger = people
    private, _review = _shared_goal(db, pat, priya, practice, share=False)
    with pytest.raises(NotFound):
        plans.agree(db, priya, private.id, "clinician", True, private.version)
    with pytest.raises(GoalError, match="Share this goal"):
        plans.agree(db, pat, private.id, "person", True, private.version)
    loose = goals.create_goal(db, pat, pat.id, {"text": "Sleep by eleven"}, TODAY)
    with pytest.raises(GoalError, match="Goals are agreed at a review"):
        plans.agree(db, pat, loose.id, "person", True, loose.version)


def test_only_this_practices_clinicians_agree_and_add_actions(db, people, practice):
    pat, priya, admin, stranger = people
    goal, review = _shared_goal(db, pat, priya, practice)
    for who in (admin, stranger, pat):
        with pytest.raises(NotFound):
            plans.agree(db, who, goal.id, "clinician", True, goal.version)
        with pytest.raises(NotFound):
            plans.add_care_team_action(db, who, goal.id, {"text": "Refer to walking group"})
        with pytest.raises(NotFound):
            plans.set_note(db, who, review.id, "A note")
    with pytest.raises(NotFound):
        plans.review_plan(db, stranger, review.id, record=False)
    # The practice's admin reads the shared goals (to prepare) but does not agree them.
    assert [g.id for g in plans.review_plan(db, admin, review.id, record=False).goals] == [goal.id]
    with pytest.raises(NotFound):
        plans.agree(db, pat, goal.id + 999, "person", True, 1)


def test_staff_see_only_shared_goals(db, people, practice):
    pat, priya, _admin, _stranger = people
    shared, review = _shared_goal(db, pat, priya, practice)
    private = goals.create_goal(db, pat, pat.id, {"text": "A private hope"}, TODAY)
    private.review_id = review.id
    db.commit()
    found = plans.review_plan(db, priya, review.id, record=True)
    assert [g.id for g in found.goals] == [shared.id]


def test_care_team_actions_and_note(db, people, practice):
    pat, priya, _admin, _stranger = people
    goal, review = _shared_goal(db, pat, priya, practice)
    action = plans.add_care_team_action(
        db,
        priya,
        goal.id,
        {"text": "Refer to the walking group", "when": "this week", "owner": "me"},
    )
    assert action.owner == "care_team" and action.created_by_id == priya.id
    with pytest.raises(GoalError) as error:
        plans.add_care_team_action(db, priya, goal.id, {"text": " "})
    assert error.value.problems["text"] == "Say what the action is."
    with pytest.raises(GoalError) as error:
        plans.set_note(db, priya, review.id, "x" * 2001)
    assert "2000 characters" in error.value.problems["note"]
    plans.set_note(db, priya, review.id, "Pat will try the group; we review in three months.")
    goal = plans.agree(db, priya, goal.id, "clinician", True, goal.version)
    plans.agree(db, pat, goal.id, "person", True, goal.version)
    current = plans.current_plan(db, pat, pat.id)
    assert current.plan.note.startswith("Pat will try")
    assert [a.text for a in current.actions[goal.id]] == ["Refer to the walking group"]


def test_the_plan_exports_as_valid_fhir_r4(db, people, practice):
    pat, priya, _admin, _stranger = people
    goal, review = _shared_goal(db, pat, priya, practice)
    goals.update_goal(
        db,
        pat,
        goal.id,
        {"text": goal.text, "target_date": "2027-03-01", "if_then": "If it rains, I walk indoors"},
        goal.version,
        TODAY,
    )
    goals.add_action(
        db,
        pat,
        goal.id,
        {"text": "Walk with Sam", "owner": "carer", "who": "Sam", "when": "Saturdays"},
    )
    plans.add_care_team_action(db, priya, goal.id, {"text": "Refer to the walking group"})
    plans.set_note(db, priya, review.id, "Review in three months.")
    plans.set_person_note(db, pat, pat.id, "I would like the group on Tuesdays.")
    db.refresh(goal)
    goal = plans.agree(db, priya, goal.id, "clinician", True, goal.version)
    plans.agree(db, pat, goal.id, "person", True, goal.version)
    current = plans.current_plan(db, pat, pat.id)
    bundle = careplan_bundle(current, pat.id, "9434765919")
    parsed = Bundle.model_validate(bundle)
    kinds = [entry.resource.get_resource_type() for entry in parsed.entry]
    assert kinds == ["Patient", "CarePlan", "Goal"]
    careplan = bundle["entry"][1]["resource"]
    fhir_goal = bundle["entry"][2]["resource"]
    assert careplan["status"] == "active" and careplan["intent"] == "plan"
    assert careplan["goal"][0]["reference"] == bundle["entry"][2]["fullUrl"]
    assert careplan["author"]["display"] == "Priya Shah"
    assert careplan["note"] == [
        {"authorString": "Pat Morgan", "text": "I would like the group on Tuesdays."},
        {"authorString": "Priya Shah", "text": "Review in three months."},
    ]
    performers = [a["detail"]["performer"][0]["display"] for a in careplan["activity"]]
    assert performers == ["Sam", "The care team"]
    assert fhir_goal["lifecycleStatus"] == "active"
    assert fhir_goal["description"]["text"] == "Walk to the shop every weekday"
    assert fhir_goal["target"] == [{"dueDate": "2027-03-01"}]
    patient = bundle["entry"][0]["resource"]
    assert patient["identifier"][0]["value"] == "9434765919"
    # The same plan exports with the same identifiers.
    again = careplan_bundle(current, pat.id, "9434765919")
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]


def test_no_plan_no_export(db, people):
    pat, *_rest = people
    with pytest.raises(ValueError):
        careplan_bundle(plans.current_plan(db, pat, pat.id), pat.id, None)


def test_the_person_adds_their_own_note_for_the_coming_review(db, people, practice):
    pat, priya, _admin, _stranger = people
    with pytest.raises(GoalError) as error:
        plans.set_person_note(db, pat, pat.id, "Before any review")
    assert "Once one is booked" in error.value.problems["person_note"]
    _goal, review = _shared_goal(db, pat, priya, practice)
    with pytest.raises(GoalError) as error:
        plans.set_person_note(db, pat, pat.id, "z" * 2001)
    assert "2000 characters" in error.value.problems["person_note"]
    plans.set_person_note(db, pat, pat.id, "  Mornings are hard for me.  ")
    assert plans.coming_plan(db, pat, pat.id).person_note == "Mornings are hard for me."
    assert plans.review_plan(db, priya, review.id, record=False).plan.person_note.startswith(
        "Mornings"
    )


def test_at_the_review_the_plan_is_agreed_when_no_shared_draft_waits(db, people, practice):
    pat, priya, _admin, _stranger = people
    first, review = _shared_goal(db, pat, priya, practice)
    second = Goal(patient_id=pat.id, review_id=review.id, text="Sleep by eleven", shared=True)
    db.add(second)
    review.scheduled_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # it has begun
    db.commit()
    for goal in (first, second):
        db.refresh(goal)
        goal = plans.agree(db, priya, goal.id, "clinician", True, goal.version)
        goal = plans.agree(db, pat, goal.id, "person", True, goal.version)
        db.refresh(review)
        done = goal.id == second.id
        assert (review.status == ReviewStatus.PLAN_AGREED) == done


def test_agreeing_twice_at_once_is_refused_for_the_second(app, db, people, practice):
    from sqlmodel import Session

    pat, priya, _admin, _stranger = people
    goal, _review = _shared_goal(db, pat, priya, practice)
    seen = goal.version
    with Session(app.extensions["db_engine"], expire_on_commit=False) as other:
        plans.agree(other, priya, goal.id, "clinician", True, seen)
    with pytest.raises(GoalError, match="changed since the page was opened"):
        plans.agree(db, pat, goal.id, "person", True, seen)
    db.refresh(goal)
    goal = plans.agree(db, pat, goal.id, "person", True, goal.version)
    assert goal.status == "agreed"


def test_staff_never_agree_or_score_their_own_goals(db, practice, clinician, patient, app):
    from webapp.goals import lookback

    both = add_person(
        db, "Sam Both", "sam@example.org", (practice, Role.CLINICIAN), (practice, Role.PATIENT)
    )
    with app.test_request_context():
        sam = load_actor(db, both)
        priya = load_actor(db, clinician)
        goal, _review = _shared_goal(db, sam, priya, practice)
        with pytest.raises(NotFound):
            plans.agree(db, sam, goal.id, "clinician", True, goal.version)
        with pytest.raises(NotFound):
            lookback.score(db, sam, goal.id, "clinician", "0")


def test_an_agreed_goal_keeps_its_words_and_stays_in_the_plan(db, people, practice):
    pat, priya, _admin, _stranger = people
    goal, _review = _shared_goal(db, pat, priya, practice)
    goal = plans.agree(db, priya, goal.id, "clinician", True, goal.version)
    goal = plans.agree(db, pat, goal.id, "person", True, goal.version)
    with pytest.raises(GoalError, match="as agreed with your care team"):
        goals.update_goal(db, pat, goal.id, {"text": "Something else"}, goal.version, TODAY)
    with pytest.raises(GoalError, match="stays in your plan"):
        goals.set_status(db, pat, goal.id, "draft", goal.version)
    from webapp.planning import summary

    with pytest.raises(summary.EditError, match="agreed with your care team"):
        summary.edit(db, pat, "goal", goal.id, {"text": "Something else"})
    with pytest.raises(summary.EditError):
        summary.remove(db, pat, "goal", goal.id)
    db.refresh(goal)
    assert goal.text == "Walk to the shop every weekday" and goal.status == "agreed"
    goals.set_status(db, pat, goal.id, "achieved", goal.version)
    assert [g.status for g in plans.current_plan(db, pat, pat.id).goals] == ["achieved"]
