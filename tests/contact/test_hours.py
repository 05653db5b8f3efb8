"""Working hours without HTTP: reading them, England's bank holidays, and one working day."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.contact import hours

UK = hours.UK
DEFAULT = hours.parse(hours.DEFAULT_HOURS)


def _uk(*parts: int) -> dt.datetime:
    """A UK wall-clock moment, as the UTC the tables keep."""
    return dt.datetime(*parts, tzinfo=UK).astimezone(dt.UTC)


def test_the_default_is_monday_to_friday_eight_till_half_six():
    assert hours.describe(DEFAULT) == "mon-fri 08:00-18:30"
    assert DEFAULT.closed_on_bank_holidays
    assert hours.is_open(DEFAULT, _uk(2026, 12, 4, 8, 0))  # a Friday, as it opens
    assert not hours.is_open(DEFAULT, _uk(2026, 12, 4, 18, 30))  # as it closes
    assert not hours.is_open(DEFAULT, _uk(2026, 12, 5, 12, 0))  # Saturday


def test_hours_are_read_per_day_and_bad_ones_say_what_to_change():
    split = hours.parse("mon-tue 08:00-18:30; wed 8:00-13:00; thu-fri 08:00-18:30; sat 9:00-12:00")
    assert hours.describe(split) == (
        "mon-tue 08:00-18:30; wed 08:00-13:00; thu-fri 08:00-18:30; sat 09:00-12:00"
    )
    for bad in (
        "",
        "weekdays 9-5",
        "fri-mon 08:00-18:00",
        "mon 18:00-08:00",
        "mon 25:00-26:00",
        "mon 08:00-12:00; mon 13:00-18:00",
        "xyz 08:00-12:00",
    ):
        with pytest.raises(hours.HoursError):
            hours.parse(bad)


def test_englands_bank_holidays_with_substitute_days():
    assert hours.england_bank_holidays(2026) == {
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 3),  # Good Friday
        dt.date(2026, 4, 6),  # Easter Monday
        dt.date(2026, 5, 4),
        dt.date(2026, 5, 25),
        dt.date(2026, 8, 31),
        dt.date(2026, 12, 25),
        dt.date(2026, 12, 28),  # Boxing Day is a Saturday
    }
    assert dt.date(2027, 12, 27) in hours.england_bank_holidays(2027)  # Christmas on Saturday
    assert dt.date(2027, 12, 28) in hours.england_bank_holidays(2027)
    assert dt.date(2022, 9, 19) in hours.england_bank_holidays(2022)  # a one-off
    assert dt.date(2022, 5, 30) not in hours.england_bank_holidays(2022)  # moved to June


def test_one_working_day_after_a_request_across_a_weekend():
    # Asked on Friday at 17:00 while open: Monday at 17:00.
    assert hours.one_working_day_after(DEFAULT, _uk(2026, 12, 4, 17)) == _uk(2026, 12, 7, 17)
    # Asked after closing on Friday, or at the weekend: the close of Monday, the first day seen.
    for asked in (_uk(2026, 12, 4, 19), _uk(2026, 12, 5, 10), _uk(2026, 12, 7, 6)):
        assert hours.one_working_day_after(DEFAULT, asked) == _uk(2026, 12, 7, 18, 30)
    # Seen from: now when open, else the next opening.
    assert hours.next_open(DEFAULT, _uk(2026, 12, 4, 17)) == _uk(2026, 12, 4, 17)
    assert hours.next_open(DEFAULT, _uk(2026, 12, 5, 10)) == _uk(2026, 12, 7, 8)


def test_bank_holidays_shorter_days_and_the_clocks_changing():
    # Christmas Eve 2026 is a Thursday; Friday 25th and Monday 28th are bank holidays.
    assert hours.one_working_day_after(DEFAULT, _uk(2026, 12, 24, 17)) == _uk(2026, 12, 29, 17)
    open_anyway = hours.parse(hours.DEFAULT_HOURS, closed_on_bank_holidays=False)
    assert hours.one_working_day_after(open_anyway, _uk(2026, 12, 24, 17)) == _uk(2026, 12, 25, 17)
    # A half day next: due when it closes.
    half = hours.parse("mon-tue 08:00-18:30; wed 08:00-13:00; thu-fri 08:00-18:30")
    assert hours.one_working_day_after(half, _uk(2026, 12, 1, 17)) == _uk(2026, 12, 2, 13)
    # The clocks go forward on Sunday 29 March 2026: 17:00 on Monday is 16:00 UTC.
    due = hours.one_working_day_after(DEFAULT, _uk(2026, 3, 27, 17))
    assert due == dt.datetime(2026, 3, 30, 16, tzinfo=dt.UTC)
