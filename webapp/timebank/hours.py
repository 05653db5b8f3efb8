"""Hours as people write and read them, kept as whole quarter hours (an hour is 4)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import ngettext

# Most a day can hold, in quarter hours.
DAY = 96
FRACTIONS = {0: "", 1: "¼", 2: "½", 3: "¾"}
# "1:30" (hours and minutes) as well as "1.5" and "1¼".
CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)$")
VULGAR = {"¼": ".25", "½": ".5", "¾": ".75"}
THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d*)?$")


class HoursError(ValueError):
    """Hours that cannot be used; the message says what is wrong and how to put it right."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_hours(text: str, *, allow_zero: bool = False, most: int = DAY) -> int:
    """Read hours written as 1.5, 1½ or 1:30 and return quarter hours; raise HoursError for
    anything empty, negative, zero (unless allowed), not in quarter hours, or more than a
    day holds."""
    raw = (text or "").strip()
    # A comma before three digits groups thousands ("1,000" is a thousand, too many); any
    # other comma is a decimal point, as many people write it ("1,5").
    raw = raw.replace(",", "") if THOUSANDS.match(raw) else raw.replace(",", ".")
    if not raw:
        raise HoursError(_("Say how many hours, for example 1.5 for an hour and a half."))
    clock = CLOCK.match(raw)
    if clock:
        hours, minutes = int(clock.group(1)), int(clock.group(2))
        if minutes % 15:
            raise HoursError(_("Hours go in quarter hours: use :00, :15, :30 or :45."))
        value = Decimal(hours) + Decimal(minutes) / 60
    else:
        for symbol, decimal in VULGAR.items():
            raw = re.sub(r"\s*" + symbol, decimal, raw)
        raw = re.sub(r"\s*(hours?|hrs?|h)$", "", raw, flags=re.I)
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise HoursError(
                _("Write hours as a number, for example 1.5 for an hour and a half.")
            ) from None
        if not value.is_finite():
            raise HoursError(_("Write hours as a number, for example 2 or 0.75."))
    if abs(value) > most:
        if value < 0:
            raise HoursError(
                _("Hours cannot be less than nothing. Give the time as a positive number.")
            )
        raise HoursError(
            _(
                "That is more than %(most)s hours, more than fits in a day. Check the number.",
                most=most // 4 if most % 4 == 0 else most / 4,
            )
        )
    if value < 0:
        raise HoursError(
            _("Hours cannot be less than nothing. Give the time as a positive number.")
        )
    if value == 0 and not allow_zero:
        raise HoursError(_("Give at least a quarter of an hour (0.25)."))
    quarters = value * 4
    if quarters != quarters.to_integral_value():
        raise HoursError(_("Hours go in quarter hours, for example 0.25, 0.5, 0.75 or 1.25."))
    if quarters > most:
        raise HoursError(
            _(
                "That is more than %(most)s hours, more than fits in a day. Check the number.",
                most=most // 4,
            )
        )
    return int(quarters)


def hours_text(quarters: int) -> str:
    """Say quarter hours in words a person reads at a glance: '1½ hours', '¾ hour', 'no
    hours', and a minus sign for hours owed."""
    sign = "−" if quarters < 0 else ""
    whole, part = divmod(abs(quarters), 4)
    if whole == 0 and part == 0:
        return _("no hours")
    if whole == 0:
        return _("%(part)s of an hour", part=f"{sign}{FRACTIONS[part]}")
    if part == 0:
        return ngettext("%(whole)s hour", "%(whole)s hours", whole, whole=f"{sign}{whole}")
    return _("%(number)s hours", number=f"{sign}{whole}{FRACTIONS[part]}")


def short_hours(quarters: int, signed: bool = False) -> str:
    """Write quarter hours as a short number for tables: '1½', '−¾', '+2' when signed."""
    sign = "−" if quarters < 0 else ("+" if signed and quarters > 0 else "")
    whole, part = divmod(abs(quarters), 4)
    return f"{sign}{whole if whole or not part else ''}{FRACTIONS[part]}"


def decimal_hours(quarters: int) -> str:
    """Write quarter hours as a decimal for spreadsheets: 6 is '1.50', -1 is '-0.25'."""
    return f"{Decimal(quarters) / 4:.2f}"


def field_value(quarters: int | None) -> str:
    """Write quarter hours back into a form field: 6 is '1.5', 4 is '1'."""
    if quarters is None:
        return ""
    value = Decimal(quarters) / 4
    return f"{value.normalize():f}"
