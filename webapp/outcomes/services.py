"""Outcomes of care and support planning across a practice's patients, per quarter, for the
care team and commissioners. Without HTTP.

Nothing here describes one person. Every cell that would describe fewer than 5 people is
suppressed ("fewer than 5"), and so is the total of any column with a suppressed cell (a
total would let a suppressed cell be worked out by subtraction). The page and the CSV are
made from the same cells, so they always agree.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from webapp.access import Actor, require
from webapp.accounts.models import Practice
from webapp.goals.lookback import t_score
from webapp.goals.models import GoalScore, ProgressEntry
from webapp.planning.models import Goal
from webapp.reviews.models import Review

UK = ZoneInfo("Europe/London")
SMALLEST = 5
QUARTERS = 4


@dataclass(frozen=True)
class Cell:
    """One figure and how many people it describes; shown only if they are 5 or more."""

    value: float | int | None
    people: int
    suppressed: bool = False
    # How to show it: a whole number, a percentage, or a score with one or two decimals.
    kind: str = "count"

    def shown(self) -> str:
        """Return the figure as shown on the page and in the CSV."""
        if self.suppressed:
            return _("fewer than 5")
        if self.value is None:
            return "–"
        if self.kind == "percent":
            return f"{self.value:.0f}%"
        if self.kind == "score":
            return f"{self.value:+.2f}"
        if self.kind == "tscore":
            return f"{self.value:.1f}"
        return str(self.value)


def _cell(value: float | int | None, people: int, kind: str = "count") -> Cell:
    return Cell(value=value, people=people, suppressed=0 < people < SMALLEST, kind=kind)


def _percent(ready: list, held: list) -> Cell:
    """The share of reviews prepared for. It tells of those who prepared and of those who
    did not, so both groups must be 5 people or more (or empty)."""
    held_people = {r[1] for r in held}
    ready_people = {r[1] for r in ready}
    ready_ids = {r[0] for r in ready}
    unready_people = {r[1] for r in held if r[0] not in ready_ids}
    parts = (len(held_people), len(ready_people), len(unready_people))
    return Cell(
        value=100 * len(ready) / len(held) if held else None,
        people=len(held_people),
        suppressed=any(0 < part < SMALLEST for part in parts),
        kind="percent",
    )


@dataclass
class Quarter:
    """One calendar quarter (UK time) and its cells, by column name."""

    label: str
    starts: dt.datetime
    ends: dt.datetime
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Outcomes:
    """A practice's outcomes for the last completed quarters, with totals where safe."""

    practice: Practice
    quarters: list[Quarter]
    totals: dict[str, Cell]


def columns() -> dict[str, str]:
    """Name each column, in order."""
    return {
        "reviews": _("Reviews held"),
        "prepared": _("Prepared before the review"),
        "goals_agreed": _("Goals agreed"),
        "gas_mean": _("Goal attainment (mean, -2 to +2)"),
        "gas_t": _("Goal attainment T-score (50 = as expected)"),
        "progress_people": _("People logging progress"),
        "progress_entries": _("Progress entries"),
    }


def _quarters(today: dt.date, count: int) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """The last `count` completed quarters. The quarter under way is never shown: figures
    that change day by day would let a change be traced to one person's review."""
    first_month = (today.month - 1) // 3 * 3 + 1
    year, month = (today.year, first_month - 3) if first_month > 1 else (today.year - 1, 10)
    found = []
    for _n in range(count):
        starts = dt.datetime(year, month, 1, tzinfo=UK)
        end_month, end_year = (month + 3, year) if month < 10 else (1, year + 1)
        ends = dt.datetime(end_year, end_month, 1, tzinfo=UK)
        found.append((f"{year} Q{(month - 1) // 3 + 1}", starts, ends))
        month, year = (month - 3, year) if month > 1 else (10, year - 1)
    return list(reversed(found))


