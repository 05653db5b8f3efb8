"""Every shipped flow walked from start to end, down every branch, with and without data."""

from __future__ import annotations

import random
import re

import pytest

from webapp import content
from webapp.planning import flows
from webapp.planning.flows import SKIPPED, UNSURE, Facts, Flow, Step

LOADED, ERRORS = content.load(content.CONTENT_DIR)
WITH_DATA = Facts(
    first_name="Pat",
    next_review="3 December 2026",
    results={
        slug: ("62 mmol/mol", "higher than last time")
        for slug in ("hba1c", "blood-pressure", "egfr", "weight")
    },
    places={"hba1c": "above", "blood-pressure": "within"},
)
WITHOUT_DATA = Facts(first_name="Pat")


def test_the_shipped_content_loads_without_errors():
    assert ERRORS == []
    assert {"check-in", "prepare-review", "recovery", "unwell-plan"} <= set(LOADED.flows)


def _thresholds(flow: Flow, step: Step) -> list[int]:
    values = {step.low, step.high}
    for rule in step.rules:
        if rule.when is not None and rule.when.kind in ("below", "at_least"):
            values |= {rule.when.value - 1, rule.when.value}
    return sorted(v for v in values if step.low <= v <= step.high)


def _answers_for(flow: Flow, step: Step) -> list[object]:
    """Every kind of answer that could take a different branch from this step."""
    if step.ask in ("choice", "decision"):
        extra = [UNSURE] if step.ask == "decision" else []
        return [o.value for o in step.options] + extra + [SKIPPED]
    if step.ask == "choices":
        return [[o.value] for o in step.options] + [[o.value for o in step.options], SKIPPED]
    if step.ask == "ruler":
        return [*_thresholds(flow, step), SKIPPED]
    if step.ask == "date":
        return ["2027-03-14", SKIPPED]
    return ["In my own words", SKIPPED]


def _walks(flow: Flow, facts: Facts, tries: int = 400):
    """Random walks (seeded): each answers every question with one of its kinds of answer."""
    chooser = random.Random(flow.slug)
    for _ in range(tries):
        answers: dict[str, object] = {}
        while True:
            walked = flows.walk(flow, answers, facts)
            if walked.finished:
                yield walked
                break
            step = flow.steps[walked.waiting]
            answers[step.id] = chooser.choice(_answers_for(flow, step))


@pytest.mark.parametrize("slug", sorted(LOADED.flows))
def test_every_step_and_every_branch_is_reached_and_every_walk_ends(slug):
    flow = LOADED.flows[slug]
    steps: set[str] = set()
    edges: set[tuple[str, str]] = set()
    for facts in (WITH_DATA, WITHOUT_DATA):
        for walked in _walks(flow, facts):
            assert walked.finished and flow.steps[walked.path[-1]].end
            steps |= set(walked.path)
            edges |= set(zip(walked.path, walked.path[1:], strict=False))
            for step_id in walked.path:
                words = flows.say(flow, flow.steps[step_id], facts, walked.answers)
                # Every placeholder filled; none left empty in the middle of a sentence.
                assert "{" not in words and " ," not in words and "  " not in words, words
            flows.outcome(flow, walked)  # what the answers become is always worked out
    assert steps == set(flow.steps)
    # Every rule is taken: each "go" of each step (a step left out hands on to its default).
    for step in flow.steps.values():
        for rule in step.rules:
            taken = (step.id, rule.go) in edges
            handed_on = step.only_if is not None and rule is step.rules[-1]
            assert taken or handed_on, f"{slug}: {step.id} → {rule.go} is never taken"


def _finish(flow: Flow, facts: Facts, answers: dict[str, object]) -> flows.Walk:
    walked = flows.walk(flow, answers, facts)
    assert walked.finished, walked.waiting
    return walked


