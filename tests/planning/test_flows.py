"""The flow engine on small test flows: loading, branching, conditions, skips, changes, versions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from webapp.planning import flows
from webapp.planning.flows import SKIPPED, AnswerError, Facts
from webapp.yamlcheck import LocatedError

TODAY = dt.date(2026, 11, 24)

FLOW = """\
title: A small test flow
summary: Used by the tests.
start: hello
steps:
  hello:
    say: "Hello {first_name}. Your review is on {next_review}."
    next: matters
  matters:
    say: What matters most to you at the moment?
    ask: text
    max_length: 40
    becomes: agenda
    next: results
  results:
    say: "Your HbA1c was {result.hba1c}, {trend.hba1c}."
    only_if: {has_result: hba1c}
    ask: choice
    options:
      - {value: yes, label: "Yes, I'd like to talk about it"}
      - {value: no, label: "Not this time"}
    next:
      - when: {answer: yes}
        go: why
      - go: importance
  why:
    say: What would you like to know?
    ask: text
    becomes: question
    next: importance
  importance:
    say: How important is a change to you?
    ask: ruler
    low_label: Not at all
    high_label: Very
    next:
      - when: {below: 4}
        go: low
      - go: helps
  low:
    say: That's fine. What would need to happen for it to matter more?
    ask: text
    next: helps
  helps:
    say: What could help?
    ask: choices
    options: [Family, A group, The time bank]
    becomes: support_from
    next:
      - when: {answer_of: {step: results, is: yes}}
        go: when
      - go: done
  when:
    say: When would you like to start?
    ask: date
    future: true
    next: done
  done:
    say: Thank you. That's everything.
    end: true