def practice_outcomes(
    session: Session, actor: Actor, practice_id: int, today: dt.date | None = None
) -> Outcomes:
    """Return the practice's outcomes for the last four completed quarters, suppressed where
    small."""
    require(actor, "outcomes.read", practice_id)
    practice = session.get(Practice, practice_id)
    assert practice is not None
    now = dt.datetime.now(dt.UTC)
    today = today or now.astimezone(UK).date()
    periods = _quarters(today, QUARTERS)
    since, until = periods[0][1], periods[-1][2]
    reviews = session.exec(
        select(Review.id, Review.patient_id, Review.scheduled_at, Review.prepared_at).where(
            Review.practice_id == practice_id,
            Review.scheduled_at >= since,
            Review.scheduled_at < until,
            Review.scheduled_at <= now,
        )
    ).all()
    review_ids = [r[0] for r in reviews]
    goals = session.exec(
        select(Goal.id, Goal.patient_id, Goal.review_id).where(
            col(Goal.review_id).in_(review_ids),
            col(Goal.person_agreed_at).is_not(None),
            col(Goal.clinician_agreed_at).is_not(None),
        )
    ).all()
    patients = {r[1] for r in reviews}
    practice_goals = (
        select(Goal.id)
        .join(Review, col(Review.id) == Goal.review_id)
        .where(Review.practice_id == practice_id)
    )
    scores = session.exec(
        select(GoalScore.patient_id, GoalScore.score, GoalScore.scored_at).where(
            GoalScore.side == "person",
            col(GoalScore.goal_id).in_(practice_goals),
            GoalScore.scored_at >= since,
            GoalScore.scored_at < until,
        )
    ).all()
    entries = session.exec(
        select(ProgressEntry.patient_id, ProgressEntry.logged_at).where(
            col(ProgressEntry.goal_id).in_(practice_goals),
            ProgressEntry.logged_at >= since,
            ProgressEntry.logged_at < until,
        )
    ).all()
    when_of = {r[0]: r[2] for r in reviews}
    quarters = []
    for label, starts, ends in periods:

        def inside(moment: dt.datetime, starts: dt.datetime = starts, ends: dt.datetime = ends):
            return starts <= moment < ends

        held = [r for r in reviews if inside(r[2])]
        held_people = {r[1] for r in held}
        ready = [r for r in held if r[3] is not None and r[3] <= r[2]]
        agreed = [g for g in goals if inside(when_of[g[2]])]
        agreed_people = {g[1] for g in agreed}
        scored = [s for s in scores if inside(s[2])]
        scored_people = {s[0] for s in scored}
        logged = [e for e in entries if inside(e[1])]
        logged_people = {e[0] for e in logged}
        values = [s[1] for s in scored]
        quarters.append(
            Quarter(
                label=label,
                starts=starts,
                ends=ends,
                cells={
                    "reviews": _cell(len(held), len(held_people)),
                    "prepared": _percent(ready, held),
                    "goals_agreed": _cell(len(agreed), len(agreed_people)),
                    "gas_mean": _cell(
                        sum(values) / len(values) if values else None, len(scored_people), "score"
                    ),
                    "gas_t": _cell(t_score(values), len(scored_people), "tscore"),
                    "progress_people": _cell(len(logged_people), len(logged_people)),
                    "progress_entries": _cell(len(logged), len(logged_people)),
                },
            )
        )
    totals = _totals(quarters, reviews, goals, scores, entries, patients)
    return Outcomes(practice=practice, quarters=quarters, totals=totals)


def _totals(
    quarters: list[Quarter],
    reviews: list,
    goals: list,
    scores: list,
    entries: list,
    patients: set[int],
) -> dict[str, Cell]:
    """Totals over the quarters; a column with any suppressed cell has its total suppressed."""
    values = [s[1] for s in scores]
    ready = [r for r in reviews if r[3] is not None and r[3] <= r[2]]
    found = {
        "reviews": _cell(len(reviews), len(patients)),
        "prepared": _percent(ready, reviews),
        "goals_agreed": _cell(len(goals), len({g[1] for g in goals})),
        "gas_mean": _cell(
            sum(values) / len(values) if values else None, len({s[0] for s in scores}), "score"
        ),
        "gas_t": _cell(t_score(values), len({s[0] for s in scores}), "tscore"),
        "progress_people": _cell(len({e[0] for e in entries}), len({e[0] for e in entries})),
        "progress_entries": _cell(len(entries), len({e[0] for e in entries})),
    }
    for name in found:
        if any(q.cells[name].suppressed for q in quarters):
            found[name] = Cell(value=None, people=0, suppressed=True, kind=found[name].kind)
    return found


def as_csv(outcomes: Outcomes) -> str:
    """Return the same cells as the page, as CSV (suppressed cells say so)."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = columns()
    writer.writerow([_("Quarter"), *names.values()])
    for quarter in outcomes.quarters:
        writer.writerow([quarter.label, *(quarter.cells[n].shown() for n in names)])
    writer.writerow([_("All four quarters"), *(outcomes.totals[n].shown() for n in names)])
    return out.getvalue()
