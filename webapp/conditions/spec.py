"""Long-term conditions as content: content/conditions/<slug>.yaml names one condition by its
SNOMED CT concept, in plain words, and lists the result tests that go with it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from webapp.yamlcheck import LocatedError, compose, line, listed, mapping, number, text

SNOMED = "http://snomed.info/sct"
FIELDS = {"order", "name", "snomed", "term", "also", "about", "tests"}
REQUIRED = ("order", "name", "snomed", "term", "about")
SCTID = re.compile(r"^[1-9][0-9]{5,17}$")

# The Verhoeff check digit that ends every SNOMED CT identifier: a mistyped code fails it.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def is_concept_id(code: str) -> bool:
    """Say whether code is well formed as a SNOMED CT concept id: 6 to 18 digits, a concept's
    partition (the two digits before the last: 00 or 10) and a right Verhoeff check digit."""
    if not SCTID.match(code) or code[-3:-1] not in ("00", "10"):
        return False
    check = 0
    for position, digit in enumerate(reversed(code)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


@dataclass(frozen=True)
class ConditionInfo:
    """One long-term condition as content describes it."""

    slug: str
    name: str
    snomed: str
    term: str
    about: str
    order: float = 0
    also: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """Return every SNOMED CT code filed under this condition, its own first."""
        return (self.snomed, *self.also)


@dataclass
class ConditionList:
    """Every condition in content, found by slug or by any of its SNOMED CT codes."""

    conditions: dict[str, ConditionInfo] = field(default_factory=dict)
    by_code: dict[str, ConditionInfo] = field(default_factory=dict)

    def add(self, info: ConditionInfo) -> list[str]:
        """Add a condition; return a message for each code another condition already has."""
        clashes = []
        for code in info.codes:
            other = self.by_code.get(code)
            if other is not None:
                clashes.append(f"SNOMED CT code {code} is already used by {other.slug!r}")
            else:
                self.by_code[code] = info
        self.conditions[info.slug] = info
        return clashes

    def find(self, code: str) -> ConditionInfo | None:
        """Return the condition a SNOMED CT code is filed under, if content has it."""
        return self.by_code.get(code)

    def in_order(self) -> list[ConditionInfo]:
        """Return the conditions in the order content gives them, for lists and selects."""
        return sorted(self.conditions.values(), key=lambda c: (c.order, c.name))


def _code(node, what: str) -> str:
    if not hasattr(node, "value") or not isinstance(node.value, str):
        raise LocatedError(line(node), f"{what} must be a SNOMED CT concept id")
    code = node.value.strip()
    if not is_concept_id(code):
        raise LocatedError(
            line(node),
            f"{what} {code!r} is not a SNOMED CT concept id (digits, a concept's partition "
            "and a right check digit): check it against the SNOMED CT browser",
        )
    return code


def load_condition(path: Path, known_tests: set[str]) -> ConditionInfo:
    """Read and check one condition file; raise LocatedError naming the line of any problem.

    `known_tests` are the slugs of content/results/, which `tests:` must name.
    """
    node = compose(path)
    fields = mapping(node, "a condition", FIELDS)
    for name in REQUIRED:
        if name not in fields:
            raise LocatedError(line(node), f"{name!r} is missing")
    also = (
        tuple(_code(item, "a code in 'also'") for item in listed(fields["also"], "also"))
        if ("also" in fields)
        else ()
    )
    tests: list[str] = []
    for item in listed(fields["tests"], "tests") if "tests" in fields else []:
        slug = text(item, "a test", 40)
        if slug not in known_tests:
            raise LocatedError(
                line(item), f"there is no test {slug!r} in content/results/ (tests name its files)"
            )
        if slug in tests:
            raise LocatedError(line(item), f"the test {slug!r} is listed twice")
        tests.append(slug)
    about = text(fields["about"], "about", 400)
    return ConditionInfo(
        slug=path.stem,
        name=text(fields["name"], "name", 60),
        snomed=_code(fields["snomed"], "snomed"),
        term=text(fields["term"], "term", 200),
        about=" ".join(about.split()),
        order=number(fields["order"], "order"),
        also=also,
        tests=tuple(tests),
    )