def test_preparing_for_my_review_makes_an_agenda_questions_a_decision_and_a_goal():
    flow = LOADED.flows["prepare-review"]
    walked = _finish(
        flow,
        WITH_DATA,
        {
            "matters": "My grandchildren",
            "going": 3,
            "going-hard": "Tired all the time",
            "hba1c": "yes",
            "hba1c-question": "Why has it gone up?",
            "hba1c-choice": "food-activity",
            "hba1c-matters": "Not more tablets",
            "change": "yes",
            "goal": "Lose weight before my brother's wedding",
            "goal-why": "I want to dance",
            "importance": 9,
            "importance-why": "The photos",
            "confidence": 6,
            "confidence-up": "A walking partner",
            "if-then": "If it's a weekday morning, then I'll walk to the shop",
            "support": "Someone to walk with",
            "support-from": ["group", "time-bank"],
            "questions": "Can I see the dietitian?",
        },
    )
    assert "You chose 9, not a lower number." in flows.say(
        flow, flow.steps["importance-why"], WITH_DATA, walked.answers
    )
    made = flows.outcome(flow, walked)
    assert [(i.kind, i.text) for i in made.items if i.kind in ("agenda", "question")] == [
        ("agenda", "My grandchildren"),
        ("agenda", "Tired all the time"),
        ("question", "Why has it gone up?"),
        ("agenda", "Not more tablets"),
        ("question", "Can I see the dietitian?"),
    ]
    (decision,) = [i for i in made.items if i.kind == "decision"]
    assert decision.leaning == "Changes to food and activity"
    (support,) = [i for i in made.items if i.kind == "support"]
    assert (support.text, support.who) == (
        "Someone to walk with",
        "A peer-support group, The time bank",
    )
    (goal,) = made.goals
    assert goal.text == "Lose weight before my brother's wedding"  # the person's words, as typed
    assert goal.parts == {
        "why": "I want to dance",
        "importance": 9,
        "importance_reason": "The photos",
        "confidence": 6,
        "confidence_next": "A walking partner",
        "if_then": "If it's a weekday morning, then I'll walk to the shop",
    }


def test_without_results_or_a_review_the_conversation_does_not_speak_of_them():
    flow = LOADED.flows["prepare-review"]
    walked = flows.walk(flow, {"matters": SKIPPED, "going": 8, "going-well": SKIPPED}, WITHOUT_DATA)
    assert "when" not in walked.path and "hba1c" not in walked.path
    assert walked.waiting == "change"


def test_the_decision_aid_is_only_for_an_hba1c_above_target():
    flow = LOADED.flows["prepare-review"]
    answers = {
        "matters": SKIPPED,
        "going": 8,
        "going-well": SKIPPED,
        "hba1c": "yes",
        "hba1c-question": SKIPPED,
    }
    within = Facts(first_name="Pat", results=WITH_DATA.results, places={"hba1c": "within"})
    assert flows.walk(flow, answers, within).waiting == "change"
    assert flows.walk(flow, answers, WITH_DATA).waiting == "hba1c-choice"


def test_the_unwell_plan_becomes_a_crisis_plan_in_the_persons_words():
    flow = LOADED.flows["unwell-plan"]
    answers = {
        "signs": "Not sleeping",
        "helps": "Music",
        "avoid": "Being told to cheer up",
        "contacts": "My sister Jo",
        "wishes": SKIPPED,
    }
    made = flows.outcome(flow, _finish(flow, WITHOUT_DATA, answers))
    assert made.crisis == {
        "early_signs": "Not sleeping",
        "helps": "Music",
        "avoid": "Being told to cheer up",
        "contacts": "My sister Jo",
    }
    assert not made.items and not made.goals


def test_a_decision_records_a_leaning_or_not_sure_and_never_recommends():
    flow = LOADED.flows["prepare-review"]
    step = flow.steps["hba1c-choice"]
    assert len(step.options) >= 2
    for option in step.options:
        assert option.involves and option.benefits and option.risks
        text = " ".join([option.label, option.involves, option.benefits, option.risks]).lower()
        assert not re.search(r"\b(recommend|should|best option)\b", text), option.label
    assert flows.check_answer(step, UNSURE, __import__("datetime").date.today()) == UNSURE
    walked = flows.Walk(("hba1c-choice",), {"hba1c-choice": UNSURE}, None)
    (item,) = flows.outcome(flow, walked).items
    assert (item.kind, item.leaning, item.topic) == ("decision", "", step.topic)
