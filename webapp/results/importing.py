"""Reading results from a staff form, a CSV file or FHIR R4 JSON into one common shape.

Every reader turns its input into `Reading`s, noting where each came from
("row 3", "entry 2 (Observation/bp)") so that any problem can say exactly where
it is. Nothing here touches the database: `services.import_readings` does that,
all or nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from pydantic import ValidationError

from webapp.results.catalogue import Catalogue, TestInfo, display_unit

NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
LOCAL_SYSTEM = "urn:coproduce:test"
UCUM = "http://unitsofmeasure.org"
# Blood pressure's two numbers, as LOINC and SNOMED CT code them.
SYSTOLIC = {"8480-6", "271649006"}
DIASTOLIC = {"8462-4", "271650006"}
# Observation statuses: these stand and are imported; a later one with the same
# identifier replaces the reading it corrects.
FINAL_STATUSES = {"final", "amended", "corrected"}
CORRECTING_STATUSES = {"amended", "corrected"}
WITHDRAWN = "entered-in-error"

MAX_FILE_BYTES = 1024 * 1024
MAX_READINGS = 5000
CSV_COLUMNS = ("nhs_number", "test", "value", "unit", "date_taken", "reference_range")
CSV_REQUIRED = ("test", "value", "date_taken")
# Statuses that mean "this reading does not stand": never imported. One entered in error
# with an identifier withdraws the reading it names; without one it is skipped.
VOID_STATUSES = {WITHDRAWN, "cancelled"}
IDENTIFIER_LENGTH = 200
# Resources that come in the same files and are read by their own module (Conditions:
# webapp/conditions/fhir.py); read_fhir lets them through and reads the Observations.
OTHER_RESOURCES = ("Condition",)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one part of an import, and where."""

    where: str
    message: str
    column: str = ""

    def __str__(self) -> str:
        """Return the problem as one line: 'Row 3, column value: ...'."""
        place = f"{self.where}, {self.column}" if self.column else self.where
        return f"{place}: {self.message}"


def _place(problem: Problem) -> tuple[int, str]:
    """Sort key: problems in the order of the rows or entries they are about."""
    number = re.search(r"\d+", problem.where)
    return (int(number.group()) if number else 0, problem.column)


class ImportFailed(Exception):
    """Nothing was imported; `problems` says every reason, in the order of the input."""

    def __init__(self, problems: list[Problem]) -> None:
        problems = sorted(problems, key=_place)
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Reading:
    """One result as read from the input, before it is matched and checked."""

    where: str
    columns: dict[str, str]
    subject: str | None
    system: str
    code: str
    display: str
    taken_at: dt.datetime | None
    value: float | None = None
    value_second: float | None = None
    value_text: str | None = None
    unit: str = ""
    # How the sender wrote the unit for people (FHIR's `unit`), shown for tests the app
    # has no page for; `unit` is the code used to convert.
    unit_label: str = ""
    reference_low: float | None = None
    reference_high: float | None = None
    reference_unit: str = ""
    reference_text: str = ""
    # "<" or ">" when the lab gives a limit rather than a number, like eGFR ">90".
    comparator: str = ""
    # The sender's identifier for the reading (FHIR only), and what the sender says of it:
    # "final", "amended", "corrected" or "entered-in-error" ("" for CSV and the form).
    identifier_system: str = ""
    identifier_value: str | None = None
    status: str = ""
    issued_at: dt.datetime | None = None

    @property
    def identifier(self) -> str:
        """Return the sender's identifier as staff read it: 'value (system)', or ''."""
        if self.identifier_value is None:
            return ""
        if self.identifier_system:
            return f"{self.identifier_value} ({self.identifier_system})"
        return self.identifier_value

    @property
    def withdraws(self) -> bool:
        """Say whether this reading only withdraws an earlier one (entered in error)."""
        return self.status == WITHDRAWN


@dataclass
class Prepared:
    """A reading matched to a test, converted to the shown unit and checked."""

    reading: Reading
    test: TestInfo | None
    value: float | None
    value_second: float | None
    value_text: str | None
    unit: str
    received: str
    reference_low: float | None
    reference_high: float | None
    patient_id: int | None = None


