"""Holding a conversation, without HTTP: start, resume, answer, skip, change, transcript."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from tests.planning.test_flows import FLOW
from tests.results.helpers import plan_review
from webapp.accounts.models import Role
from webapp.accounts.services import load_actor
from webapp.planning import conversations, flows
from webapp.planning.flows import SKIPPED, AnswerError
from webapp.planning.models import Conversation, Turn
from webapp.results.models import Result

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def setup(app, db, practice, patient, tmp_path, monkeypatch):
    """Pat, with a review, a released HbA1c, and the test flow installed as 'test'."""
    path = tmp_path / "test.yaml"
    path.write_text(FLOW)
    monkeypatch.setitem(app.extensions["content"].flows, "test", flows.load_flow(path))
    plan_review(db, practice.id, patient.id)
    db.add(
        Result(
            practice_id=practice.id,
            patient_id=patient.id,
            test="hba1c",
            system="s",
            code="c",
            display="HbA1c",
            value=62,
            unit="mmol/mol",
            source="form",
            fingerprint="f",
            taken_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
            released_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )
    )
    db.commit()
    with app.test_request_context():
        yield load_actor(db, patient), path


def go(db, actor, view, step, raw, key=None, **kwargs):
    return conversations.answer(
        db, actor, view.conversation.id, step, raw, key or step, today=TODAY, **kwargs
    )


def test_start_resume_and_walk_to_the_end(db, setup):
    actor, _path = setup
    view = conversations.start(db, actor, actor.id, "test")
    assert view.walk.waiting == "matters"
    assert view.say("hello").startswith("Hello Pat. Your review is on ")
    view = go(db, actor, view, "matters", "Being able to walk my dog")
    assert view.walk.waiting == "results"
    assert view.say("results") == "Your HbA1c was 62 mmol/mol, your first reading here."
    again = conversations.start(db, actor, actor.id, "test")  # days later: the same place
    assert again.conversation.id == view.conversation.id and again.walk.waiting == "results"
    for step, raw in (("results", "no"), ("importance", "8"), ("helps", ["family"])):
        view = go(db, actor, view, step, raw)
    assert view.walk.finished and view.conversation.finished_at is not None
    fresh = conversations.start(db, actor, actor.id, "test")  # a finished one is not reused
    assert fresh.conversation.id != view.conversation.id


def test_a_form_sent_twice_is_recorded_once_and_a_stale_step_is_explained(db, setup):
    actor, _path = setup
    view = conversations.start(db, actor, actor.id, "test")
    go(db, actor, view, "matters", "Sleep", key="k1")
    go(db, actor, view, "matters", "Sleep", key="k1")
    assert len(db.exec(select(Turn)).all()) == 1
    with pytest.raises(AnswerError, match="already been answered"):
        go(db, actor, view, "matters", "Something else", key="k2")


def test_bad_answers_save_nothing_and_any_question_can_be_skipped(db, setup):
    actor, _path = setup
    view = conversations.start(db, actor, actor.id, "test")
    with pytest.raises(AnswerError, match="Keep it to 40 characters"):
        go(db, actor, view, "matters", "x" * 41)
    assert db.exec(select(Turn)).all() == []
    view = go(db, actor, view, "matters", "", skip=True)
    assert view.walk.answers["matters"] == SKIPPED and view.walk.waiting == "results"


def test_changing_an_answer_re_runs_from_there_keeping_what_still_applies(db, setup):
    actor, _path = setup
    view = conversations.start(db, actor, actor.id, "test")
    steps = (
        ("matters", "x"),
        ("results", "yes"),
        ("why", "Why is it up?"),
        ("importance", "7"),
        ("helps", ["family"]),
        ("when", "2026-12-01"),
    )
    for step, raw in steps:
        view = go(db, actor, view, step, raw)
    assert view.walk.finished
    view = conversations.change(db, actor, view.conversation.id, "results")
    assert view.walk.waiting == "results" and view.conversation.finished_at is None
    view = go(db, actor, view, "results", "no", key="results-again")
    assert view.walk.finished  # importance and helps still apply, so they are not asked again
    assert "why" not in view.walk.answers and "when" not in view.walk.answers
    turns = conversations.transcript(db, actor, view.conversation.id)
    assert [t.step for t in turns].count("results") == 2  # the first answer stays in the record
    assert {t.typed_by_id for t in turns} == {actor.id}


def test_a_flow_changed_half_way_moves_on_safely(app, db, setup, monkeypatch):
    actor, path = setup
    view = conversations.start(db, actor, actor.id, "test")
    go(db, actor, view, "matters", "x")
    go(db, actor, view, "results", "yes")
    path.write_text(
        FLOW.replace(
            '{value: yes, label: "Yes, I\'d like to talk about it"}', "{value: maybe, label: Maybe}"
        ).replace("{answer: yes}", "{answer: maybe}")
    )
    monkeypatch.setitem(app.extensions["content"].flows, "test", flows.load_flow(path))
    moved = conversations.view(db, actor, view.conversation.id)
    assert moved.walk.waiting == "results"  # "yes" is gone from the new version: asked again
    assert db.get(Conversation, view.conversation.id).flow_version == moved.flow.version


def test_nobody_else_can_see_or_answer(app, db, setup, practice):
    actor, _path = setup
    view = conversations.start(db, actor, actor.id, "test")
    other = load_actor(db, add_person(db, "Sam Lee", None, (practice, Role.PATIENT)))
    for call in (
        lambda: conversations.view(db, other, view.conversation.id),
        lambda: go(db, other, view, "matters", "x"),
        lambda: conversations.change(db, other, view.conversation.id, "matters"),
        lambda: conversations.transcript(db, other, view.conversation.id),
        lambda: conversations.start(db, other, actor.id, "test"),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound):
        conversations.start(db, actor, actor.id, "no-such-flow")
