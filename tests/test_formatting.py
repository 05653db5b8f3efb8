"""Dates are shown in UK time, in the person's language."""

from __future__ import annotations

import datetime as dt

from webapp.formatting import day_month, day_month_year


def test_dates_are_shown_in_uk_time(app):
    late_summer_evening = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)  # 00:30 BST, 1 July
    winter_evening = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)  # still 31 Dec in GMT
    with app.test_request_context():
        assert day_month_year(late_summer_evening) == "1 Jul 2026"
        assert day_month_year(late_summer_evening, "wide") == "1 July 2026"
        assert day_month(winter_evening) == "31 Dec"
        assert day_month_year(dt.date(2026, 3, 5)) == "5 Mar 2026"