# --- checking and converting ---------------------------------------------------


def _number_text(value: float) -> str:
    return f"{value:g}"


def prepare(
    catalogue: Catalogue, reading: Reading, now: dt.datetime
) -> tuple[Prepared | None, list[Problem]]:
    """Match a reading to its test, convert its unit and check it is possible."""
    problems: list[Problem] = []
    where, columns = reading.where, reading.columns
    test = catalogue.find(reading.system, reading.code) if reading.code else None
    if test is None and reading.system == LOCAL_SYSTEM:
        test = catalogue.named(reading.code)
    if reading.taken_at is None:
        problems.append(
            Problem(where, _("the date the test was taken is missing."), columns.get("date", ""))
        )
    elif reading.taken_at > now + dt.timedelta(hours=1):
        problems.append(
            Problem(
                where,
                _("the date taken is in the future. Check the date."),
                columns.get("date", ""),
            )
        )
    elif reading.taken_at.year < 1900:
        problems.append(
            Problem(
                where, _("the date taken is too long ago. Check the date."), columns.get("date", "")
            )
        )
    value, second, text = reading.value, reading.value_second, reading.value_text
    unit = reading.unit
    received = " ".join(
        part
        for part in (
            reading.comparator + _number_text(value) if value is not None else "",
            f"/{_number_text(second)}" if second is not None else "",
            text or "",
            reading.unit,
        )
        if part
    ).replace(" /", "/")
    ref_low, ref_high = reading.reference_low, reading.reference_high
    value_column = columns.get("value", "")
    if value is None and second is None and not text:
        problems.append(Problem(where, _("the value is missing."), value_column))
    elif test is not None and test.kind == "coded":
        answer = test.answer(text or (_number_text(value) if value is not None else ""))
        if answer is None:
            choices = ", ".join(a.text for a in test.answers)
            problems.append(
                Problem(
                    where,
                    _(
                        "%(value)r is not a result of the %(test)s. Use one of: %(choices)s.",
                        value=text or value,
                        test=test.name,
                        choices=choices,
                    ),
                    value_column,
                )
            )
        else:
            text, value, unit = answer.text, None, ""
    elif test is not None:
        if value is None:
            problems.append(
                Problem(
                    where, _("the %(test)s result must be a number.", test=test.name), value_column
                )
            )
        elif test.kind == "blood_pressure" and second is None:
            problems.append(
                Problem(where, _("blood pressure needs both numbers, like 135/85."), value_column)
            )
        elif not unit and len(test.units) > 1:
            problems.append(
                Problem(
                    where,
                    _(
                        "the unit is missing. %(test)s comes in more than one unit, so say "
                        "which: %(units)s.",
                        test=test.name,
                        units=", ".join(sorted(test.units)),
                    ),
                    columns.get("unit", ""),
                )
            )
        else:
            given = unit or test.unit
            converted = test.convert(value, given)
            if converted is None:
                shown = ", ".join(sorted({u for u in test.units}))
                problems.append(
                    Problem(
                        where,
                        _(
                            "the unit %(unit)r cannot be converted for %(test)s. "
                            "Use one of: %(units)s.",
                            unit=given,
                            test=test.name,
                            units=shown,
                        ),
                        columns.get("unit", ""),
                    )
                )
            else:
                if second is not None:
                    second = test.convert(second, given)
                low, high = test.possible or (-math.inf, math.inf)
                # The bottom number of a blood pressure has its own, lower, range.
                if not low <= converted <= high or (second is not None and not 20 <= second <= 200):
                    problems.append(
                        Problem(
                            where,
                            _(
                                "%(value)s %(unit)s is not a possible %(test)s result "
                                "(it must be between %(low)s and %(high)s %(unit)s).",
                                value=test.show(converted),
                                unit=display_unit(test.unit),
                                test=test.name,
                                low=_number_text(low),
                                high=_number_text(high),
                            ),
                            value_column,
                        )
                    )
                value, unit = converted, test.unit
                reference_unit = reading.reference_unit or given
                ref_low = test.convert(ref_low, reference_unit) if ref_low is not None else None
                ref_high = test.convert(ref_high, reference_unit) if ref_high is not None else None
    elif value is not None and (value < 0 or not math.isfinite(value)):
        problems.append(Problem(where, _("a result cannot be a negative number."), value_column))
    if problems:
        return None, problems
    if test is None and not reading.display:
        reading.display = reading.code
    return (
        Prepared(
            reading=reading,
            test=test,
            value=value,
            value_second=second,
            value_text=text,
            unit=(reading.unit_label or unit)
            if test is None
            else (unit if test.kind != "coded" else ""),
            received=received[:80],
            reference_low=ref_low,
            reference_high=ref_high,
        ),
        [],
    )


