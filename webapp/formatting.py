"""Dates in the person's language and the UK's time zone, quickly enough for long lists.

Flask-Babel's `dateformat` parses its pattern and looks up the locale on every call; a list
of twenty rows calls it forty times. These filters look the month names up once per locale.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from flask import Flask, current_app
from flask_babel import get_locale
from flask_babel import gettext as _


@lru_cache(maxsize=16)
def _months(locale: str, width: str) -> dict[int, str]:
    """Return the month names of a locale, e.g. {1: 'Jan', ...} for 'abbreviated'."""
    return dict(get_month_names(width, locale=locale))


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    """Return a time zone by name."""
    return ZoneInfo(name)


def _local(moment: dt.datetime | dt.date) -> dt.date:
    """Return the calendar date of a moment in the app's time zone."""
    if isinstance(moment, dt.datetime):
        zone = _zone(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/London"))
        moment = moment.astimezone(zone) if moment.tzinfo else moment
        return moment.date()
    return moment


def local_date(moment: dt.datetime | dt.date) -> dt.date:
    """Return the calendar date of a moment in the app's time zone (UK)."""
    return _local(moment)


def day_month_year(moment: dt.datetime | dt.date, width: str = "abbreviated") -> str:
    """Format a date as '24 Nov 2026' (or '24 November 2026' with width='wide')."""
    day = _local(moment)
    return f"{day.day} {_months(str(get_locale()), width)[day.month]} {day.year}"


def day_month(moment: dt.datetime | dt.date) -> str:
    """Format a date as '24 Nov'."""
    day = _local(moment)
    return f"{day.day} {_months(str(get_locale()), 'abbreviated')[day.month]}"


def _local_moment(moment: dt.datetime) -> dt.datetime:
    """Return a moment in the app's time zone."""
    zone = _zone(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/London"))
    return moment.astimezone(zone)


def clock(moment: dt.datetime) -> str:
    """Format a moment's time of day in UK time, like '09:30'."""
    return _local_moment(moment).strftime("%H:%M")


def iso_day(moment: dt.datetime) -> str:
    """Format a moment's date in UK time as YYYY-MM-DD (for date fields)."""
    return _local_moment(moment).date().isoformat()


def init_app(app: Flask) -> None:
    """Add the date filters to the templates."""
    app.jinja_env.filters["day_month_year"] = day_month_year
    app.jinja_env.filters["day_month"] = day_month
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["iso_day"] = iso_day


def csv_cell(text: str) -> str:
    """Keep a CSV cell from being read as a formula by a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def weekday_names() -> dict[str, str]:
    """Name the days of the week, Monday first, by their digit (as reminders store them)."""
    return {
        "0": _("Monday"),
        "1": _("Tuesday"),
        "2": _("Wednesday"),
        "3": _("Thursday"),
        "4": _("Friday"),
        "5": _("Saturday"),
        "6": _("Sunday"),
    }
