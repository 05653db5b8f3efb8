"""What conversations become, the summary the person takes to their review, and the safety
pause, without HTTP."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from tests.results.helpers import plan_review
from webapp.accounts.models import Role
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.planning import conversations, summary
from webapp.planning.flows import AnswerError
from webapp.planning.models import AgendaItem, CrisisPlan, Goal
from webapp.reviews.models import Review, ReviewStatus

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def actor(app, db, practice, patient):
    """Pat, with a review in two weeks (no results)."""
    plan_review(db, practice.id, patient.id)
    with app.test_request_context():
        yield load_actor(db, patient)


def run(db, actor, slug, answers):
    """Answer a shipped flow's questions in turn with the given answers (others skipped)."""
    view = conversations.start(db, actor, actor.id, slug)
    turn = 0
    while view.walk.waiting:
        step = view.walk.waiting
        turn += 1
        if view.paused:
            view = conversations.safety(db, actor, view.conversation.id, "carry-on")
            continue
        given = answers.get(step)
        view = conversations.answer(
            db,
            actor,
            view.conversation.id,
            step,
            given if given is not None else "",
            key=f"{view.conversation.id}-{turn}",
            skip=given is None,
            today=TODAY,
        )
    return view


CHECK_IN = {
    "overall": "3",
    "hard": "Pain in my knee",
    "going-well": "Walks",
    "support": "yes",
    "support-what": "A lift to appointments",
    "support-from": ["family", "care-team"],
    "anything-else": "My feet",
}


def test_a_finished_conversation_becomes_private_items_for_the_next_review(db, actor):
    view = run(db, actor, "check-in", CHECK_IN)
    assert view.walk.finished
    found = summary.summary(db, actor, actor.id)
    assert [(i.kind, i.text) for i in found.talk_about] == [
        ("agenda", "Pain in my knee"),
        ("support", "A lift to appointments (from: Family or friends, My care team)"),
        ("agenda", "My feet"),
    ]
    assert all(not item.shared for item in found.items)  # private by default
    assert all(item.review_id == found.review.id for item in found.items)
    assert found.shared_count == 0 and not found.prepared


def test_a_changed_answer_updates_its_item_and_an_edit_or_removal_stands(db, actor):
    view = run(db, actor, "check-in", CHECK_IN)
    cid = view.conversation.id
    items = {i.step: i for i in db.exec(select(AgendaItem))}
    summary.edit(db, actor, "item", items["hard"].id, {"text": "My knee, mostly at night"})
    summary.remove(db, actor, "item", items["anything-else"].id)
    summary.set_shared(db, actor, "item", items["support-what"].id, True)
    # Change the support answer: that item follows; the edit and the removal stand.
    conversations.change(db, actor, cid, "support-what")
    conversations.answer(db, actor, cid, "support-what", "Help with shopping", "k2", today=TODAY)
    items = {i.step: i for i in db.exec(select(AgendaItem))}
    assert items["hard"].text == "My knee, mostly at night"
    assert "anything-else" not in items
    assert items["support-what"].text.startswith("Help with shopping (from:")
    assert not items["support-what"].shared  # new words: private until shared again
    # An answer that leaves the path takes its item away.
    conversations.change(db, actor, cid, "overall")
    conversations.answer(db, actor, cid, "overall", "8", "k3", today=TODAY)
    assert "hard" not in {i.step for i in db.exec(select(AgendaItem))}


def test_a_draft_goal_keeps_the_persons_words_and_the_mi_follow_ups(db, actor):
    words = "lose weight before my brother's wedding!!"
    run(
        db,
        actor,
        "prepare-review",
        {
            "going": "7",
            "change": "yes",
            "goal": words,
            "goal-why": "To dance",
            "importance": "8",
            "importance-why": "The photos",
            "confidence": "4",
            "confidence-up": "A friend to walk with",
            "if-then": "If it's a weekday morning, then I'll walk to the shop",
            "questions": "Can I see a dietitian?",
        },
    )
    (goal,) = db.exec(select(Goal)).all()
    assert goal.text == words  # never rewritten
    assert (goal.why, goal.importance, goal.importance_reason) == ("To dance", 8, "The photos")
    assert (goal.confidence, goal.confidence_next) == (4, "A friend to walk with")
    assert goal.if_then.startswith("If it's a weekday morning")
    assert goal.status == "draft" and not goal.shared
    found = summary.summary(db, actor, actor.id)
    assert [q.text for q in found.questions] == ["Can I see a dietitian?"]
    summary.edit(
        db,
        actor,
        "goal",
        goal.id,
        {"text": "Walk every weekday", "why": "To dance", "importance": "9", "confidence": ""},
    )
    db.refresh(goal)
    assert (goal.text, goal.importance, goal.confidence) == ("Walk every weekday", 9, None)