# --- dates, numbers and ranges in text -------------------------------------------


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
TIME_FORMATS = ("%H:%M", "%H:%M:%S")


def parse_when(text: str) -> dt.datetime | None:
    """Read a date, or a date and time, as written in UK systems; None if it is not one.

    A date alone is taken as midday UTC so it shows as the same day everywhere.
    """
    text = text.strip().replace("T", " ")
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None:
        if len(text) <= 10:
            return parsed.replace(hour=12, tzinfo=dt.UTC)
        if parsed.tzinfo is None:
            from zoneinfo import ZoneInfo

            parsed = parsed.replace(tzinfo=ZoneInfo("Europe/London"))
        return parsed.astimezone(dt.UTC)
    day, _sep, clock = text.partition(" ")
    for date_format in DATE_FORMATS:
        try:
            date = dt.datetime.strptime(day, date_format)
        except ValueError:
            continue
        if not clock:
            return date.replace(hour=12, tzinfo=dt.UTC)
        for time_format in TIME_FORMATS:
            try:
                time = dt.datetime.strptime(clock, time_format).time()
            except ValueError:
                continue
            from zoneinfo import ZoneInfo

            return dt.datetime.combine(
                date.date(), time, tzinfo=ZoneInfo("Europe/London")
            ).astimezone(dt.UTC)
    return None


NUMBER = r"[-+]?\d+(?:\.\d+)?"


def parse_value(text: str) -> tuple[float | None, float | None, str | None]:
    """Read a value: a number, two numbers like 135/85, or words like 'Low risk'.

    A limit like '>90' is read as 90; `parse_comparator` gives the '>'.
    """
    text = text.strip()
    if re.fullmatch(NUMBER, text):
        return float(text), None, None
    limit = re.fullmatch(rf"(<=|>=|<|>)\s*({NUMBER})", text)
    if limit:
        return float(limit.group(2)), None, None
    pair = re.fullmatch(rf"({NUMBER})\s*/\s*({NUMBER})", text)
    if pair:
        return float(pair.group(1)), float(pair.group(2)), None
    return None, None, text or None


def parse_comparator(text: str) -> str:
    """Return the '<', '>', '<=' or '>=' a value starts with, if any."""
    found = re.match(r"\s*(<=|>=|<|>)", text)
    return found.group(1) if found else ""


def parse_range(text: str) -> tuple[float | None, float | None, bool]:
    """Read a reference range like '3.1-6.2', '<4.5' or '>1.0'; the flag says if it was one."""
    text = text.strip().replace(" ", "")
    if not text:
        return None, None, True
    both = re.fullmatch(rf"({NUMBER})-({NUMBER})", text)
    if both:
        return float(both.group(1)), float(both.group(2)), True
    upper = re.fullmatch(rf"(?:<|<=|≤)({NUMBER})", text)
    if upper:
        return None, float(upper.group(1)), True
    lower = re.fullmatch(rf"(?:>|>=|≥)({NUMBER})", text)
    if lower:
        return float(lower.group(1)), None, True
    return None, None, False


