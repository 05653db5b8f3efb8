"""The tests people read about: one file per test in content/results/, checked at start-up.

Each file names the test's codes (LOINC, SNOMED CT), the unit people read it in,
the other units labs send and how to convert them, the general target, the
wording bands that say what a number means, and the plain-English explanation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from webapp.yamlcheck import (
    LocatedError,
    compose,
)
from webapp.yamlcheck import (
    line as _line,
)
from webapp.yamlcheck import (
    listed as _list,
)
from webapp.yamlcheck import (
    mapping as _mapping,
)
from webapp.yamlcheck import (
    number as _number,
)
from webapp.yamlcheck import (
    text as _text,
)

KINDS = ("number", "blood_pressure", "coded")
BETTER = ("lower", "higher", "in range")

# Code systems as FHIR names them, and the short names content files use.
SYSTEMS = {"loinc": "http://loinc.org", "snomed": "http://snomed.info/sct"}

FIELDS = {
    "order": "where the test comes in lists (a number; lower comes first)",
    "name": "the short name shown in lists, like 'HbA1c'",
    "title": "the page title, like 'HbA1c: your average blood sugar'",
    "kind": "number, blood_pressure or coded",
    "codes": "loinc: and snomed: lists of codes",
    "names": "other names a lab or a CSV file may use",
    "unit": "the unit people read the result in",
    "units": "each unit accepted, with factor: (and offset:) to convert to the shown unit",
    "decimals": "how many decimal places to show",
    "possible": "min: and max: outside which a value is impossible",
    "same_within": "a change smaller than this is 'about the same'",
    "better": "lower, higher or in range",
    "target": "the general target: low: and/or high: (and high_second: for blood pressure)",
    "target_words": "the general target in words",
    "bands": "what a number means: a list of below: and words:",
    "answers": "for coded results: a list of text:, words: and optional codes",
    "what": "what the test is",
    "helps": "what can help",
    "questions": "questions the person might ask at the review",
}
REQUIRED = {"order", "name", "title", "kind", "codes", "what", "helps", "questions"}
NUMBER_REQUIRED = {"unit", "units", "possible", "bands"}


@dataclass(frozen=True)
class Band:
    """What a reading means, for readings below a limit (or any, for the last band)."""

    words: str
    below: float | None = None
    below_second: float | None = None

    def holds(self, value: float, second: float | None = None) -> bool:
        """Say whether the reading falls in this band."""
        if self.below is not None and not value < self.below:
            return False
        return not (self.below_second is not None and second is not None) or (
            second < self.below_second
        )


@dataclass(frozen=True)
class Answer:
    """One possible result of a coded test, such as 'Low risk' for a foot check."""

    text: str
    words: str
    codes: tuple[str, ...] = ()
    # Other words labs and GP systems use for the same answer, like "Increased risk".
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """A range a reading should sit in: either end may be open."""

    low: float | None = None
    high: float | None = None
    high_second: float | None = None

    def place(self, value: float, second: float | None = None) -> str:
        """Say where a reading sits: 'below', 'within' or 'above'."""
        if self.high is not None and value > self.high:
            return "above"
        if self.high_second is not None and second is not None and second > self.high_second:
            return "above"
        if self.low is not None and value < self.low:
            return "below"
        return "within"


@dataclass(frozen=True)
class TestInfo:
    """Everything the app knows about one test."""

    slug: str
    name: str
    title: str
    kind: str
    codes: dict[str, tuple[str, ...]]
    names: tuple[str, ...]
    unit: str
    units: dict[str, tuple[float, float]]
    decimals: int
    possible: tuple[float, float] | None
    same_within: float
    better: str | None
    target: Target | None
    target_words: str
    bands: tuple[Band, ...]
    answers: tuple[Answer, ...]
    what_html: str
    helps_html: str
    questions: tuple[str, ...]
    order: float = 0
    path: str = field(default="", compare=False)

    def convert(self, value: float, unit: str) -> float | None:
        """Return the value in the shown unit, or None if the unit is not one this test takes."""
        rule = self.units.get(normalise_unit(unit))
        if rule is None:
            return None
        factor, offset = rule
        return value * factor + offset

    def band(self, value: float, second: float | None = None) -> Band | None:
        """Return the wording band a reading falls in."""
        return next((band for band in self.bands if band.holds(value, second)), None)

    def answer(self, text: str) -> Answer | None:
        """Return the coded answer with this text or code, ignoring case."""
        wanted = " ".join(text.split()).casefold()
        for answer in self.answers:
            if answer.text.casefold() == wanted or wanted in answer.codes or wanted in answer.also:
                return answer
        return None

    def show(self, value: float) -> str:
        """Format a value in the shown unit with the test's decimal places."""
        return f"{value:.{self.decimals}f}"