@pytest.mark.parametrize(
    ("kind", "form", "message"),
    [
        ("item", {"text": "   "}, "Write some words for the item, or remove it instead."),
        ("item", {"text": "x" * 1001}, "Keep the item to 1000 characters (it is 1001)."),
        ("goal", {"text": "Walk", "importance": "11"}, "Choose how important it is from 0 to 10"),
        ("goal", {"text": "Walk", "confidence": "lots"}, "Choose how confident you are from 0"),
        ("crisis-plan", {"helps": " "}, "Write at least one part of your plan"),
    ],
)
def test_bad_edits_say_what_is_wrong_and_change_nothing(db, actor, kind, form, message):
    item = AgendaItem(patient_id=actor.id, kind="agenda", text="Sleep")
    goal = Goal(patient_id=actor.id, text="Walk")
    plan = CrisisPlan(patient_id=actor.id, helps="Music")
    db.add_all([item, goal, plan])
    db.commit()
    thing = {"item": item, "goal": goal, "crisis-plan": plan}[kind]
    with pytest.raises(summary.EditError, match=re.escape(message)):
        summary.edit(db, actor, kind, thing.id, form)
    db.refresh(item), db.refresh(goal), db.refresh(plan)
    assert (item.text, goal.text, goal.importance, plan.helps) == ("Sleep", "Walk", None, "Music")


def test_the_unwell_plan_becomes_the_persons_crisis_plan(db, actor):
    run(
        db,
        actor,
        "unwell-plan",
        {"signs": "Not sleeping", "helps": "Music", "contacts": "Jo, 07700 900123"},
    )
    plan = summary.crisis_plan(db, actor, actor.id)
    assert (plan.early_signs, plan.helps, plan.avoid, plan.contacts) == (
        "Not sleeping",
        "Music",
        "",
        "Jo, 07700 900123",
    )
    assert not plan.shared
    summary.set_shared(db, actor, "crisis-plan", plan.id, True)
    assert summary.summary(db, actor, actor.id).shared_count == 1


def test_ready_marks_the_review_prepared_once(db, actor):
    summary.ready(db, actor, actor.id)
    review = db.exec(select(Review)).one()
    assert review.status == ReviewStatus.PREPARED and review.prepared_at is not None
    first = review.prepared_at
    summary.ready(db, actor, actor.id)
    db.refresh(review)
    assert review.prepared_at == first
    assert summary.summary(db, actor, actor.id).prepared
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.action == "review.prepared"))
    assert len(actions.all()) == 1


def test_ready_needs_a_review_and_never_moves_a_review_back(db, app, practice):
    other = add_person(db, "Sam Lee", "sam@example.org", (practice, Role.PATIENT))
    with app.test_request_context():
        sam = load_actor(db, other)
        with pytest.raises(NotFound):
            summary.ready(db, sam, sam.id)
        review = plan_review(db, practice.id, sam.id)
        review.status = ReviewStatus.HELD
        db.commit()
        summary.ready(db, sam, sam.id)
        db.refresh(review)
        assert review.status == ReviewStatus.HELD and review.prepared_at is not None


def test_someone_elses_items_answer_not_found(db, actor, app, practice):
    other = add_person(db, "Sam Lee", "sam@example.org", (practice, Role.PATIENT))
    item = AgendaItem(patient_id=other.id, kind="agenda", text="Private")
    db.add(item)
    db.commit()
    for act in (
        lambda: summary.set_shared(db, actor, "item", item.id, True),
        lambda: summary.edit(db, actor, "item", item.id, {"text": "x"}),
        lambda: summary.remove(db, actor, "item", item.id),
        lambda: summary.set_shared(db, actor, "item", 99999, True),
    ):
        with pytest.raises(NotFound):
            act()
    db.refresh(item)
    assert (item.text, item.shared) == ("Private", False)


# --- the safety pause ---------------------------------------------------------------------


def _to_hard(db, actor):
    view = conversations.start(db, actor, actor.id, "check-in")
    return conversations.answer(db, actor, view.conversation.id, "overall", "2", "k1", today=TODAY)


@pytest.mark.parametrize(
    "words",
    [
        "Some days I want to end it all",
        "I'm not going to hurt myself, but it's hard",  # a negation still shows the help
        "i keep thinking about sucide",  # a misspelling
        "He hits me when he drinks",
    ],
)
def test_crisis_language_pauses_the_conversation_and_logs_without_the_text(db, actor, words):
    view = _to_hard(db, actor)
    view = conversations.answer(db, actor, view.conversation.id, "hard", words, "k2", today=TODAY)
    assert view.paused and view.walk.answers["hard"] == words  # never blocks writing
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "safety.match")).all()
    detail = json.loads(event.detail)
    assert detail["where"] == "conversation" and detail["category"]
    assert words.lower() not in event.detail.lower()  # what matched, never the text


def test_words_without_crisis_language_do_not_pause(db, actor):
    view = _to_hard(db, actor)
    view = conversations.answer(
        db, actor, view.conversation.id, "hard", "My knee hurts on the stairs", "k2", today=TODAY
    )
    assert not view.paused