def _decode(data: bytes, what: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise ImportFailed(
            [
                Problem(
                    _("The file"),
                    _(
                        "it is %(size)s; the largest file taken is 1 MB. "
                        "Split it into smaller files.",
                        size=f"{len(data) / 1024 / 1024:.1f} MB",
                    ),
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed(
            [
                Problem(
                    _("The file"),
                    _(
                        "it is not a %(what)s text file (UTF-8). Save it as UTF-8 and try again.",
                        what=what,
                    ),
                )
            ]
        ) from None


# --- the staff form and CSV ------------------------------------------------------


def rows_to_readings(
    rows: list[tuple[str, dict[str, str]]], column_names: dict[str, str]
) -> tuple[list[Reading], list[Problem]]:
    """Turn rows of text fields (CSV or the staff form) into readings; note each problem."""
    readings, problems = [], []
    for where, row in rows:
        value, second, text = parse_value(row.get("value", ""))
        when_text = row.get("date_taken", "")
        taken_at = parse_when(when_text)
        row_problems = []
        if when_text.strip() and taken_at is None:
            row_problems.append(
                Problem(
                    where,
                    _(
                        "%(text)r is not a date. Write it like 2026-11-02 or 02/11/2026.",
                        text=when_text.strip(),
                    ),
                    column_names["date_taken"],
                )
            )
        low, high, ok = parse_range(row.get("reference_range", ""))
        if not ok:
            row_problems.append(
                Problem(
                    where,
                    _("write the reference range like 3.1-6.2, <4.5 or >1.0."),
                    column_names["reference_range"],
                )
            )
        name = " ".join(row.get("test", "").split())
        if not name:
            row_problems.append(Problem(where, _("the test is missing."), column_names["test"]))
        problems.extend(row_problems)
        if row_problems:
            continue
        readings.append(
            Reading(
                where=where,
                columns={key: column_names[key] for key in ("value", "unit", "test")}
                | {"date": column_names["date_taken"]},
                subject="".join(row.get("nhs_number", "").split()) or None,
                system=LOCAL_SYSTEM,
                code=name,
                display=name,
                taken_at=taken_at,
                value=value,
                value_second=second,
                value_text=text[:200] if text else None,
                comparator=parse_comparator(row.get("value", "")),
                unit=row.get("unit", "").strip(),
                reference_low=low,
                reference_high=high,
                reference_text=row.get("reference_range", "").strip()[:120],
            )
        )
    return readings, problems


def read_csv(data: bytes) -> tuple[list[Reading], list[Problem]]:
    """Read a CSV file of results; raise ImportFailed naming every bad row and column."""
    text = _decode(data, "CSV")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise ImportFailed(
            [
                Problem(
                    _("The file"),
                    _("it is not a CSV file that can be read (%(error)s).", error=error),
                )
            ]
        ) from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportFailed([Problem(_("The file"), _("it is empty."))])
    header = [cell.strip().lower().replace(" ", "_") for cell in rows[0]]
    missing = [name for name in CSV_REQUIRED if name not in header]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if missing or unknown:
        message = _(
            "the first row must name the columns: %(columns)s.", columns=", ".join(CSV_COLUMNS)
        )
        details = []
        if missing:
            details.append(_("Missing: %(names)s.", names=", ".join(missing)))
        if unknown:
            details.append(_("Not known: %(names)s.", names=", ".join(unknown)))
        raise ImportFailed([Problem(_("Row 1"), " ".join([message, *details]))])
    if len(rows) - 1 > MAX_READINGS:
        raise ImportFailed(
            [
                Problem(
                    _("The file"),
                    _("it has more than %(n)d rows. Split it into smaller files.", n=MAX_READINGS),
                )
            ]
        )
    records, problems = [], []
    for number, row in enumerate(rows[1:], start=2):
        where = _("Row %(n)d", n=number)
        if len(row) > len(header):
            problems.append(Problem(where, _("it has more cells than the first row has columns.")))
            continue
        records.append(
            (where, {name: (row[i] if i < len(row) else "") for i, name in enumerate(header)})
        )
    readings, row_problems = rows_to_readings(
        records, {name: _("column %(name)s", name=name) for name in CSV_COLUMNS}
    )
    problems.extend(row_problems)
    return readings, problems


# --- FHIR R4 -----------------------------------------------------------------------


def _fhir_class(resource_type: str) -> Any:
    # R4 and R4B share the structure of Observation, Bundle, DiagnosticReport and Patient;
    # fhir.resources ships R4B as the closest release to R4 (4.0.1).
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def _validation_problems(where: str, error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors()[:10]:
        path = ".".join(str(part) for part in item["loc"] if part != "__root__")
        problems.append(Problem(where, item["msg"].rstrip(".") + ".", path))
    return problems


def _to_float(value: Decimal | float | int | None) -> float | None:
    return float(value) if value is not None else None


def _when(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(12), tzinfo=dt.UTC)
    return parse_when(str(value))


def _effective(resource: Any) -> dt.datetime | None:
    period = getattr(resource, "effectivePeriod", None)
    return _when(
        getattr(resource, "effectiveDateTime", None)
        or getattr(resource, "effectiveInstant", None)
        or (period.start if period is not None else None)
    )


def _nhs_number(identifiers: list[Any] | None) -> str | None:
    for identifier in identifiers or []:
        if identifier.system == NHS_SYSTEM and identifier.value:
            return "".join(identifier.value.split())
    return None


def _identifier(identifiers: list[Any] | None) -> tuple[str, str] | None:
    """Return the first usable identifier of an Observation, as (system, value)."""
    for identifier in identifiers or []:
        value = (identifier.value or "").strip()
        system = (identifier.system or "").strip()
        if value and len(value) <= IDENTIFIER_LENGTH and len(system) <= IDENTIFIER_LENGTH:
            return system, value
    return None


def _identifier_text(identifier: tuple[str, str]) -> str:
    system, value = identifier
    return f"{value!r} ({system})" if system else repr(value)


def _issued(resource: Any) -> dt.datetime | None:
    """Return when the sender issued this version: `issued`, else `meta.lastUpdated`."""
    meta = getattr(resource, "meta", None)
    return _when(resource.issued) or _when(meta.lastUpdated if meta is not None else None)


def _subject(item: Any, by_reference: dict[str, Any]) -> str | None:
    """Return the NHS number of an Observation's subject, directly or through a Patient."""
    if item.subject is None:
        return None
    subject = (
        "".join((item.subject.identifier.value or "").split())
        if (item.subject.identifier is not None and item.subject.identifier.system == NHS_SYSTEM)
        else None
    )
    patient = by_reference.get(item.subject.reference or "")
    if subject is None and patient is not None and patient.get_resource_type() == "Patient":
        subject = _nhs_number(patient.identifier)
    return subject


def _coding(concept: Any, catalogue: Catalogue) -> tuple[str, str, str]:
    """Pick the coding to file a reading under: a known one first, else the first."""
    codings = list(getattr(concept, "coding", None) or [])
    text = getattr(concept, "text", None) or ""
    for coding in codings:
        if coding.system and coding.code and catalogue.find(coding.system, coding.code):
            return coding.system, coding.code, coding.display or text
    if codings:
        first = codings[0]
        return first.system or "", first.code or "", (text or first.display or first.code or "")
    return "", "", text


def _concept_text(concept: Any) -> str:
    codings = list(concept.coding or [])
    for coding in codings:
        if coding.code:
            return coding.code
    return concept.text or (codings[0].display if codings else "")


def _observation(
    resource: Any,
    where: str,
    catalogue: Catalogue,
    subject: str | None,
    fallback_when: dt.datetime | None,
) -> tuple[Reading | None, list[Problem]]:
    system, code, display = _coding(resource.code, catalogue)
    display = display.replace("\u200b", "")
    reading = Reading(
        where=where,
        columns={
            "value": "valueQuantity",
            "unit": "valueQuantity.unit",
            "date": "effectiveDateTime",
            "test": "code",
        },
        subject=subject,
        system=system,
        code=code,
        display=display or code,
        taken_at=_effective(resource) or fallback_when or _when(resource.issued),
    )
    if not code and not display:
        return None, [Problem(where, _("the test has no code or name."), "code")]
    given = resource.effectiveDateTime
    if given is not None and _when(given) is None:
        return None, [
            Problem(
                where,
                _("the date taken (%(date)s) needs a day as well as a month and year.", date=given),
                "effectiveDateTime",
            )
        ]
    quantity = resource.valueQuantity
    components = list(resource.component or [])
    if quantity is not None:
        reading.value = _to_float(quantity.value)
        reading.comparator = quantity.comparator or ""
        reading.unit = quantity.code or quantity.unit or ""
        reading.unit_label = quantity.unit or quantity.code or ""
    elif resource.valueCodeableConcept is not None:
        concept = resource.valueCodeableConcept
        shown = concept.text or next((c.display for c in concept.coding or [] if c.display), "")
        reading.value_text = shown or _concept_text(concept)
        test = catalogue.find(system, code)
        if test is not None and test.kind == "coded":
            # A coded result matches on any of its codes or words.
            candidates = [c.code for c in concept.coding or [] if c.code]
            candidates += [c.display for c in concept.coding or [] if c.display]
            candidates += [concept.text] if concept.text else []
            reading.value_text = next(
                (test.answer(c).text for c in candidates if test.answer(c)), reading.value_text
            )
    elif resource.valueString is not None:
        reading.value_text = resource.valueString[:200]
    elif resource.valueInteger is not None:
        reading.value = float(resource.valueInteger)
    elif resource.valueBoolean is not None:
        reading.value_text = _("Yes") if resource.valueBoolean else _("No")
    elif components:
        parts = {}
        top = bottom = None
        for component in components:
            _s, part_code, part_display = _coding(component.code, catalogue)
            codes = {c.code for c in component.code.coding or [] if c.code}
            if component.valueQuantity is not None:
                parts[part_code or part_display] = component
                if codes & SYSTOLIC:
                    top = component.valueQuantity
                elif codes & DIASTOLIC:
                    bottom = component.valueQuantity
        if top is not None and bottom is not None:
            reading.value, reading.value_second = _to_float(top.value), _to_float(bottom.value)
            reading.unit = top.code or top.unit or ""
            reading.columns = reading.columns | {
                "value": "component",
                "unit": "component.valueQuantity.unit",
            }
        else:
            reading.value_text = (
                "; ".join(
                    f"{name}: {_number_text(float(c.valueQuantity.value))} "
                    f"{c.valueQuantity.unit or ''}".strip()
                    for name, c in parts.items()
                    if c.valueQuantity is not None and c.valueQuantity.value is not None
                )[:200]
                or None
            )
    if resource.referenceRange:
        first = resource.referenceRange[0]
        reading.reference_low = _to_float(first.low.value) if first.low is not None else None
        reading.reference_high = _to_float(first.high.value) if first.high is not None else None
        bound = first.low or first.high
        reading.reference_unit = (bound.code or bound.unit or "") if bound is not None else ""
        reading.reference_text = (first.text or "")[:120]
    return reading, []


def read_fhir(data: bytes, catalogue: Catalogue) -> tuple[list[Reading], list[Problem]]:
    """Read FHIR R4 JSON (an Observation, or a Bundle of them); raise ImportFailed if wrong."""
    text = _decode(data, "JSON")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFailed(
            [
                Problem(
                    _("The file"),
                    _(
                        "it is not valid JSON (line %(line)d, column %(column)d: %(error)s).",
                        line=error.lineno,
                        column=error.colno,
                        error=error.msg,
                    ),
                )
            ]
        ) from None
    kind = document.get("resourceType") if isinstance(document, dict) else None
    if not isinstance(kind, str):
        raise ImportFailed(
            [
                Problem(
                    _("The file"),
                    _("it has no resourceType. Send a FHIR Observation or a Bundle of them."),
                )
            ]
        )
    if kind in OTHER_RESOURCES:
        return [], []
    if kind not in ("Observation", "Bundle"):
        shown = kind
        raise ImportFailed(
            [
                Problem(
                    _("The file"),
                    _(
                        "it is a FHIR %(kind)s; send an Observation or a Bundle of Observations.",
                        kind=shown,
                    ),
                )
            ]
        )
    try:
        resource = _fhir_class(kind).model_validate(document)
    except ValidationError as error:
        raise ImportFailed(_validation_problems(kind, error)) from None
    entries: list[tuple[str, str, Any]] = []
    if kind == "Observation":
        entries.append(("", f"Observation/{resource.id or ''}".rstrip("/"), resource))
    else:
        for number, entry in enumerate(resource.entry or [], start=1):
            if entry.resource is None:
                continue
            item = entry.resource
            entries.append(
                (entry.fullUrl or "", f"{item.get_resource_type()}/{item.id or number}", item)
            )
    by_reference: dict[str, Any] = {}
    for full_url, reference, item in entries:
        by_reference[reference] = item
        if full_url:
            by_reference[full_url] = item
    report_dates: dict[int, dt.datetime] = {}
    for _url, _ref, item in entries:
        if item.get_resource_type() == "DiagnosticReport":
            when = _effective(item) or _when(item.issued)
            for result in item.result or []:
                target = by_reference.get(result.reference or "")
                if target is not None and when is not None:
                    report_dates[id(target)] = when
    readings, problems = [], []
    observations = [
        (ref, item) for _url, ref, item in entries if item.get_resource_type() == "Observation"
    ]
    if not observations and any(i.get_resource_type() in OTHER_RESOURCES for *_x, i in entries):
        return [], []
    if not observations:
        raise ImportFailed(
            [Problem(_("The file"), _("it holds no Observations, so there are no results in it."))]
        )
    if len(observations) > MAX_READINGS:
        raise ImportFailed(
            [
                Problem(
                    _("The file"),
                    _(
                        "it has more than %(n)d results. Split it into smaller files.",
                        n=MAX_READINGS,
                    ),
                )
            ]
        )
    first_place: dict[tuple[str, str], str] = {}
    for number, (reference, item) in enumerate(observations, start=1):
        where = (
            _("Observation %(n)d (%(ref)s)", n=number, ref=reference)
            if kind == "Bundle"
            else reference
        )
        identifier = _identifier(item.identifier)
        if identifier is not None:
            earlier = first_place.setdefault(identifier, where)
            if earlier != where:
                problems.append(
                    Problem(
                        where,
                        _(
                            "its identifier %(identifier)s is also on %(earlier)s. A file may "
                            "hold each result once: send the latest version of it only.",
                            identifier=_identifier_text(identifier),
                            earlier=earlier,
                        ),
                        "identifier",
                    )
                )
                continue
        if item.status in VOID_STATUSES:
            if item.status == WITHDRAWN and identifier is not None:
                readings.append(
                    Reading(
                        where=where,
                        columns={"test": "code", "date": "effectiveDateTime"},
                        subject=_subject(item, by_reference),
                        system="",
                        code="",
                        display="",
                        taken_at=None,
                        identifier_system=identifier[0],
                        identifier_value=identifier[1],
                        status=WITHDRAWN,
                        issued_at=_issued(item),
                    )
                )
            continue  # without an identifier there is nothing here it could withdraw
        if item.status not in FINAL_STATUSES:
            problems.append(
                Problem(
                    where,
                    _(
                        "its status is %(status)r: only final results are imported. "
                        "Send it again when the lab has finished it.",
                        status=item.status,
                    ),
                    "status",
                )
            )
            continue
        has_value = any(
            getattr(item, name, None) is not None
            for name in (
                "valueQuantity",
                "valueCodeableConcept",
                "valueString",
                "valueInteger",
                "valueBoolean",
            )
        ) or bool(item.component)
        if not has_value and (item.hasMember or item.dataAbsentReason):
            continue  # a panel that only groups other readings, or a reading that was not made
        reading, found = _observation(
            item, where, catalogue, _subject(item, by_reference), report_dates.get(id(item))
        )
        problems.extend(found)
        if reading is not None:
            if identifier is not None:
                reading.identifier_system, reading.identifier_value = identifier
            reading.status = item.status
            reading.issued_at = _issued(item)
            readings.append(reading)
    return readings, problems


def looks_like_json(data: bytes) -> bool:
    """Say whether an uploaded file is JSON (FHIR) rather than CSV, from its first character."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")
