"""A practice's working hours, and time counted in them. Without HTTP.

Hours are UK wall-clock times, written per practice as short clauses, for example
``mon-fri 08:00-18:30`` (the default) or ``mon-tue 08:00-18:30; wed 08:00-13:00;
thu-fri 08:00-18:30``. A practice may also be closed on England's bank holidays (the
default), which are worked out here for any year.

"One working day" after a request, which is when an unanswered request is raised to the
practice's admins, means:

- asked while the practice is open: the same time on the next working day, or that day's
  closing time if it closes earlier (or its opening time if it opens later). Asked Friday
  at 17:00, it is due on Monday at 17:00;
- asked while the practice is closed (evenings, weekends, bank holidays): the close of the
  first working day that follows, the first day anyone can see it. Asked on Saturday, or
  on Friday at 19:00, it is due on Monday at 18:30.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")
DEFAULT_HOURS = "mon-fri 08:00-18:30"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLAUSE = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<opens>\d{1,2}:\d{2})-(?P<closes>\d{1,2}:\d{2})$"
)
# A search for the next working day never needs more than this many days (a year of closed
# days would be a broken setting, not a long weekend).
_LOOK_AHEAD = 370


class HoursError(ValueError):
    """Working hours that cannot be read; the message says what to change."""


@dataclass(frozen=True)
class WorkingHours:
    """When a practice works: opening and closing times per weekday (0 is Monday)."""

    days: tuple[tuple[dt.time, dt.time] | None, ...]
    closed_on_bank_holidays: bool = True

    def hours_on(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """Return the opening and closing times on a date, or None when closed all day."""
        if self.closed_on_bank_holidays and day in england_bank_holidays(day.year):
            return None
        return self.days[day.weekday()]


def parse(spec: str, closed_on_bank_holidays: bool = True) -> WorkingHours:
    """Read working hours written as clauses like ``mon-fri 08:00-18:30``; raise HoursError."""
    days: list[tuple[dt.time, dt.time] | None] = [None] * 7
    clauses = [part.strip().lower() for part in spec.split(";") if part.strip()]
    if not clauses:
        raise HoursError("Give at least one day, like: mon-fri 08:00-18:30")
    for clause in clauses:
        match = _CLAUSE.match(clause)
        if match is None:
            raise HoursError(f"Write each part like 'mon-fri 08:00-18:30', not {clause!r}.")
        names = [match["first"], match["last"] or match["first"]]
        if any(name not in DAY_NAMES for name in names):
            raise HoursError(f"Days are mon, tue, wed, thu, fri, sat and sun: {clause!r}.")
        first, last = (DAY_NAMES.index(name) for name in names)
        if last < first:
            raise HoursError(f"Write the days in week order (mon-fri): {clause!r}.")
        try:
            opens = dt.time.fromisoformat(match["opens"].zfill(5))
            closes = dt.time.fromisoformat(match["closes"].zfill(5))
        except ValueError:
            raise HoursError(f"Times are 24-hour, like 08:00 or 18:30: {clause!r}.") from None
        if closes <= opens:
            raise HoursError(f"The practice must close after it opens: {clause!r}.")
        for weekday in range(first, last + 1):
            if days[weekday] is not None:
                raise HoursError(f"{DAY_NAMES[weekday]} is given twice.")
            days[weekday] = (opens, closes)
    return WorkingHours(tuple(days), closed_on_bank_holidays)


def describe(hours: WorkingHours) -> str:
    """Write working hours back as clauses (runs of days with the same hours joined)."""
    parts: list[str] = []
    weekday = 0
    while weekday < 7:
        times = hours.days[weekday]
        end = weekday
        while end + 1 < 7 and times is not None and hours.days[end + 1] == times:
            end += 1
        if times is not None:
            names = DAY_NAMES[weekday]
            if end != weekday:
                names += f"-{DAY_NAMES[end]}"
            parts.append(f"{names} {times[0]:%H:%M}-{times[1]:%H:%M}")
        weekday = end + 1
    return "; ".join(parts)


def _easter(year: int) -> dt.date:
    """Return Easter Sunday (Gregorian; the anonymous algorithm of 1876)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _first_monday(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(year: int, month: int) -> dt.date:
    day = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=day.weekday())