def test_carrying_on_needs_a_clear_choice_and_answers_wait_until_then(db, actor):
    view = _to_hard(db, actor)
    cid = view.conversation.id
    view = conversations.answer(db, actor, cid, "hard", "I want to die", "k2", today=TODAY)
    assert view.walk.waiting == "going-well"
    with pytest.raises(AnswerError, match="whether you are safe"):
        conversations.answer(db, actor, cid, "going-well", "Walks", "k3", today=TODAY)
    with pytest.raises(AnswerError, match="Choose one of the answers"):
        conversations.safety(db, actor, cid, "")
    assert conversations.safety(db, actor, cid, "not-safe").paused
    assert conversations.safety(db, actor, cid, "stop").paused
    assert conversations.view(db, actor, cid).paused  # coming back later: still asked
    view = conversations.safety(db, actor, cid, "carry-on")
    assert not view.paused
    view = conversations.answer(db, actor, cid, "going-well", "Walks", "k3", today=TODAY)
    assert view.walk.waiting == "support"
    choices = db.exec(select(AuditEvent.detail).where(AuditEvent.action == "safety.choice"))
    assert [json.loads(d)["choice"] for d in choices] == ["not-safe", "stop", "carry-on"]


def test_what_was_prepared_before_a_review_was_booked_moves_to_it(db, app, practice, clinician):
    from webapp.reviews import services as reviews

    person = add_person(db, "Sam Lee", "sam@example.org", (practice, Role.PATIENT))
    db.add(AgendaItem(patient_id=person.id, kind="agenda", text="My sleep", shared=True))
    db.add(Goal(patient_id=person.id, text="Walk"))
    db.commit()
    with app.test_request_context():
        review = reviews.create_review(
            db,
            load_actor(db, clinician),
            practice.id,
            person.id,
            dt.datetime.now(dt.UTC) + dt.timedelta(days=5),
        )
        found = summary.summary(db, load_actor(db, person), person.id)
        assert [i.text for i in found.items] == ["My sleep"] and len(found.goals) == 1
        shared = summary.shared_for_review(db, load_actor(db, clinician), review, record=True)
        assert [i.text for i in shared.items] == ["My sleep"] and shared.goals == []


def test_a_removed_crisis_plan_comes_back_whole_when_an_answer_changes(db, actor):
    answers = {"signs": "Not sleeping", "helps": "Music", "contacts": "Jo"}
    view = run(db, actor, "unwell-plan", answers)
    plan = summary.crisis_plan(db, actor, actor.id)
    summary.remove(db, actor, "crisis-plan", plan.id)
    conversations.change(db, actor, view.conversation.id, "helps")
    conversations.answer(db, actor, view.conversation.id, "helps", "A walk", "k9", today=TODAY)
    plan = summary.crisis_plan(db, actor, actor.id)
    assert (plan.early_signs, plan.helps, plan.contacts) == ("Not sleeping", "A walk", "Jo")


def test_edited_words_are_checked_for_crisis_language_too(db, actor):
    item = AgendaItem(patient_id=actor.id, kind="agenda", text="Sleep")
    db.add(item)
    db.commit()
    assert summary.edit(db, actor, "item", item.id, {"text": "Sleep, mostly"}) is None
    found = summary.edit(db, actor, "item", item.id, {"text": "I want to end my life"})
    assert found is not None and found.category == "suicide"
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "safety.match")).all()
    assert "end my life" not in json.loads(event.detail).get("text", "")
    assert json.loads(event.detail)["where"] == "summary"


def test_a_flow_that_asks_about_hard_times_pauses_once(db, actor):
    view = conversations.start(db, actor, actor.id, "unwell-plan")
    cid = view.conversation.id
    view = conversations.answer(db, actor, cid, "signs", "Thoughts of self harm", "k1", today=TODAY)
    assert view.paused
    conversations.safety(db, actor, cid, "carry-on")
    view = conversations.answer(
        db, actor, cid, "helps", "Talking when I feel suicidal", "k2", today=TODAY
    )
    assert not view.paused  # said once they are safe; still checked and logged
    details = db.exec(select(AuditEvent.detail).where(AuditEvent.action == "safety.match"))
    assert [json.loads(d)["paused"] for d in details] == [True, False]


def test_a_goal_edited_on_the_summary_keeps_the_goals_history_and_version(db, actor):
    from webapp.goals import services as goals

    goal = Goal(patient_id=actor.id, text="Walk")
    db.add(goal)
    db.commit()
    summary.edit(db, actor, "goal", goal.id, {"text": "Walk every day"})
    db.refresh(goal)
    assert goal.version == 2
    (event, _name) = goals.history(db, actor, goal.id)[0]
    assert event.what == "edited" and json.loads(event.detail)["text"] == ["Walk", "Walk every day"]