def normalise_unit(unit: str) -> str:
    """Return a unit in the one spelling used for lookups: UCUM-ish, case-folded."""
    text = "".join(unit.split()).casefold()
    return UNIT_SPELLINGS.get(text, text)


# Different spellings of the same unit, as labs and people write them.
UNIT_SPELLINGS = {
    "mmhg": "mm[hg]",
    "lbs": "[lb_av]",
    "lb": "[lb_av]",
    "pounds": "[lb_av]",
    "kgs": "kg",
    "percent": "%",
    "ml/min/1.73m2": "ml/min/{1.73_m2}",
    "ml/min/1.73m^2": "ml/min/{1.73_m2}",
    "ml/min/1.73_m2": "ml/min/{1.73_m2}",
    "ml/min/1.73m²": "ml/min/{1.73_m2}",
    "kg/m²": "kg/m2",
    "litres": "l",
    "litre": "l",
}


def _codes(node: yaml.Node) -> dict[str, tuple[str, ...]]:
    codes = {}
    for name, value in _mapping(node, "codes", set(SYSTEMS)).items():
        codes[SYSTEMS[name]] = tuple(
            _text(item, f"a {name} code", 40) for item in _list(value, name)
        )
    if not codes:
        raise LocatedError(_line(node), "codes must name at least one LOINC or SNOMED CT code")
    return codes


def _units(node: yaml.Node, unit: str) -> dict[str, tuple[float, float]]:
    units = {}
    for key, value in node.value if isinstance(node, yaml.MappingNode) else []:
        rule = _mapping(value, f"unit {key.value!r}", {"factor", "offset"})
        if "factor" not in rule:
            raise LocatedError(_line(value), f"unit {key.value!r} needs a factor")
        factor = _number(rule["factor"], "factor")
        offset = _number(rule["offset"], "offset") if "offset" in rule else 0.0
        units[normalise_unit(key.value)] = (factor, offset)
    if not units:
        raise LocatedError(_line(node), "units must be a mapping of unit to factor")
    if units.get(normalise_unit(unit)) != (1.0, 0.0):
        raise LocatedError(_line(node), f"units must list the shown unit {unit!r} with factor 1")
    return units


def _target(node: yaml.Node) -> Target:
    ends = {
        key: _number(value, key)
        for key, value in _mapping(node, "target", {"low", "high", "high_second"}).items()
    }
    if not ends:
        raise LocatedError(_line(node), "target needs low:, high: or both")
    if "low" in ends and "high" in ends and ends["low"] >= ends["high"]:
        raise LocatedError(_line(node), "the target's low must be below its high")
    return Target(**ends)


def _bands(node: yaml.Node, kind: str) -> tuple[Band, ...]:
    bands = []
    items = _list(node, "bands")
    last_limit = -math.inf
    for position, item in enumerate(items, start=1):
        allowed = {"below", "words"} | ({"below_second"} if kind == "blood_pressure" else set())
        fields = _mapping(item, "a band", allowed)
        if "words" not in fields:
            raise LocatedError(_line(item), "each band needs words:")
        below = _number(fields["below"], "below") if "below" in fields else None
        if position < len(items) and below is None:
            raise LocatedError(_line(item), "every band but the last needs below:")
        if position == len(items) and below is not None:
            raise LocatedError(_line(item), "the last band has no below: (it takes the rest)")
        if below is not None:
            if below <= last_limit:
                raise LocatedError(_line(item), "bands must go up: each below: above the last")
            last_limit = below
        second = (
            _number(fields["below_second"], "below_second") if "below_second" in fields else None
        )
        bands.append(Band(_text(fields["words"], "words", 600), below, second))
    return tuple(bands)


def _texts(fields: dict[str, yaml.Node], name: str, limit: int) -> tuple[str, ...]:
    """Return an optional list of short texts, like an answer's codes."""
    if name not in fields:
        return ()
    return tuple(_text(item, f"an item of {name}", limit) for item in _list(fields[name], name))


def _answers(node: yaml.Node) -> tuple[Answer, ...]:
    answers = []
    for item in _list(node, "answers"):
        fields = _mapping(item, "an answer", {"text", "words", "codes", "also"})
        if "text" not in fields or "words" not in fields:
            raise LocatedError(_line(item), "each answer needs text: and words:")

        answers.append(
            Answer(
                _text(fields["text"], "text", 60),
                _text(fields["words"], "words", 600),
                _texts(fields, "codes", 40),
                tuple(" ".join(t.split()).casefold() for t in _texts(fields, "also", 60)),
            )
        )
    return tuple(answers)