# Years when a bank holiday moved or one was added (royal and national occasions).
_MOVED = {
    (2020, "early-may"): dt.date(2020, 5, 8),
    (2022, "spring"): dt.date(2022, 6, 2),
}
_ADDED = {
    2022: (dt.date(2022, 6, 3), dt.date(2022, 9, 19)),
    2023: (dt.date(2023, 5, 8),),
}


@lru_cache(maxsize=64)
def england_bank_holidays(year: int) -> frozenset[dt.date]:
    """Return England's bank holidays in a year (with substitute days for weekends)."""
    easter = _easter(year)
    days = {
        easter - dt.timedelta(days=2),  # Good Friday
        easter + dt.timedelta(days=1),  # Easter Monday
        _MOVED.get((year, "early-may"), _first_monday(year, 5)),
        _MOVED.get((year, "spring"), _last_monday(year, 5)),
        _last_monday(year, 8),
    }
    new_year = dt.date(year, 1, 1)
    days.add(new_year + dt.timedelta(days={5: 2, 6: 1}.get(new_year.weekday(), 0)))
    christmas, boxing = dt.date(year, 12, 25), dt.date(year, 12, 26)
    # Christmas on a Saturday: Monday and Tuesday; on a Sunday: Tuesday (Boxing Day is Monday).
    shift = {5: (2, 2), 6: (2, 0)}.get(christmas.weekday(), (0, 0))
    if christmas.weekday() == 4:  # Friday: Boxing Day (Saturday) moves to Monday
        shift = (0, 2)
    days.add(christmas + dt.timedelta(days=shift[0]))
    days.add(boxing + dt.timedelta(days=shift[1]))
    days.update(_ADDED.get(year, ()))
    return frozenset(days)


def _moment(day: dt.date, at: dt.time) -> dt.datetime:
    """Return the UTC moment of a UK wall-clock time on a day."""
    return dt.datetime.combine(day, at, tzinfo=UK).astimezone(dt.UTC)


def is_open(hours: WorkingHours, moment: dt.datetime) -> bool:
    """Say whether the practice is working at a moment."""
    local = moment.astimezone(UK)
    times = hours.hours_on(local.date())
    return times is not None and _moment(local.date(), times[0]) <= moment < _moment(
        local.date(), times[1]
    )


def _working_days(hours: WorkingHours, start: dt.date):
    """Yield the working days from a date on (the date itself included), with their hours."""
    for offset in range(_LOOK_AHEAD):
        day = start + dt.timedelta(days=offset)
        times = hours.hours_on(day)
        if times is not None:
            yield day, times
    raise HoursError("The practice never opens.")


def next_open(hours: WorkingHours, moment: dt.datetime) -> dt.datetime:
    """Return when the practice will next be working: the moment itself if it is open now."""
    if is_open(hours, moment):
        return moment
    for day, (opens, _closes) in _working_days(hours, moment.astimezone(UK).date()):
        start = _moment(day, opens)
        if start > moment:
            return start
    raise HoursError("The practice never opens.")  # pragma: no cover - _working_days raises


def closes_on(hours: WorkingHours, moment: dt.datetime) -> dt.datetime:
    """Return when the working day holding a moment ends (the moment must be in one)."""
    local = moment.astimezone(UK)
    times = hours.hours_on(local.date())
    assert times is not None
    return _moment(local.date(), times[1])


def one_working_day_after(hours: WorkingHours, moment: dt.datetime) -> dt.datetime:
    """Return when a request made at a moment has waited one working day (see the module)."""
    local = moment.astimezone(UK)
    if not is_open(hours, moment):
        seen = next_open(hours, moment)
        return closes_on(hours, seen)
    days = _working_days(hours, local.date() + dt.timedelta(days=1))
    day, (opens, closes) = next(days)
    same_time = local.time().replace(tzinfo=None)
    return _moment(day, min(max(same_time, opens), closes))
