"""The pages every benchmark and weight test measures: the one list, grown by each part.

Each page is read as a demo person would read it ("anonymous", or a demo person's email).
Paths may name `{practice}`, the demo practice's id, `{conversation}`, Pat's check-in,
and `{goal}`, Pat's first goal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """A page to measure: its name, its path, and who reads it."""

    name: str
    path: str
    reader: str = "anonymous"


PATIENT = "pat@example.org"
CLINICIAN = "priya@example.org"

PAGES = [
    Page("welcome", "/"),
    Page("sign in", "/account/signin"),
    Page("patient home", "/", PATIENT),
    Page("patient account", "/account", PATIENT),
    Page("clinician home", "/", CLINICIAN),
    Page("invitations", "/care-team/practices/{practice}/invitations", CLINICIAN),
    Page("reviews", "/reviews/practices/{practice}", CLINICIAN),
    # Pat has five years of results (ten readings of most tests) and one held back.
    Page("my results", "/results", PATIENT),
    Page("result explanation", "/results/tests/hba1c", PATIENT),
    Page("results letter", "/results/letter", PATIENT),
    Page("notifications", "/notifications", PATIENT),
    # Pat's check-in, part of the way through.
    Page("conversation", "/planning/conversations/{conversation}", PATIENT),
    # Pat's plan, agreed six months ago: two goals with two years of progress entries.
    Page("my goals", "/goals", PATIENT),
    Page("goal page", "/goals/{goal}", PATIENT),
    Page("my plan", "/plan", PATIENT),
]