def load_test(path: Path, render_markdown: Any) -> TestInfo:
    """Parse and check one test file; raise LocatedError at the first problem."""
    node = compose(path)
    fields = _mapping(node, "a test file", set(FIELDS))
    kind = _text(fields["kind"], "kind") if "kind" in fields else ""
    required = REQUIRED | (NUMBER_REQUIRED if kind in ("number", "blood_pressure") else {"answers"})
    for name in sorted(required - fields.keys()):
        raise LocatedError(_line(node), f"{name!r} is missing ({FIELDS[name]})")
    if kind not in KINDS:
        raise LocatedError(_line(fields["kind"]), f"kind must be one of {', '.join(KINDS)}")
    numeric = kind != "coded"
    unit = _text(fields["unit"], "unit", 30) if "unit" in fields else ""
    better = _text(fields["better"], "better") if "better" in fields else None
    if better is not None and better not in BETTER:
        raise LocatedError(_line(fields["better"]), f"better must be one of {', '.join(BETTER)}")
    possible = None
    if numeric:
        ends = _mapping(fields["possible"], "possible", {"min", "max"})
        if set(ends) != {"min", "max"}:
            raise LocatedError(_line(fields["possible"]), "possible needs min: and max:")
        possible = (_number(ends["min"], "min"), _number(ends["max"], "max"))
    decimals = int(_number(fields["decimals"], "decimals")) if "decimals" in fields else 0
    if not 0 <= decimals <= 3:
        raise LocatedError(_line(fields["decimals"]), "decimals must be 0 to 3")
    target = _target(fields["target"]) if "target" in fields else None
    if target is not None and "target_words" not in fields:
        raise LocatedError(_line(fields["target"]), "a target needs target_words: to say it")
    questions = tuple(_text(q, "a question", 200) for q in _list(fields["questions"], "questions"))
    return TestInfo(
        slug=path.stem,
        name=_text(fields["name"], "name", 40),
        title=_text(fields["title"], "title", 80),
        kind=kind,
        codes=_codes(fields["codes"]),
        names=tuple(_text(n, "a name", 60).casefold() for n in _list(fields["names"], "names"))
        if "names" in fields
        else (),
        unit=unit,
        units=_units(fields["units"], unit) if numeric else {},
        decimals=decimals,
        possible=possible,
        same_within=_number(fields["same_within"], "same_within") if "same_within" in fields else 0,
        better=better,
        target=target,
        target_words=_text(fields["target_words"], "target_words", 200)
        if "target_words" in fields
        else "",
        bands=_bands(fields["bands"], kind) if numeric else (),
        answers=_answers(fields["answers"]) if not numeric else (),
        what_html=render_markdown(_text(fields["what"], "what")),
        helps_html=render_markdown(_text(fields["helps"], "helps")),
        questions=questions,
        order=_number(fields["order"], "order"),
        path=str(path),
    )


@dataclass
class Catalogue:
    """Every test, found by slug, by code or by name."""

    tests: dict[str, TestInfo] = field(default_factory=dict)
    by_code: dict[tuple[str, str], TestInfo] = field(default_factory=dict)
    by_name: dict[str, TestInfo] = field(default_factory=dict)

    def add(self, test: TestInfo) -> list[str]:
        """Add a test; return any clashes with tests already added."""
        clashes = []
        self.tests[test.slug] = test
        for system, codes in test.codes.items():
            for code in codes:
                other = self.by_code.setdefault((system, code), test)
                if other is not test:
                    clashes.append(f"code {code} is also used by {other.slug}")
        for name in {test.slug, test.name.casefold(), *test.names}:
            other = self.by_name.setdefault(name, test)
            if other is not test:
                clashes.append(f"name {name!r} is also used by {other.slug}")
        return clashes

    def find(self, system: str, code: str) -> TestInfo | None:
        """Return the test with this code, if any."""
        return self.by_code.get((system, code.strip()))

    def named(self, text: str) -> TestInfo | None:
        """Return the test with this name, slug or code (any system), if any."""
        wanted = " ".join(text.split()).casefold()
        found = self.by_name.get(wanted)
        if found is None:
            found = next((t for (_s, code), t in self.by_code.items() if code == wanted), None)
        return found

    def ordered(self) -> list[TestInfo]:
        """Return the tests in reading order (as content names them)."""
        return sorted(self.tests.values(), key=lambda test: (test.order, test.slug))


UNIT_NAMES = {
    "mm[Hg]": "mmHg",
    "mL/min/{1.73_m2}": "mL/min/1.73m²",
    "kg/m2": "kg/m²",
    "{score}": "",
    "[lb_av]": "lb",
}


def display_unit(unit: str) -> str:
    """Return a unit as people write it (UCUM's 'mm[Hg]' is 'mmHg')."""
    return UNIT_NAMES.get(unit, unit)
