"""Planning conversations as content: flows of small steps, checked at start-up, walked here.

A flow (content/flows/<slug>.yaml) is a set of named steps. A step may say something
(with the person's first name, next review and results filled in), ask something (free
text, one choice, several choices, a 0-10 ruler, a date) and go on to the next step,
possibly depending on the answer, an earlier answer or the person's results. What an
answer becomes (an agenda item, a question, a draft goal...) is named by the step.

Nothing here touches the database: the conversation's answers are a dict of step to
value, and `walk` re-derives where the person is from them. So resuming, changing an
earlier answer, and a flow file changed half-way all come down to the same walk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from webapp.yamlcheck import LocatedError, compose, line, listed, mapping, number, text

ASK_KINDS = ("text", "choice", "choices", "ruler", "date", "decision")
# What an answer becomes, and which kinds of question may give it.
BECOMES: dict[str, tuple[str, ...]] = {
    "agenda": ("text",),
    "question": ("text",),
    "support": ("text",),
    "support_from": ("choice", "choices", "text"),
    "decision": ("decision",),
    "goal": ("text",),
    "goal_why": ("text",),
    "goal_importance": ("ruler",),
    "goal_importance_reason": ("text",),
    "goal_confidence": ("ruler",),
    "goal_confidence_next": ("text",),
    "if_then": ("text",),
    "crisis_signs": ("text",),
    "crisis_helps": ("text",),
    "crisis_avoid": ("text",),
    "crisis_contacts": ("text",),
    "crisis_wishes": ("text",),
}
# The parts of a draft goal, and of the crisis plan, that steps fill in.
GOAL_PARTS = {
    "goal_why": "why",
    "goal_importance": "importance",
    "goal_importance_reason": "importance_reason",
    "goal_confidence": "confidence",
    "goal_confidence_next": "confidence_next",
    "if_then": "if_then",
}
CRISIS_PARTS = {
    "crisis_signs": "early_signs",
    "crisis_helps": "helps",
    "crisis_avoid": "avoid",
    "crisis_contacts": "contacts",
    "crisis_wishes": "wishes",
}
# A decision's answer when the person has no leaning yet.
UNSURE = "unsure"
STEP_FIELDS = {
    "say",
    "ask",
    "max_length",
    "options",
    "low_label",
    "high_label",
    "min",
    "max",
    "future",
    "topic",
    "becomes",
    "only_if",
    "next",
    "end",
}
FLOW_FIELDS = {"title", "summary", "order", "safety", "start", "steps"}
# How often a conversation pauses for crisis language: at every answer that has it, or
# once (for flows that ask about hard times on purpose, like the plan for when unwell).
SAFETY_KINDS = ("every_answer", "once")
CONDITIONS = {
    "answer",
    "answer_of",
    "has_result",
    "above_target",
    "has_review",
    "below",
    "at_least",
    "skipped",
}
# Placeholders a step's text may use; {result.<test>} and {trend.<test>} name a test, and
# {answer.<step>} repeats an earlier answer ("You chose 7. Why not a lower number?").
PLACEHOLDERS = {"first_name", "next_review"}
RESULT_PLACEHOLDER = re.compile(r"^(result|trend)\.([a-z0-9-]+)$")
ANSWER_PLACEHOLDER = re.compile(r"^answer\.([a-z0-9_-]+)$")
SKIPPED = "__skipped__"
DEFAULT_MAX_LENGTH = 500


@dataclass(frozen=True)
class Option:
    """One quick reply or choice: the value stored and the words on the button.

    A decision's options also say what each involves, its benefits and its risks.
    """

    value: str
    label: str
    involves: str = ""
    benefits: str = ""
    risks: str = ""


@dataclass(frozen=True)
class Condition:
    """One test of the answers or the person's data, like {answer: yes} or {has_result: hba1c}."""

    kind: str
    value: Any
    step: str = ""

    def holds(self, own: Any, answers: Mapping[str, Any], facts: Facts) -> bool:
        """Say whether the condition holds for this step's answer, the others and the facts."""
        if self.kind == "has_result":
            return self.value in facts.results
        if self.kind == "above_target":
            return facts.places.get(self.value) == "above"
        if self.kind == "has_review":
            return bool(facts.next_review) == self.value
        if self.kind == "answer_of":
            return _matches(answers.get(self.step), self.value)
        if self.kind == "skipped":
            return (own == SKIPPED) == bool(self.value)
        if own is None or own == SKIPPED:
            return False
        if self.kind == "answer":
            return _matches(own, self.value)
        if self.kind == "below":
            return isinstance(own, int) and own < self.value
        if self.kind == "at_least":
            return isinstance(own, int) and own >= self.value
        raise AssertionError(self.kind)


