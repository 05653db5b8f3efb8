"""Progress over time for one goal: in words, as a small server-drawn SVG chart, and as a table.

Encouraging, never shaming: every entry counts (including "not this time"), weeks without an
entry are simply empty, there are no streaks to lose and no red. Bars are told apart by
pattern as well as shade, so colour is never the only cue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup, escape
from sqlmodel import Session, col, select

from webapp.access import Actor
from webapp.db import utcnow
from webapp.formatting import day_month, local_date
from webapp.goals.models import ProgressEntry
from webapp.goals.services import get_goal

WEEKS = 8
OUTCOMES = ("did", "partly", "not_this_time")
WIDTH, HEIGHT = 320, 130
LEFT, RIGHT, TOP, BOTTOM = 24, 8, 10, 24


@dataclass
class Week:
    """One week (Monday to Sunday, UK time) and how many of each outcome were logged."""

    starts: dt.date
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def total(self) -> int:
        """Return how many entries the week holds."""
        return sum(self.counts.values())


@dataclass
class Reading:
    """A measurement the person logged, with the number read from it (if any)."""

    day: dt.date
    measure: str
    value: str


@dataclass
class Progress:
    """A goal's progress over the last weeks, ready to show."""

    weeks: list[Week]
    readings: list[Reading]

    @property
    def total(self) -> int:
        """Return how many entries the weeks hold."""
        return sum(w.total for w in self.weeks)

    def count(self, outcome: str) -> int:
        """Return how many entries of one outcome the weeks hold."""
        return sum(w.counts[outcome] for w in self.weeks)

    def words(self) -> list[str]:
        """Say how it has gone, kindly, in a few sentences."""
        if not self.total:
            return [
                _(
                    "Nothing logged in the last %(weeks)d weeks. Whenever you log how it went,"
                    " it shows here. Every entry counts, whatever happened.",
                    weeks=WEEKS,
                )
            ]
        parts = [
            ngettext(
                "In the last %(weeks)d weeks you logged how it went %(num)d time:",
                "In the last %(weeks)d weeks you logged how it went %(num)d times:",
                self.total,
                weeks=WEEKS,
            ),
        ]
        said = []
        if self.count("did"):
            said.append(ngettext("did it %(num)d time", "did it %(num)d times", self.count("did")))
        if self.count("partly"):
            said.append(
                ngettext("partly %(num)d time", "partly %(num)d times", self.count("partly"))
            )
        if self.count("not_this_time"):
            said.append(
                ngettext(
                    "not this time %(num)d time",
                    "not this time %(num)d times",
                    self.count("not_this_time"),
                )
            )
        sentences = [f"{parts[0]} {', '.join(said)}."]
        if self.count("did") + self.count("partly"):
            sentences.append(_("Each of those is a step towards your goal."))
        if self.count("not_this_time"):
            sentences.append(
                _("Noticing when it did not happen is useful too: it helps plan what might help.")
            )
        for measure, first, last in self.measure_changes():
            sentences.append(
                _(
                    "%(measure)s: %(first)s on %(first_day)s, %(last)s on %(last_day)s.",
                    measure=measure.capitalize(),
                    first=first.value,
                    first_day=day_month(first.day),
                    last=last.value,
                    last_day=day_month(last.day),
                )
            )
        return sentences

    def measure_changes(self) -> list[tuple[str, Reading, Reading]]:
        """Return, per measure with two readings or more, its first and latest reading."""
        by_measure: dict[str, list[Reading]] = {}
        for reading in self.readings:
            by_measure.setdefault(reading.measure.strip().lower(), []).append(reading)
        return [(name, found[0], found[-1]) for name, found in by_measure.items() if len(found) > 1]


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def goal_progress(
    session: Session, actor: Actor, goal_id: int, today: dt.date | None = None
) -> Progress:
    """Return a goal's entries of the last weeks, counted per week, and its measurements."""
    goal = get_goal(session, actor, goal_id)
    assert goal.id is not None
    return goal_progress_unchecked(session, goal.id, today)


def goal_progress_unchecked(
    session: Session, goal_id: int, today: dt.date | None = None
) -> Progress:
    """Return a goal's progress without an access check (the caller has checked)."""
    today = today or local_date(utcnow())
    first = _monday(today) - dt.timedelta(weeks=WEEKS - 1)
    weeks = [Week(starts=first + dt.timedelta(weeks=n)) for n in range(WEEKS)]
    since = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    readings = []
    for entry in session.exec(
        select(ProgressEntry)
        .where(ProgressEntry.goal_id == goal_id, col(ProgressEntry.logged_at) >= since)
        .order_by(ProgressEntry.logged_at, ProgressEntry.id)
    ):
        day = local_date(entry.logged_at)
        index = (_monday(day) - first).days // 7
        if 0 <= index < WEEKS and entry.outcome in OUTCOMES:
            weeks[index].counts[entry.outcome] += 1
        if entry.measure and entry.value and index >= 0:
            readings.append(Reading(day=day, measure=entry.measure, value=entry.value))
    return Progress(weeks=weeks, readings=readings)


def progress_chart(progress: Progress, chart_id: str, title: str) -> Markup:
    """Return a stacked bar chart of entries per week (empty weeks simply empty)."""
    chart_id = str(escape(chart_id))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    tallest = max([w.total for w in progress.weeks] + [3])
    slot = inner_w / len(progress.weeks)
    bar = round(slot * 0.6, 1)
    unit = inner_h / tallest
    parts = [
        f'<svg class="progress-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title" focusable="false" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<defs><pattern id="{chart_id}-hatch" width="5" height="5" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="5" class="hatch"/>'
        "</pattern></defs>",
        f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{LEFT + inner_w}" y2="{TOP + inner_h}" '
        'class="baseline"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" class="axis" text-anchor="end">{tallest}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + inner_h}" class="axis" text-anchor="end">0</text>',
    ]
    styles = {
        "did": "did",
        "partly": f'partly" fill="url(#{chart_id}-hatch)',
        "not_this_time": "not",
    }
    for index, week in enumerate(progress.weeks):
        x = round(LEFT + index * slot + (slot - bar) / 2, 1)
        bottom = TOP + inner_h
        for outcome in OUTCOMES:
            height = round(week.counts[outcome] * unit, 1)
            if height:
                bottom = round(bottom - height, 1)
                parts.append(
                    f'<rect x="{x}" y="{bottom}" width="{bar}" height="{height}" '
                    f'class="bar {styles[outcome]}"/>'
                )
    for index in (0, len(progress.weeks) - 1):
        anchor = "start" if index == 0 else "end"
        x = LEFT if index == 0 else LEFT + inner_w
        parts.append(
            f'<text x="{x}" y="{HEIGHT - 6}" class="axis" text-anchor="{anchor}">'
            f"{escape(day_month(progress.weeks[index].starts))}</text>"
        )
    parts.append("</svg>")
    # Every number is formatted here and every text escaped above.
    return Markup("".join(parts))  # noqa: S704
