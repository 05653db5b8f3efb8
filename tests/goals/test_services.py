"""Goals and actions without HTTP: the person's words kept, every change recorded, no
silent overwrite, and clear messages for bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from webapp.accounts.models import Role
from webapp.accounts.services import load_actor
from webapp.goals import services as goals
from webapp.goals.models import GoalEvent

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def actor(app, db, patient):
    with app.test_request_context():
        yield load_actor(db, patient)


def new(db, actor, text="Walk to the shop every weekday", **form):
    return goals.create_goal(db, actor, actor.id, {"text": text, **form}, today=TODAY)


def test_a_goal_keeps_the_persons_words_exactly(db, actor):
    words = "lose weight before my brother's wedding!!  (in June)"
    goal = new(db, actor, f"  {words}\n", why="To dance", importance="8", target_date="2027-06-01")
    assert goal.text == words and goal.status == "draft" and not goal.shared
    assert (goal.why, goal.importance, goal.target_date) == ("To dance", 8, dt.date(2027, 6, 1))
    (event,) = goals.history(db, actor, goal.id)
    assert event[0].what == "created" and event[1] == "you"


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"text": "  "}, "text", "Write your goal in your own words."),
        ({"text": "x" * 1001}, "text", "Keep this to 1000 characters (it is 1001)."),
        ({"text": "Walk", "target_date": "2026-11-23"}, "target_date", "That date has passed."),
        ({"text": "Walk", "target_date": "next june"}, "target_date", "Enter the date like"),
        ({"text": "Walk", "importance": "11"}, "importance", "Choose a number from 0 to 10"),
        ({"text": "Walk", "confidence": "lots"}, "confidence", "Choose a number from 0 to 10"),
    ],
)
def test_bad_goals_name_the_field_and_what_to_do(db, actor, form, field, message):
    with pytest.raises(goals.GoalError) as error:
        goals.create_goal(db, actor, actor.id, form, today=TODAY)
    assert error.value.problems[field].startswith(message)
    assert goals.my_goals(db, actor, actor.id) == []


def test_edits_are_recorded_and_a_stale_edit_shows_both_versions(db, actor):
    goal = new(db, actor)
    seen = goal.version
    goals.update_goal(db, actor, goal.id, {"text": "Walk to the park"}, seen, today=TODAY)
    with pytest.raises(goals.GoalConflict) as conflict:  # the same old form, sent again
        goals.update_goal(db, actor, goal.id, {"text": "Walk with Jo"}, seen, today=TODAY)
    assert conflict.value.current.text == "Walk to the park"
    assert conflict.value.yours["text"] == "Walk with Jo"
    db.refresh(goal)
    assert goal.text == "Walk to the park" and goal.version == seen + 1
    edited = [e for e, _n in goals.history(db, actor, goal.id) if e.what == "edited"]
    assert json.loads(edited[0].detail)["text"] == [
        "Walk to the shop every weekday",
        "Walk to the park",
    ]


def test_status_changes_and_order(db, actor):
    first, second, third = (new(db, actor, f"Goal {n}") for n in (1, 2, 3))
    goals.move_goal(db, actor, third.id, "up")
    assert [g.text for g in goals.my_goals(db, actor, actor.id)] == ["Goal 1", "Goal 3", "Goal 2"]
    goals.move_goal(db, actor, first.id, "up")  # already first: nothing moves
    goals.set_status(db, actor, first.id, "achieved", first.version)
    assert [g.text for g in goals.my_goals(db, actor, actor.id)] == ["Goal 3", "Goal 2", "Goal 1"]
    with pytest.raises(goals.GoalError):
        goals.set_status(db, actor, second.id, "agreed", second.version)  # agreed together
    with pytest.raises(goals.GoalError):
        goals.set_status(db, actor, second.id, "forgotten", second.version)


def test_actions_have_an_owner_and_a_when_and_every_change_is_history(db, actor):
    goal = new(db, actor)
    mine = goals.add_action(
        db, actor, goal.id, {"text": "Walk to the shop", "owner": "me", "when": "weekday mornings"}
    )
    team = goals.add_action(
        db,
        actor,
        goal.id,
        {"text": "Refer to the physio", "owner": "care_team", "when": "by January"},
    )
    goals.add_action(
        db,
        actor,
        goal.id,
        {"text": "Walking group", "owner": "community", "who": "Riverside walkers"},
    )
    assert [a.owner for a in goals.actions(db, actor, goal.id)] == ["me", "care_team", "community"]
    goals.set_action_done(db, actor, mine.id, True)
    goals.set_action_done(db, actor, mine.id, True)  # twice: recorded once
    goals.update_action(
        db,
        actor,
        team.id,
        {"text": "Refer to the physio", "owner": "care_team", "when": "by February"},
    )
    goals.remove_action(db, actor, team.id)
    whats = [e.what for e, _n in goals.history(db, actor, goal.id)]
    assert whats == [
        "action_removed",
        "action_changed",
        "action_done",
        "action_added",
        "action_added",
        "action_added",
        "created",
    ]
    with pytest.raises(goals.GoalError) as error:
        goals.add_action(db, actor, goal.id, {"text": "", "owner": "the moon"})
    assert set(error.value.problems) == {"text", "owner"}


def test_someone_elses_goals_and_actions_answer_not_found(db, app, actor, practice):
    other = add_person(db, "Sam Lee", "sam@example.org", (practice, Role.PATIENT))
    with app.test_request_context():
        sam = load_actor(db, other)
        goal = goals.create_goal(db, sam, sam.id, {"text": "Sam's goal"}, today=TODAY)
        action = goals.add_action(db, sam, goal.id, {"text": "Swim", "owner": "me"})
    for attempt in (
        lambda: goals.get_goal(db, actor, goal.id),
        lambda: goals.update_goal(db, actor, goal.id, {"text": "x"}, goal.version, today=TODAY),
        lambda: goals.add_action(db, actor, goal.id, {"text": "x", "owner": "me"}),
        lambda: goals.set_action_done(db, actor, action.id, True),
        lambda: goals.remove_action(db, actor, action.id),
        lambda: goals.history(db, actor, goal.id),
        lambda: goals.my_goals(db, actor, sam.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert len(db.exec(select(GoalEvent)).all()) == 2  # Sam's two changes, nothing else


def test_progress_is_counted_once_per_key_and_kept_after_a_goal_ends(db, actor):
    goal = new(db, actor)
    for _attempt in range(3):  # a replay, three times
        entry, _new = goals.log_progress(db, actor, goal.id, {"outcome": "did"}, "phone-key-1")
    assert [e.id for e in goals.progress(db, actor, goal.id)] == [entry.id]
    goals.set_status(db, actor, goal.id, "stopped", goal.version)
    late, is_new = goals.log_progress(
        db, actor, goal.id, {"outcome": "partly", "measure": "weight", "value": "82.5 kg"}, "k2"
    )
    assert is_new and late.after_goal_ended and late.value == "82.5 kg"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"outcome": "great"}, "outcome"),
        ({"outcome": "did", "note": "x" * 501}, "note"),
        ({"outcome": "did", "value": "82"}, "measure"),
    ],
)
def test_bad_progress_says_what_is_wrong(db, actor, form, field):
    goal = new(db, actor)
    with pytest.raises(goals.GoalError) as error:
        goals.log_progress(db, actor, goal.id, form, "k")
    assert field in error.value.problems
    assert goals.progress(db, actor, goal.id) == []