def _matches(answer: Any, wanted: Any) -> bool:
    """An answer matches a value if it is the value, or (several choices) includes it."""
    if isinstance(answer, list):
        return wanted in answer
    return answer == wanted


@dataclass(frozen=True)
class Rule:
    """Go to a step, when the condition holds (or always, with no condition)."""

    go: str
    when: Condition | None = None


@dataclass(frozen=True)
class Step:
    """One turn of a conversation."""

    id: str
    say: str = ""
    ask: str | None = None
    max_length: int = DEFAULT_MAX_LENGTH
    options: tuple[Option, ...] = ()
    low_label: str = ""
    high_label: str = ""
    low: int = 0
    high: int = 10
    future: bool = False
    topic: str = ""
    becomes: str | None = None
    only_if: Condition | None = None
    rules: tuple[Rule, ...] = ()
    end: bool = False
    line: int = 0


@dataclass(frozen=True)
class Flow:
    """A conversation: its steps, where it starts, and a version that changes with its file."""

    slug: str
    title: str
    summary: str
    start: str
    steps: dict[str, Step]
    version: str
    # Where the flow comes in the list of conversations (lowest first).
    order: int = 100
    safety: str = "every_answer"

    @cached_property
    def needs_review(self) -> bool:
        """Say whether any step speaks of, or depends on, the person's next review."""
        for step in self.steps.values():
            if "next_review" in PLACEHOLDER.findall(step.say):
                return True
            conditions = [step.only_if, *(rule.when for rule in step.rules)]
            if any(c is not None and c.kind == "has_review" for c in conditions):
                return True
        return False

    @cached_property
    def writes_goals(self) -> bool:
        """Say whether any answer becomes a draft goal or part of one."""
        return any(
            step.becomes == "goal" or step.becomes in GOAL_PARTS for step in self.steps.values()
        )

    @cached_property
    def writes_crisis_plan(self) -> bool:
        """Say whether any answer becomes part of the plan for when the person is unwell."""
        return any(step.becomes in CRISIS_PARTS for step in self.steps.values())

    @cached_property
    def needs_results(self) -> bool:
        """Say whether any step speaks of, or depends on, the person's results."""
        for step in self.steps.values():
            if any(RESULT_PLACEHOLDER.match(name) for name in PLACEHOLDER.findall(step.say)):
                return True
            conditions = [step.only_if, *(rule.when for rule in step.rules)]
            if any(c is not None and c.kind in ("has_result", "above_target") for c in conditions):
                return True
        return False


@dataclass
class Facts:
    """What a conversation may say about the person: name, next review, results by test."""

    first_name: str = ""
    next_review: str = ""
    # test slug -> (the latest result in words, like "62 mmol/mol"; its trend in words)
    results: dict[str, tuple[str, str]] = field(default_factory=dict)
    # test slug -> where the latest result sits against the person's target: below,
    # within or above (tests without a target are left out)
    places: dict[str, str] = field(default_factory=dict)


# --- loading and checking ----------------------------------------------------------------


PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _placeholders(node: yaml.Node, words: str) -> None:
    """Check that every {placeholder} in a step's words is one the app can fill in."""
    for name in PLACEHOLDER.findall(words):
        if (
            name not in PLACEHOLDERS
            and not RESULT_PLACEHOLDER.match(name)
            and not ANSWER_PLACEHOLDER.match(name)
        ):
            known = ", ".join(sorted(PLACEHOLDERS)) + ", result.<test>, trend.<test>, answer.<step>"
            raise LocatedError(line(node), f"unknown placeholder {{{name}}} (use {known})")


def _condition(node: yaml.Node) -> Condition:
    fields = mapping(node, "a condition", CONDITIONS)
    if len(fields) != 1:
        raise LocatedError(
            line(node), "a condition has exactly one of: " + ", ".join(sorted(CONDITIONS))
        )
    ((kind, value),) = fields.items()
    if kind == "answer_of":
        parts = mapping(value, "answer_of", {"step", "is"})
        if set(parts) != {"step", "is"}:
            raise LocatedError(line(value), "answer_of needs step: and is:")
        return Condition(kind, text(parts["is"], "is", 60), text(parts["step"], "step", 60))
    if kind in ("below", "at_least"):
        return Condition(kind, int(number(value, kind)))
    if kind in ("skipped", "has_review"):
        return Condition(kind, text(value, kind, 5) in ("true", "yes"))
    return Condition(kind, text(value, kind, 60))