"""


OPTIONS = """\
    options:
      - {value: a, label: A, involves: x, benefits: y, risks: z}
      - {value: b, label: B, involves: x, benefits: y, risks: z}"""


@pytest.fixture
def flow(tmp_path: Path) -> flows.Flow:
    path = tmp_path / "test.yaml"
    path.write_text(FLOW)
    return flows.load_flow(path)


def facts(with_hba1c: bool = True) -> Facts:
    results = {"hba1c": ("62 mmol/mol", "higher than last time")} if with_hba1c else {}
    return Facts(first_name="Pat", next_review="3 December", results=results)


def test_a_walk_follows_answers_and_stops_at_the_first_unanswered_step(flow):
    start = flows.walk(flow, {}, facts())
    assert start.path == ("hello", "matters") and start.waiting == "matters"
    assert (
        flows.say(flow, flow.steps["hello"], facts()) == "Hello Pat. Your review is on 3 December."
    )
    answers = {"matters": "My grandchildren", "results": "yes"}
    walked = flows.walk(flow, answers, facts())
    assert walked.waiting == "why"
    assert flows.say(flow, flow.steps["results"], facts()) == (
        "Your HbA1c was 62 mmol/mol, higher than last time."
    )


def test_branches_on_this_answer_an_earlier_answer_and_a_ruler(flow):
    answers = {"matters": "Walking", "results": "yes", "why": "Is it worse?", "importance": 2}
    assert flows.walk(flow, answers, facts()).waiting == "low"
    answers |= {"low": "Feeling better", "helps": ["family"]}
    assert flows.walk(flow, answers, facts()).waiting == "when"  # they wanted to talk
    answers |= {"when": "2026-12-01"}
    end = flows.walk(flow, answers, facts())
    assert end.finished and end.path[-1] == "done"
    no_talk = {"matters": "x", "results": "no", "importance": 8, "helps": ["a-group"]}
    assert flows.walk(flow, no_talk, facts()).path == (
        "hello",
        "matters",
        "results",
        "importance",
        "helps",
        "done",
    )


def test_a_step_for_people_with_a_result_is_left_out_for_others(flow):
    walked = flows.walk(flow, {"matters": "x"}, facts(with_hba1c=False))
    assert walked.waiting == "importance" and "results" not in walked.path


def test_any_question_can_be_skipped(flow):
    answers = {"matters": SKIPPED, "results": SKIPPED, "importance": SKIPPED, "helps": SKIPPED}
    walked = flows.walk(flow, answers, facts())
    assert walked.finished
    assert walked.path == ("hello", "matters", "results", "importance", "helps", "done")


def test_changing_an_earlier_answer_drops_what_no_longer_applies(flow):
    answers = {
        "matters": "x",
        "results": "yes",
        "why": "A question",
        "importance": 7,
        "helps": ["family"],
        "when": "2026-12-01",
    }
    assert flows.walk(flow, answers, facts()).finished
    changed = flows.walk(flow, answers | {"results": "no"}, facts())
    assert changed.finished
    assert "why" not in changed.answers and "when" not in changed.answers
    assert changed.answers["importance"] == 7  # still applies, so kept


def test_a_changed_flow_file_keeps_answers_that_still_fit(flow, tmp_path):
    answers = {"matters": "x", "results": "yes", "why": "q", "importance": 7}
    newer = FLOW.replace(
        '      - {value: yes, label: "Yes, I\'d like to talk about it"}\n',
        "      - {value: maybe, label: Maybe}\n",
    ).replace("when: {answer: yes}", "when: {answer: maybe}")
    path = tmp_path / "test.yaml"
    path.write_text(newer)
    changed = flows.load_flow(path)
    assert changed.version != flow.version
    walked = flows.walk(changed, answers, facts())
    assert walked.waiting == "results"  # "yes" is no longer an option: asked again
    assert walked.answers == {"matters": "x"}


@pytest.mark.parametrize(
    ("step", "raw", "expected"),
    [
        ("matters", "  my   grandchildren ", "my grandchildren"),
        ("results", "no", "no"),
        ("importance", "7", 7),
        ("helps", ["the-time-bank", "family", "family"], ["family", "the-time-bank"]),
        ("when", "2026-11-24", "2026-11-24"),
    ],
)
def test_good_answers_are_tidied(flow, step, raw, expected):
    assert flows.check_answer(flow.steps[step], raw, TODAY) == expected


@pytest.mark.parametrize(
    ("step", "raw", "message"),
    [
        ("matters", "   ", "Write an answer, or choose Skip."),
        ("matters", "x" * 41, "Keep it to 40 characters (this is 41)."),
        ("results", "perhaps", "Choose one of the answers, or choose Skip."),
        ("importance", "11", "Choose a number from 0 to 10."),
        ("importance", "lots", "Choose a number from 0 to 10."),
        ("helps", ["family", "bingo"], "Choose one or more of the answers, or choose Skip."),
        ("when", "next week", "Enter a date like 2027-03-14."),
        ("when", "2026-11-01", "That date has passed. Choose today or a day to come."),
    ],
)
def test_bad_answers_say_what_is_wrong(flow, step, raw, message):
    with pytest.raises(AnswerError, match=message.replace("(", r"\(").replace(")", r"\)")):
        flows.check_answer(flow.steps[step], raw, TODAY)


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (
            ("next: results\n  results:", "next: nowhere\n  results:"),
            9,
            "step 'matters' goes to 'nowhere', which is not a step",
        ),
        (
            ("ask: ruler", "ask: slider"),
            32,
            "ask must be one of text, choice, choices, ruler, date, decision",
        ),
        (("{first_name}", "{surname}"), 6, "unknown placeholder {surname}"),
        (("go: done\n  when:", "go: hello\n  when:"), 6, "the steps go round in a loop"),
        (("when: {answer: yes}", "when: {answer: si}"), 15, "step 'results' has no option 'si'"),
        (("    becomes: support_from\n", "    becomes: wish\n"), 47, "becomes must be one of"),
        (
            ("    becomes: support_from\n", "    becomes: agenda\n"),
            47,
            "becomes: agenda needs a step that asks text",
        ),
        (
            ("    becomes: question\n", "    becomes: goal_why\n"),
            26,
            "becomes: goal_why needs a step with becomes: goal before it",
        ),
        (
            ("What could help?", "You said {answer.nowhere}. What could help?"),
            44,
            "repeats the answer to 'nowhere', which is not a step",
        ),
        (
            ("  low:\n    say: That's fine.", "  low:\n    colour: red\n    say: That's fine."),
            40,
            "unknown field 'colour'",
        ),
        (
            ("ask: choices", "ask: decision\n    topic: Help"),
            47,
            "a decision's option needs value:",
        ),
        (
            (
                "ask: choices\n    options: [Family, A group, The time bank]",
                "ask: decision\n" + OPTIONS,
            ),
            44,
            "step 'helps' is a decision, so it needs topic:",
        ),
    ],
)
def test_a_broken_flow_names_the_line(tmp_path, change, line, message):
    path = tmp_path / "broken.yaml"
    path.write_text(FLOW.replace(*change, 1))
    with pytest.raises(LocatedError) as error:
        flows.load_flow(path)
    assert message in error.value.message
    assert error.value.line == line, error.value.message


def test_unreachable_steps_and_missing_ends_are_refused(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(
        "title: X\nstart: a\nsteps:\n"
        "  a:\n    say: Hi\n    end: true\n"
        "  b:\n    say: Lost\n    end: true\n"
    )
    with pytest.raises(LocatedError, match="step 'b' cannot be reached from the start"):
        flows.load_flow(path)


def test_a_flow_knows_whether_it_needs_the_persons_results(flow, tmp_path):
    assert flow.needs_results
    path = tmp_path / "plain.yaml"
    path.write_text(
        "title: X\nstart: a\nsteps:\n  a:\n    say: Hello {first_name}\n    end: true\n"
    )
    assert not flows.load_flow(path).needs_results


GOAL_FLOW = """\
title: Goals
start: booked
steps:
  booked:
    say: "Your review is on {next_review}."
    only_if: {has_review: true}
    next: goal
  goal:
    say: What would you like to do?
    ask: text
    becomes: goal
    next:
      - when: {skipped: true}
        go: who
      - go: importance
  importance:
    say: How important?
    ask: ruler
    low_label: Not at all
    high_label: Very
    becomes: goal_importance
    next: why-not-lower
  why-not-lower:
    say: "You chose {answer.importance}, not lower. Why?"
    ask: text
    becomes: goal_importance_reason
    next: who
  who:
    say: Who could help?
    ask: choices
    options: [Family, The time bank]
    becomes: support_from
    next: done
  done:
    say: Thank you.
    end: true