def _rules(node: yaml.Node) -> tuple[Rule, ...]:
    if isinstance(node, yaml.ScalarNode):
        return (Rule(text(node, "next", 60)),)
    rules = []
    items = listed(node, "next")
    for position, item in enumerate(items, start=1):
        fields = mapping(item, "a next rule", {"when", "go"})
        if "go" not in fields:
            raise LocatedError(line(item), "each next rule needs go: (the step to go to)")
        when = _condition(fields["when"]) if "when" in fields else None
        if when is None and position != len(items):
            raise LocatedError(line(item), "only the last next rule may leave out when:")
        rules.append(Rule(text(fields["go"], "go", 60), when))
    if rules[-1].when is not None:
        raise LocatedError(line(items[-1]), "the last next rule needs no when: (it is the default)")
    return tuple(rules)


DECISION_PARTS = ("involves", "benefits", "risks")


def _options(node: yaml.Node, decision: bool) -> tuple[Option, ...]:
    options = []
    for item in listed(node, "options"):
        if isinstance(item, yaml.ScalarNode) and not decision:
            label = text(item, "an option", 80)
            options.append(Option(re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-"), label))
            continue
        if decision:
            wanted = {"value", "label", *DECISION_PARTS}
            fields = (
                mapping(item, "an option", wanted) if isinstance(item, yaml.MappingNode) else {}
            )
            if set(fields) != wanted:
                raise LocatedError(
                    line(item),
                    "a decision's option needs value:, label:, involves:, benefits: and risks:",
                )
            parts = {name: text(fields[name], name, 600) for name in DECISION_PARTS}
        else:
            fields = mapping(item, "an option", {"value", "label"})
            if set(fields) != {"value", "label"}:
                raise LocatedError(line(item), "an option is its words, or value: and label:")
            parts = {}
        options.append(
            Option(text(fields["value"], "value", 60), text(fields["label"], "label", 80), **parts)
        )
    values = [o.value for o in options]
    if len(set(values)) != len(values):
        raise LocatedError(line(node), "two options have the same value")
    if decision and (len(options) < 2 or UNSURE in values):
        raise LocatedError(
            line(node), f"a decision needs two or more options, none of them {UNSURE!r}"
        )
    return tuple(options)


def _step(step_id: str, node: yaml.Node) -> Step:
    fields = mapping(node, f"step {step_id!r}", STEP_FIELDS)
    say = text(fields["say"], "say", 2000) if "say" in fields else ""
    if say:
        _placeholders(fields["say"], say)
    ask = text(fields["ask"], "ask", 20) if "ask" in fields else None
    if ask is not None and ask not in ASK_KINDS:
        raise LocatedError(line(fields["ask"]), f"ask must be one of {', '.join(ASK_KINDS)}")
    end = "end" in fields and text(fields["end"], "end", 5) in ("true", "yes")
    if end and ("next" in fields or ask):
        raise LocatedError(
            line(node), f"step {step_id!r} ends the conversation, so it neither asks nor has next:"
        )
    if not end and "next" not in fields:
        raise LocatedError(line(node), f"step {step_id!r} needs next: (or end: true)")
    if not say and not ask:
        raise LocatedError(line(node), f"step {step_id!r} needs say:, ask: or both")
    options = _options(fields["options"], ask == "decision") if "options" in fields else ()
    if ask in ("choice", "choices", "decision") and not options:
        raise LocatedError(line(node), f"step {step_id!r} asks for a choice, so it needs options:")
    if ask not in ("choice", "choices", "decision") and options:
        raise LocatedError(
            line(fields["options"]), "options: are only for choice, choices and decision"
        )
    if ask == "decision" and "topic" not in fields:
        raise LocatedError(line(node), f"step {step_id!r} is a decision, so it needs topic:")
    low = int(number(fields["min"], "min")) if "min" in fields else 0
    high = int(number(fields["max"], "max")) if "max" in fields else 10
    if ask == "ruler" and not ("low_label" in fields and "high_label" in fields):
        raise LocatedError(
            line(node), f"step {step_id!r} is a ruler, so it needs low_label: and high_label:"
        )
    if low >= high:
        raise LocatedError(line(node), "min must be below max")
    becomes = text(fields["becomes"], "becomes", 30) if "becomes" in fields else None
    if becomes is not None and becomes not in BECOMES:
        raise LocatedError(line(fields["becomes"]), f"becomes must be one of {', '.join(BECOMES)}")
    if becomes is not None and ask not in BECOMES[becomes]:
        raise LocatedError(
            line(fields["becomes"]),
            f"becomes: {becomes} needs a step that asks {' or '.join(BECOMES[becomes])}",
        )
    max_length = (
        int(number(fields["max_length"], "max_length"))
        if "max_length" in fields
        else DEFAULT_MAX_LENGTH
    )
    if not 1 <= max_length <= 2000:
        raise LocatedError(line(fields["max_length"]), "max_length must be 1 to 2000")
    return Step(
        id=step_id,
        say=say,
        ask=ask,
        max_length=max_length,
        options=options,
        low_label=text(fields["low_label"], "low_label", 60) if "low_label" in fields else "",
        high_label=text(fields["high_label"], "high_label", 60) if "high_label" in fields else "",
        low=low,
        high=high,
        future="future" in fields and text(fields["future"], "future", 5) in ("true", "yes"),
        topic=text(fields["topic"], "topic", 200) if "topic" in fields else "",
        becomes=becomes,
        only_if=_condition(fields["only_if"]) if "only_if" in fields else None,
        rules=_rules(fields["next"]) if "next" in fields else (),
        end=end,
        line=line(node),
    )


def _check_graph(flow: Flow) -> None:
    """Every target exists, every step is reachable, and no path loops back on itself."""
    for step in flow.steps.values():
        for rule in step.rules:
            if rule.go not in flow.steps:
                raise LocatedError(
                    step.line, f"step {step.id!r} goes to {rule.go!r}, which is not a step"
                )
            condition = rule.when
            if (
                condition is not None
                and condition.kind == "answer_of"
                and condition.step not in flow.steps
            ):
                raise LocatedError(
                    step.line, f"step {step.id!r} looks at {condition.step!r}, which is not a step"
                )
            offered = {o.value for o in step.options}
            if (
                condition is not None
                and condition.kind == "answer"
                and offered
                and condition.value not in offered
            ):
                raise LocatedError(step.line, f"step {step.id!r} has no option {condition.value!r}")
        for name in PLACEHOLDER.findall(step.say):
            found = ANSWER_PLACEHOLDER.match(name)
            if found and found.group(1) not in flow.steps:
                raise LocatedError(
                    step.line,
                    f"step {step.id!r} repeats the answer to {found.group(1)!r},"
                    " which is not a step",
                )
        if step.becomes in GOAL_PARTS and not any(
            other.becomes == "goal" for other in flow.steps.values()
        ):
            raise LocatedError(
                step.line, f"becomes: {step.becomes} needs a step with becomes: goal before it"
            )
    if flow.start not in flow.steps:
        raise LocatedError(1, f"start: names {flow.start!r}, which is not a step")
    seen: set[str] = set()
    visiting: list[str] = []

    def visit(step_id: str) -> None:
        if step_id in visiting:
            loop = " → ".join([*visiting[visiting.index(step_id) :], step_id])
            raise LocatedError(flow.steps[step_id].line, f"the steps go round in a loop: {loop}")
        if step_id in seen:
            return
        visiting.append(step_id)
        for rule in flow.steps[step_id].rules:
            visit(rule.go)
        visiting.pop()
        seen.add(step_id)

    visit(flow.start)
    for step in flow.steps.values():
        if step.id not in seen:
            raise LocatedError(step.line, f"step {step.id!r} cannot be reached from the start")
    if not any(step.end for step in flow.steps.values()):
        raise LocatedError(1, "no step ends the conversation (end: true)")


def _safety(node: yaml.Node) -> str:
    kind = text(node, "safety", 20)
    if kind not in SAFETY_KINDS:
        raise LocatedError(line(node), f"safety must be one of {', '.join(SAFETY_KINDS)}")
    return kind


def load_flow(path: Path) -> Flow:
    """Parse and check one flow file; raise LocatedError at the first problem."""
    node = compose(path)
    fields = mapping(node, "a flow", FLOW_FIELDS)
    for name in ("title", "start", "steps"):
        if name not in fields:
            raise LocatedError(line(node), f"{name!r} is missing")
    steps_node = fields["steps"]
    if not isinstance(steps_node, yaml.MappingNode) or not steps_node.value:
        raise LocatedError(line(steps_node), "steps must be a mapping of step names to steps")
    steps: dict[str, Step] = {}
    for key, value in steps_node.value:
        if not re.fullmatch(r"[a-z0-9_-]{1,60}", key.value):
            raise LocatedError(
                line(key), f"step name {key.value!r} must be lower-case letters, digits, - or _"
            )
        if key.value in steps:
            raise LocatedError(line(key), f"step {key.value!r} is named twice")
        steps[key.value] = _step(key.value, value)
    flow = Flow(
        slug=path.stem,
        title=text(fields["title"], "title", 80),
        summary=text(fields["summary"], "summary", 300) if "summary" in fields else "",
        order=int(number(fields["order"], "order")) if "order" in fields else 100,
        safety=_safety(fields["safety"]) if "safety" in fields else "every_answer",
        start=text(fields["start"], "start", 60),
        steps=steps,
        version=hashlib.sha256(path.read_bytes()).hexdigest()[:12],
    )
    _check_graph(flow)
    return flow


# --- walking a conversation --------------------------------------------------------------


class AnswerError(ValueError):
    """An answer the person can put right; the message says what and how."""


def check_answer(step: Step, raw: str | list[str], today: dt.date) -> Any:
    """Return the answer to store for a step, or raise AnswerError saying what is wrong."""
    values = raw if isinstance(raw, list) else [raw]
    first = values[0].strip() if values else ""
    if step.ask == "text":
        words = " ".join(first.split()) if "\n" not in first else first.strip()
        if not words:
            raise AnswerError("Write an answer, or choose Skip.")
        if len(words) > step.max_length:
            raise AnswerError(f"Keep it to {step.max_length} characters (this is {len(words)}).")
        return words
    if step.ask == "choice":
        if first not in {o.value for o in step.options}:
            raise AnswerError("Choose one of the answers, or choose Skip.")
        return first
    if step.ask == "decision":
        if first not in {o.value for o in step.options} | {UNSURE}:
            raise AnswerError("Choose the option you are leaning towards, or Not sure yet.")
        return first
    if step.ask == "choices":
        chosen = [v for v in dict.fromkeys(v.strip() for v in values) if v]
        allowed = {o.value for o in step.options}
        if not chosen or any(v not in allowed for v in chosen):
            raise AnswerError("Choose one or more of the answers, or choose Skip.")
        return [o.value for o in step.options if o.value in chosen]
    if step.ask == "ruler":
        try:
            value = int(first)
        except ValueError:
            raise AnswerError(f"Choose a number from {step.low} to {step.high}.") from None
        if not step.low <= value <= step.high:
            raise AnswerError(f"Choose a number from {step.low} to {step.high}.")
        return value
    if step.ask == "date":
        try:
            day = dt.date.fromisoformat(first)
        except ValueError:
            raise AnswerError("Enter a date like 2027-03-14.") from None
        if step.future and day < today:
            raise AnswerError("That date has passed. Choose today or a day to come.")
        return day.isoformat()
    raise AnswerError("This step does not ask anything.")


def _next(flow: Flow, step: Step, answers: Mapping[str, Any], facts: Facts) -> str | None:
    own = answers.get(step.id)
    for rule in step.rules:
        if rule.when is None or rule.when.holds(own, answers, facts):
            return rule.go
    return None


def _applies(step: Step, answers: Mapping[str, Any], facts: Facts) -> bool:
    return step.only_if is None or step.only_if.holds(answers.get(step.id), answers, facts)


@dataclass(frozen=True)
class Walk:
    """Where a conversation has got to: the steps taken, the answers that still apply, and
    the step waiting for an answer (None when the conversation has ended)."""

    path: tuple[str, ...]
    answers: dict[str, Any]
    waiting: str | None

    @property
    def finished(self) -> bool:
        """Say whether the conversation has reached its end."""
        return self.waiting is None


def _still_valid(step: Step, answer: Any) -> bool:
    """Say whether a stored answer still fits the step (its flow may have changed)."""
    if answer == SKIPPED:
        return step.ask is not None
    if step.ask == "choice":
        return answer in {o.value for o in step.options}
    if step.ask == "decision":
        return answer in {o.value for o in step.options} | {UNSURE}
    if step.ask == "choices":
        return isinstance(answer, list) and set(answer) <= {o.value for o in step.options}
    if step.ask == "ruler":
        return isinstance(answer, int) and step.low <= answer <= step.high
    if step.ask in ("text", "date"):
        return isinstance(answer, str)
    return False


def walk(flow: Flow, answers: Mapping[str, Any], facts: Facts) -> Walk:
    """Follow the flow from its start with the answers given, to the first unanswered step.

    Answers to steps no longer on the path (after an earlier answer changed, or the flow
    file changed) are dropped; answers that no longer fit their step are asked again.
    """
    kept: dict[str, Any] = {}
    path: list[str] = []
    current: str | None = flow.start
    while current is not None:
        step = flow.steps[current]
        if not _applies(step, kept, facts):
            # A step that does not apply hands on to its default (last) next rule.
            current = step.rules[-1].go if step.rules else None
            continue
        path.append(current)
        if step.end:
            return Walk(tuple(path), kept, None)
        if step.ask is not None:
            answer = answers.get(current)
            if answer is None or not _still_valid(step, answer):
                return Walk(tuple(path), kept, current)
            kept[current] = answer
        current = _next(flow, step, kept, facts)
    return Walk(tuple(path), kept, None)


def say(flow: Flow, step: Step, facts: Facts, answers: Mapping[str, Any] | None = None) -> str:
    """Return what the step says, with the person's name, review, results and earlier
    answers filled in."""
    if "{" not in step.say:
        return step.say
    values: dict[str, str] = {"first_name": facts.first_name, "next_review": facts.next_review}
    for slug, (shown, trend) in facts.results.items():
        values[f"result.{slug}"] = shown
        values[f"trend.{slug}"] = trend
    for step_id, value in (answers or {}).items():
        values[f"answer.{step_id}"] = words(flow.steps[step_id], value)
    return PLACEHOLDER.sub(lambda found: values.get(found.group(1), ""), step.say)


def words(step: Step, value: Any) -> str:
    """Return an answer in words: options by their labels, a skipped answer as nothing."""
    if value == SKIPPED:
        return ""
    labels = {option.value: option.label for option in step.options}
    if isinstance(value, list):
        return ", ".join(labels.get(v, v) for v in value)
    return labels.get(value, str(value))


# --- what a finished conversation gives the person --------------------------------------


@dataclass
class ItemDraft:
    """An agenda item, question, support or decision, from one step's answer."""

    kind: str
    step: str
    text: str
    # Support: who from, in words. A decision: the topic and the leaning (or UNSURE).
    who: str = ""
    topic: str = ""
    leaning: str = ""


@dataclass
class GoalDraft:
    """A draft goal in the person's words, with the parts later steps filled in."""

    step: str
    text: str
    parts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What the answers that stand become."""

    items: list[ItemDraft] = field(default_factory=list)
    goals: list[GoalDraft] = field(default_factory=list)
    crisis: dict[str, str] = field(default_factory=dict)


def outcome(flow: Flow, walked: Walk) -> Outcome:
    """Gather what the answers on the path become, in the order they were asked.

    Goal parts belong to the goal asked most recently; who could help belongs to the
    support asked most recently (or stands alone). Skipped answers become nothing.
    """
    result = Outcome()
    for step_id in walked.path:
        step = flow.steps[step_id]
        value = walked.answers.get(step_id)
        if step.becomes is None or value is None or value == SKIPPED:
            continue
        kind = step.becomes
        if kind in ("agenda", "question", "support"):
            result.items.append(ItemDraft(kind, step_id, str(value)))
        elif kind == "support_from":
            last = result.items[-1] if result.items else None
            if last is not None and last.kind == "support" and not last.who:
                last.who = words(step, value)
            else:
                result.items.append(ItemDraft("support", step_id, "", who=words(step, value)))
        elif kind == "decision":
            leaning = "" if value == UNSURE else words(step, value)
            result.items.append(
                ItemDraft("decision", step_id, "", topic=step.topic, leaning=leaning)
            )
        elif kind == "goal":
            result.goals.append(GoalDraft(step_id, str(value)))
        elif kind in GOAL_PARTS and result.goals:
            result.goals[-1].parts[GOAL_PARTS[kind]] = value
        elif kind in CRISIS_PARTS:
            result.crisis[CRISIS_PARTS[kind]] = str(value)
    return result