"""


@pytest.fixture
def goal_flow(tmp_path: Path) -> flows.Flow:
    path = tmp_path / "goals.yaml"
    path.write_text(GOAL_FLOW)
    return flows.load_flow(path)


def test_a_step_for_people_with_a_review_and_an_earlier_answer_repeated(goal_flow):
    booked = flows.walk(goal_flow, {}, facts())
    assert booked.path == ("booked", "goal")
    assert flows.walk(goal_flow, {}, Facts(first_name="Pat")).path == ("goal",)
    answers = {"goal": "Walk", "importance": 7}
    walked = flows.walk(goal_flow, answers, facts())
    step = goal_flow.steps["why-not-lower"]
    assert flows.say(goal_flow, step, facts(), walked.answers) == "You chose 7, not lower. Why?"
    assert goal_flow.needs_review and not goal_flow.needs_results


def test_goal_parts_join_their_goal_and_support_can_stand_alone(goal_flow):
    answers = {"goal": "Walk", "importance": 7, "why-not-lower": "My knees", "who": ["family"]}
    made = flows.outcome(goal_flow, flows.walk(goal_flow, answers, facts()))
    (goal,) = made.goals
    assert (goal.step, goal.text) == ("goal", "Walk")
    assert goal.parts == {"importance": 7, "importance_reason": "My knees"}
    (support,) = made.items
    assert (support.kind, support.text, support.who) == ("support", "", "Family")
    skipped = flows.outcome(
        goal_flow, flows.walk(goal_flow, {"goal": SKIPPED, "who": SKIPPED}, facts())
    )
    assert not skipped.goals and not skipped.items  # a skipped answer becomes nothing
