"""What staff and people do with results: import, hold back, release, read, ask about."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, bindparam, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, can, require
from webapp.accounts.models import Person, Practice, PracticeRole, Role
from webapp.conditions import fhir as condition_fhir
from webapp.conditions.fhir import ConditionImport, ConditionReading
from webapp.content import get_content
from webapp.db import utcnow
from webapp.formatting import day_month_year, local_date
from webapp.links import public_url
from webapp.mail import send_mail
from webapp.notifications.services import notify
from webapp.planning.models import AgendaItem
from webapp.results import importing
from webapp.results.catalogue import Catalogue, Target, TestInfo, display_unit
from webapp.results.importing import ImportFailed, Prepared, Problem, Reading
from webapp.results.models import Result, ResultTarget
from webapp.reviews.models import Review, ReviewStatus


class ResultError(Exception):
    """Something staff or the person can put right; the message says what and how."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def catalogue() -> Catalogue:
    """Return the tests loaded from content/results/."""
    return get_content().results


# --- importing -----------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: results added, corrected and withdrawn, and what it left alone."""

    added: list[Result] = field(default_factory=list)
    corrected: list[Result] = field(default_factory=list)
    withdrawn: list[Result] = field(default_factory=list)
    already_there: int = 0
    # Versions older than the one already here (by the sender's issue time), or a plain
    # re-send of a result the sender had withdrawn: left as they are.
    older: int = 0
    # Amended or corrected results whose earlier version was never imported: added as new.
    new_corrections: int = 0
    people: int = 0
    # Conditions that came in the same FHIR file (webapp/conditions/fhir.py).
    conditions: ConditionImport = field(default_factory=ConditionImport)

    def summary(self) -> str:
        """Say what happened, in a sentence or a few (and one more for conditions)."""
        said = self._results_summary()
        conditions = self.conditions
        if conditions.added or conditions.updated:
            told = ngettext(
                "Added %(num)d condition.", "Added %(num)d conditions.", len(conditions.added)
            )
            if conditions.updated:
                told += " " + ngettext("Updated %(num)d.", "Updated %(num)d.", conditions.updated)
        elif conditions.already_there:
            told = ngettext(
                "The condition was already here.",
                "All %(num)d conditions were already here.",
                conditions.already_there,
            )
        else:
            return said
        return f"{said} {told}" if said else told

    def _results_summary(self) -> str:
        """Say what happened to the results ('' if the file had none)."""
        added, corrected, withdrawn = len(self.added), len(self.corrected), len(self.withdrawn)
        if not (added or corrected or withdrawn or self.already_there or self.older) and (
            self.conditions.added or self.conditions.updated or self.conditions.already_there
        ):
            return ""
        said = []
        if not (added or corrected or withdrawn):
            said.append(
                _("Nothing new: all %(same)d results were already here.", same=self.already_there)
                if not self.older
                else _("Nothing changed.")
            )
        if added:
            people = ngettext("%(num)d person", "%(num)d people", self.people)
            said.append(
                ngettext(
                    "Imported %(num)d result for %(people)s.",
                    "Imported %(num)d results for %(people)s.",
                    added,
                    people=people,
                )
            )
        if corrected:
            said.append(
                ngettext(
                    "Corrected %(num)d result; the earlier value is kept in the record.",
                    "Corrected %(num)d results; the earlier values are kept in the record.",
                    corrected,
                )
            )
        if withdrawn:
            said.append(
                ngettext(
                    "Withdrew %(num)d result the sender marked as entered in error.",
                    "Withdrew %(num)d results the sender marked as entered in error.",
                    withdrawn,
                )
            )
        if self.already_there and (added or corrected or withdrawn or self.older):
            said.append(
                ngettext(
                    "%(num)d was already here.", "%(num)d were already here.", self.already_there
                )
            )
        if self.older:
            said.append(
                ngettext(
                    "%(num)d was an earlier version of a result since corrected or withdrawn, "
                    "so it was left as it is.",
                    "%(num)d were earlier versions of results since corrected or withdrawn, "
                    "so they were left as they are.",
                    self.older,
                )
            )
        if self.new_corrections:
            said.append(
                ngettext(
                    "%(num)d correction had no earlier version here, so it was added as a new "
                    "result: check the person has no older value of it from another file.",
                    "%(num)d corrections had no earlier version here, so they were added as new "
                    "results: check the person has no older values of them from another file.",
                    self.new_corrections,
                )
            )
        return " ".join(said)


def _content_fingerprint(
    practice_id: int,
    key: str,
    taken_at: dt.datetime,
    value: float | None,
    value_second: float | None,
    comparator: str,
    value_text: str | None,
    unit: str,
) -> str:
    parts = [
        str(practice_id),
        key,
        taken_at.astimezone(dt.UTC).isoformat(timespec="minutes"),
        f"{value:.3f}" if value is not None else "",
        f"{value_second:.3f}" if value_second is not None else "",
        comparator if value is not None else "",
        (value_text or "").casefold(),
        unit.casefold(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _fingerprint(practice_id: int, prepared: Prepared) -> str:
    """Return what makes a reading the same reading, whichever file or unit it came in."""
    reading = prepared.reading
    assert reading.taken_at is not None
    return _content_fingerprint(
        practice_id,
        prepared.test.slug if prepared.test else f"{reading.system}|{reading.code}",
        reading.taken_at,
        prepared.value,
        prepared.value_second,
        reading.comparator,
        prepared.value_text,
        prepared.unit,
    )


def _stored_fingerprint(result: Result) -> str:
    """Return the fingerprint a stored reading's values have (as `_fingerprint` makes it)."""
    return _content_fingerprint(
        result.practice_id,
        result.test or f"{result.system}|{result.code}",
        result.taken_at,
        result.value,
        result.value_second,
        result.comparator,
        result.value_text,
        result.unit,
    )


def _practice_patient_ids(
    session: Session, practice_id: int, nhs_numbers: Iterable[str]
) -> dict[str, int]:
    """Return the practice's patients among the NHS numbers, as number -> person id."""
    numbers = sorted(set(nhs_numbers))
    if not numbers:
        return {}
    rows = session.exec(
        select(Person.nhs_number, Person.id)
        .join(PracticeRole, PracticeRole.person_id == Person.id)
        .where(
            PracticeRole.practice_id == practice_id,
            PracticeRole.role == Role.PATIENT,
            col(Person.nhs_number).in_(numbers),
        )
    ).all()
    return {number: person_id for number, person_id in rows if number}


def practice_patient_by_nhs(
    session: Session, actor: Actor, practice_id: int, nhs_number: str
) -> int | None:
    """Return the id of the practice's patient with this NHS number, if there is one."""
    require(actor, "results.manage", practice_id)
    return _practice_patient_ids(session, practice_id, [nhs_number]).get(nhs_number)


def is_practice_patient(session: Session, practice_id: int, patient_id: int) -> bool:
    """Say whether the person is a patient of the practice."""
    return (
        session.exec(
            select(PracticeRole.id).where(
                PracticeRole.practice_id == practice_id,
                PracticeRole.person_id == patient_id,
                PracticeRole.role == Role.PATIENT,
            )
        ).first()
        is not None
    )


def import_readings(
    session: Session,
    actor: Actor | None,
    practice_id: int,
    readings: list[Reading],
    source: str,
    patient_id: int | None = None,
    problems: list[Problem] | None = None,
    conditions: list[ConditionReading] | None = None,
) -> ImportReport:
    """Check, match and store readings, all or nothing; a reading already stored is skipped.

    `actor` is None only for the command line, which runs with the operator's authority.
    With `patient_id` every reading is that person's whatever its NHS number says.
    `problems` already found while reading the input are reported with the rest.
    `conditions` (FHIR Conditions from the same file) are matched and stored with them.
    """
    if actor is not None:
        require(actor, "results.manage", practice_id)
    if session.get(Practice, practice_id) is None:
        raise ImportFailed(
            [Problem(_("The practice"), _("there is no practice with that number."))]
        )
    if patient_id is not None and not is_practice_patient(session, practice_id, patient_id):
        raise ImportFailed(
            [Problem(_("The person"), _("they are not a patient of this practice."))]
        )
    problems = list(problems or [])
    conditions = list(conditions or [])
    if not readings and not problems and not conditions:
        raise ImportFailed([Problem(_("The import"), _("there are no results in it."))])
    now = utcnow()
    tests = catalogue()
    prepared_list: list[Prepared] = []
    for reading in readings:
        if reading.withdraws:
            # Only names a reading to withdraw: there is no value to check.
            prepared_list.append(Prepared(reading, None, None, None, None, "", "", None, None))
            continue
        prepared, found = importing.prepare(tests, reading, now)
        problems.extend(found)
        if prepared is not None:
            prepared_list.append(prepared)
    if patient_id is None:
        known = _practice_patient_ids(
            session,
            practice_id,
            [
                *(p.reading.subject for p in prepared_list if p.reading.subject),
                *(c.subject for c in conditions if c.subject),
            ],
        )
        problems.extend(condition_fhir.match_people(conditions, known, None))
        for prepared in prepared_list:
            subject = prepared.reading.subject
            if not subject:
                problems.append(
                    Problem(
                        prepared.reading.where,
                        _(
                            "there is no NHS number to say whose result this is. "
                            "Add it, or choose the person the whole file is for."
                        ),
                    )
                )
            elif subject not in known:
                problems.append(
                    Problem(
                        prepared.reading.where,
                        _(
                            "NHS number %(number)s is not a patient of this practice.",
                            number=subject,
                        ),
                    )
                )
            else:
                prepared.patient_id = known[subject]
    else:
        subjects = {p.reading.subject for p in prepared_list if p.reading.subject}
        subjects |= {c.subject for c in conditions if c.subject}
        problems.extend(condition_fhir.match_people(conditions, {}, patient_id))
        if len(subjects) > 1:
            problems.append(
                Problem(
                    _("The file"),
                    _(
                        "it holds results for %(n)d different NHS numbers, so it cannot all be "
                        "one person's. Import it on the practice's import page, where each "
                        "result goes to the person with its NHS number.",
                        n=len(subjects),
                    ),
                )
            )
        for prepared in prepared_list:
            prepared.patient_id = patient_id
    if problems:
        raise ImportFailed(problems)
    report = _store(session, actor, practice_id, prepared_list, source, conditions)
    return report


class _Changed(Exception):
    """A reading changed under an import (another import at the same moment): try again."""


def _stale(reading: Reading, result: Result) -> bool:
    """Say whether the sender issued this version before the one already stored."""
    return (
        reading.issued_at is not None
        and result.issued_at is not None
        and reading.issued_at < result.issued_at
    )


def _result_values(prepared: Prepared, source: str, fingerprint: str) -> dict[str, object]:
    """Return the columns a reading fills, as stored on first import or on a correction."""
    reading = prepared.reading
    return {
        "test": prepared.test.slug if prepared.test else None,
        "system": reading.system[:100],
        "code": reading.code[:60],
        "display": (prepared.test.name if prepared.test else reading.display)[:200],
        "value": prepared.value,
        "value_second": prepared.value_second,
        "value_text": prepared.value_text[:200] if prepared.value_text else None,
        "comparator": reading.comparator if prepared.value is not None else "",
        "unit": prepared.unit[:40],
        "received": prepared.received,
        "reference_low": prepared.reference_low,
        "reference_high": prepared.reference_high,
        "reference_text": reading.reference_text,
        "taken_at": reading.taken_at,
        "source": source,
        "fingerprint": fingerprint,
        "issued_at": reading.issued_at,
    }


def _as_recorded(result: Result) -> dict[str, object]:
    """Return a reading's value as the audit trail keeps it."""
    return {
        "value": show_result(result),
        "received": result.received,
        "taken_at": result.taken_at,
        "issued_at": result.issued_at,
    }


def _store(
    session: Session,
    actor: Actor | None,
    practice_id: int,
    prepared_list: list[Prepared],
    source: str,
    conditions: list[ConditionReading] | None = None,
) -> ImportReport:
    """Add new readings, correct and withdraw those the sender names, and store the
    Conditions of the same file, in one transaction."""
    for attempt in range(3):
        try:
            report = _store_once(
                session, actor, practice_id, prepared_list, source, conditions or []
            )
        except (IntegrityError, _Changed):
            # Someone imported the same readings at the same moment: read them again.
            session.rollback()
            if attempt == 2:
                raise
            continue
        return report
    raise AssertionError("unreachable")


def _store_once(
    session: Session,
    actor: Actor | None,
    practice_id: int,
    prepared_list: list[Prepared],
    source: str,
    conditions: list[ConditionReading],
) -> ImportReport:
    """Decide what each reading does, refuse the import if any cannot, then do it all."""
    report = ImportReport()
    now = utcnow()
    fingerprints = {
        id(p): _fingerprint(practice_id, p) for p in prepared_list if not p.reading.withdraws
    }
    people = {p.patient_id for p in prepared_list}
    by_fingerprint = {
        (r.patient_id, r.fingerprint): r
        for r in session.exec(
            select(Result).where(
                col(Result.patient_id).in_(people),
                col(Result.fingerprint).in_(set(fingerprints.values())),
            )
        )
    }
    named = {p.reading.identifier_value for p in prepared_list if p.reading.identifier_value}
    by_identifier = {
        (r.identifier_system, r.identifier_value): r
        for r in session.exec(
            select(Result).where(
                Result.practice_id == practice_id, col(Result.identifier_value).in_(named)
            )
        )
    }
    problems: list[Problem] = []
    additions: list[Prepared] = []
    corrections: list[tuple[Result, Prepared]] = []
    withdrawals: list[Result] = []
    adoptions: list[tuple[Result, Reading]] = []
    seen: set[tuple[int | None, str]] = set()
    for prepared in prepared_list:
        reading = prepared.reading
        stored = (
            by_identifier.get((reading.identifier_system, reading.identifier_value))
            if reading.identifier_value is not None
            else None
        )
        if stored is not None and stored.patient_id != prepared.patient_id:
            problems.append(
                Problem(
                    reading.where,
                    _(
                        "its identifier %(identifier)s is on a result already filed for another "
                        "person at this practice. If that was the wrong person, the sender must "
                        "first send it as entered in error, then send it for the right person "
                        "with a new identifier.",
                        identifier=reading.identifier,
                    ),
                    "identifier",
                )
            )
        elif reading.withdraws:
            if stored is None:
                problems.append(
                    Problem(
                        reading.where,
                        _(
                            "it is marked entered in error, but no result with the identifier "
                            "%(identifier)s has been imported here, so there is nothing to "
                            "withdraw. Take it out of the file and import the file again.",
                            identifier=reading.identifier,
                        ),
                        "status",
                    )
                )
            elif stored.withdrawn_at is not None:
                report.already_there += 1
            elif _stale(reading, stored):
                report.older += 1
            else:
                withdrawals.append(stored)
        elif stored is not None:
            if _stale(reading, stored) or (
                stored.withdrawn_at is not None
                and reading.status not in importing.CORRECTING_STATUSES
            ):
                report.older += 1
            elif (
                stored.withdrawn_at is None
                and _stored_fingerprint(stored) == fingerprints[id(prepared)]
            ):
                report.already_there += 1
            else:
                corrections.append((stored, prepared))
        else:
            key = (prepared.patient_id, fingerprints[id(prepared)])
            same = by_fingerprint.get(key)
            if same is not None or key in seen:
                report.already_there += 1
                if (
                    same is not None
                    and same.identifier_value is None
                    and reading.identifier_value is not None
                ):
                    adoptions.append((same, reading))
                continue
            seen.add(key)
            if reading.status in importing.CORRECTING_STATUSES:
                report.new_corrections += 1
            additions.append(prepared)
    if problems:
        raise ImportFailed(problems)

    for same, reading in adoptions:
        # The same reading, sent before without an identifier: later corrections find it.
        if same.identifier_value is None:
            same.identifier_system = reading.identifier_system
            same.identifier_value = reading.identifier_value
            session.add(same)
    for prepared in additions:
        assert prepared.patient_id is not None and prepared.reading.taken_at is not None
        result = Result(
            practice_id=practice_id,
            patient_id=prepared.patient_id,
            identifier_system=prepared.reading.identifier_system[:200],
            identifier_value=prepared.reading.identifier_value,
            imported_by_id=actor.id if actor else None,
            **_result_values(prepared, source, fingerprints[id(prepared)]),
        )
        session.add(result)
        report.added.append(result)
    report.people = len({r.patient_id for r in report.added})
    report.conditions = condition_fhir.stage(session, actor, practice_id, conditions)
    session.flush()

    told: dict[int, list[str]] = {}
    taken = set(seen)  # the fingerprints this import gives, besides those already stored
    for stored, prepared in corrections:
        seen_by_person = stored.released_at is not None and not stored.held
        before = _as_recorded(stored)
        fingerprint = fingerprints[id(prepared)]
        key = (stored.patient_id, fingerprint)
        other = by_fingerprint.get(key)
        clash = (
            (other is not None and other.id != stored.id)
            or key in taken
            or session.exec(
                select(Result.id).where(
                    Result.patient_id == stored.patient_id,
                    Result.fingerprint == fingerprint,
                    Result.id != stored.id,
                )
            ).first()
        )
        if clash:
            # The corrected value is also on another reading: keep this one's fingerprint its own.
            fingerprint = hashlib.sha256(f"{stored.id}|{fingerprint}".encode()).hexdigest()
        taken.add((stored.patient_id, fingerprint))
        values = _result_values(prepared, source, fingerprint) | {
            "corrected_at": now,
            "corrected_from": str(before["value"])[:200],
            "withdrawn_at": None,
        }
        changed = session.exec(
            update(Result)
            .where(
                col(Result.id) == stored.id,
                col(Result.fingerprint) == stored.fingerprint,
                _same_withdrawal(stored),
            )
            .values(**values)
            .returning(col(Result.id))
        ).all()
        if not changed:
            raise _Changed()
        session.refresh(stored)
        report.corrected.append(stored)
        audit.record(
            session,
            actor.id if actor else None,
            "results.correct",
            stored.patient_id,
            practice_id=practice_id,
            result_id=stored.id,
            identifier=prepared.reading.identifier,
            status=prepared.reading.status,
            before=before,
            after=_as_recorded(stored),
        )
        if seen_by_person:
            told.setdefault(stored.patient_id, []).append("corrected")
    for stored in withdrawals:
        seen_by_person = stored.released_at is not None and not stored.held
        changed = session.exec(
            update(Result)
            .where(col(Result.id) == stored.id, col(Result.withdrawn_at).is_(None))
            .values(withdrawn_at=now)
            .returning(col(Result.id))
        ).all()
        if not changed:
            raise _Changed()
        session.refresh(stored)
        report.withdrawn.append(stored)
        audit.record(
            session,
            actor.id if actor else None,
            "results.withdraw",
            stored.patient_id,
            practice_id=practice_id,
            result_id=stored.id,
            identifier=f"{stored.identifier_value} ({stored.identifier_system})",
            was=_as_recorded(stored),
        )
        if seen_by_person:
            told.setdefault(stored.patient_id, []).append("withdrawn")
    for person_id in sorted({r.patient_id for r in report.added}):
        audit.record(
            session,
            actor.id if actor else None,
            "results.import",
            person_id,
            practice_id=practice_id,
            source=source,
            count=sum(1 for r in report.added if r.patient_id == person_id),
        )
    messages = {person_id: _changed_message(kinds) for person_id, kinds in told.items()}
    for person_id, message in messages.items():
        notify(session, person_id, "results.corrected", message, "/results")
        # Written to the outbox with the correction, so the email goes only if it holds.
        _mail_changed(session, person_id, message)
    session.commit()
    return report


def _same_withdrawal(result: Result) -> ColumnElement[bool]:
    """Match the reading only while it is still withdrawn, or not, as it was read."""
    if result.withdrawn_at is None:
        return col(Result.withdrawn_at).is_(None)
    return col(Result.withdrawn_at).is_not(None)


def _changed_message(kinds: list[str]) -> str:
    """Say calmly, with no health details, that results the person has read have changed."""
    corrected, withdrawn = kinds.count("corrected"), kinds.count("withdrawn")
    said = []
    if corrected:
        said.append(
            ngettext(
                "One of the results you have read has been corrected by the lab or surgery. "
                "Your results page now shows the corrected one.",
                "%(num)d of the results you have read have been corrected by the lab or "
                "surgery. Your results page now shows the corrected ones.",
                corrected,
            )
        )
    if withdrawn:
        said.append(
            ngettext(
                "One of the results you have read was recorded by mistake, so it has been "
                "taken off your results page.",
                "%(num)d of the results you have read were recorded by mistake, so they have "
                "been taken off your results page.",
                withdrawn,
            )
        )
    said.append(_("You can ask about this at your review."))
    return " ".join(said)


def _mail_changed(session: Session, person_id: int, message: str) -> None:
    """Email the person that a result they read has changed: no health details, a link."""
    person = session.get(Person, person_id)
    if person is None or not person.email:
        return
    send_mail(
        session,
        person.email,
        _("A change to your results"),
        _(
            "Hello %(name)s,\n\n%(message)s\n\nSign in to read them: %(link)s\n",
            name=person.first_name,
            message=message,
            link=public_url("results.mine"),
        ),
    )


def import_file(
    session: Session,
    actor: Actor | None,
    practice_id: int,
    data: bytes,
    patient_id: int | None = None,
) -> ImportReport:
    """Import a CSV or FHIR R4 JSON file, telling which by its first character."""
    if actor is not None:
        require(actor, "results.manage", practice_id)
    if not data.strip():
        raise ImportFailed(
            [Problem(_("The file"), _("it is empty. Choose a CSV or FHIR JSON file."))]
        )
    conditions: list[ConditionReading] = []
    if importing.looks_like_json(data):
        (readings, problems), source = importing.read_fhir(data, catalogue()), "fhir"
        conditions, found = condition_fhir.read_conditions(data)
        problems += found
    else:
        (readings, problems), source = importing.read_csv(data), "csv"
    return import_readings(
        session, actor, practice_id, readings, source, patient_id, problems, conditions
    )


FORM_ROWS = 4


def import_form(
    session: Session, actor: Actor, review: Review, rows: list[dict[str, str]]
) -> ImportReport:
    """Import the results staff typed into the form for one person's review."""
    filled = [
        (_("Line %(n)d", n=number), row)
        for number, row in enumerate(rows, start=1)
        if any(row.get(key, "").strip() for key in ("value", "date_taken"))
    ]
    if not filled:
        raise ImportFailed(
            [
                Problem(
                    _("The form"), _("enter at least one result: a test, its value and the date.")
                )
            ]
        )
    names = {
        key: _("column %(name)s", name=label)
        for key, label in (
            ("test", _("test")),
            ("value", _("value")),
            ("unit", _("unit")),
            ("date_taken", _("date taken")),
            ("reference_range", _("reference range")),
        )
    }
    tests = catalogue().tests
    for _where, row in filled:
        test = tests.get(row.get("test", ""))
        if test is not None and not row.get("unit", "").strip():
            row["unit"] = test.unit  # the form shows each test with its unit
    readings, problems = importing.rows_to_readings(filled, names)
    return import_readings(
        session, actor, review.practice_id, readings, "form", review.patient_id, problems
    )


# --- staff: one person's results for a review -------------------------------------------


def staff_results(session: Session, actor: Actor, review: Review) -> list[Result]:
    """Return every result of the review's person at its practice, held ones included."""
    require(actor, "results.manage", review.practice_id)
    return list(
        session.exec(
            select(Result)
            .where(Result.patient_id == review.patient_id, Result.practice_id == review.practice_id)
            .order_by(col(Result.taken_at).desc(), col(Result.id).desc())
        )
    )


def is_old(result: Result) -> bool:
    """Say whether staff can fold a result away: sent to the person more than a year ago."""
    return (
        result.released_at is not None
        and not result.held
        and result.taken_at < utcnow() - dt.timedelta(days=365)
    )


def _staff_result(session: Session, actor: Actor, result_id: int) -> Result:
    result = session.get(Result, result_id)
    require(actor, "results.manage", result.practice_id if result else None)
    assert result is not None
    return result


def hold_result(session: Session, actor: Actor, result_id: int, note: str) -> Result:
    """Hold a result back from the person (and any carer), with a note for the care team."""
    result = _staff_result(session, actor, result_id)
    note = " ".join(note.split())
    if len(note) > 500:
        raise ResultError(_("Keep the note to 500 characters or fewer."), "note")
    result.held = True
    result.held_note = note
    audit.record(session, actor.id, "results.hold", result.patient_id, result_id=result.id)
    session.commit()
    return result


def unhold_result(session: Session, actor: Actor, result_id: int) -> Result:
    """Stop holding a result back; it goes to the person with the next release."""
    result = _staff_result(session, actor, result_id)
    result.held = False
    result.released_at = None
    audit.record(session, actor.id, "results.unhold", result.patient_id, result_id=result.id)
    session.commit()
    return result


def waiting_count(session: Session, review: Review) -> int:
    """Return how many of the person's results are ready to release (not held, not yet sent)."""
    return len(
        session.exec(
            select(Result.id).where(
                Result.patient_id == review.patient_id,
                Result.practice_id == review.practice_id,
                col(Result.released_at).is_(None),
                Result.held == False,  # noqa: E712
                col(Result.withdrawn_at).is_(None),
            )
        ).all()
    )


def release_results(session: Session, actor: Actor | None, review: Review) -> int:
    """Send the person their results that are not held back; tell them in the app and by email.

    `actor` is None when results go on their set date. Returns how many were released.
    """
    if actor is not None:
        require(actor, "results.manage", review.practice_id)
    now = utcnow()
    # Claim the waiting results in one statement: of two presses, or two clocks, at once,
    # the second finds them claimed (on PostgreSQL it waits for the first's row locks, then
    # reads them again) and tells nobody anything.
    waiting = session.exec(
        update(Result)
        .where(
            col(Result.patient_id) == review.patient_id,
            col(Result.practice_id) == review.practice_id,
            col(Result.released_at).is_(None),
            col(Result.held) == False,  # noqa: E712
            col(Result.withdrawn_at).is_(None),
        )
        .values(released_at=now)
        .returning(col(Result.id))
    ).all()
    if not waiting:
        raise ResultError(_("There are no results waiting to be released."))
    review.results_released_at = now
    if review.status == ReviewStatus.PLANNED:
        review.status = ReviewStatus.RESULTS_RELEASED
    review.updated_at = now
    when = day_month_year(review.scheduled_at, "wide")
    message = _("Your results for your review on %(day)s are ready to read.", day=when)
    link = public_url("results.mine")
    notify(session, review.patient_id, "results.released", message, "/results")
    audit.record(
        session,
        actor.id if actor else None,
        "results.release",
        review.patient_id,
        review_id=review.id,
        count=len(waiting),
    )
    person = session.get(Person, review.patient_id)
    if person is not None and person.email:
        # No health details in email: only that there is something to read, and where.
        send_mail(
            session,
            person.email,
            _("Your results are ready to read"),
            _(
                "Hello %(name)s,\n\n%(message)s\n\nSign in to read them: %(link)s\n\n"
                "They come with plain explanations, and you can mark anything you want to "
                "talk about at your review.\n",
                name=person.first_name,
                message=message,
                link=link,
            ),
        )
    session.commit()
    return len(waiting)


def set_release_date(session: Session, actor: Actor, review: Review, day: dt.date | None) -> Review:
    """Set (or clear) the day the person's results go to them without anyone pressing release."""
    require(actor, "results.manage", review.practice_id)
    if day is not None and day < utcnow().date() - dt.timedelta(days=1):
        raise ResultError(_("That day has passed. Choose today or a day to come."), "release_on")
    if day is not None and day > local_date(review.scheduled_at):
        raise ResultError(
            _("Results should reach the person before the review. Choose an earlier day."),
            "release_on",
        )
    review.release_on = day
    review.updated_at = utcnow()
    audit.record(
        session, actor.id, "results.release_date", review.patient_id, review_id=review.id, day=day
    )
    session.commit()
    return review


def release_due(session: Session, today: dt.date) -> int:
    """Release results for every review whose release day has come; return how many reviews."""
    reviews = list(
        session.exec(
            select(Review).where(
                col(Review.release_on).is_not(None),
                col(Review.release_on) <= today,
                Review.status == ReviewStatus.PLANNED,
            )
        )
    )
    released = 0
    for review in reviews:
        try:
            release_results(session, None, review)
        except ResultError:
            continue  # nothing to send yet: try again next time
        released += 1
    return released


def set_target(
    session: Session,
    actor: Actor,
    practice_id: int,
    patient_id: int,
    slug: str,
    low: float | None,
    high: float | None,
    high_second: float | None = None,
) -> ResultTarget | None:
    """Set the person's own target for a test (None for both ends goes back to the general one)."""
    require(actor, "results.manage", practice_id)
    if not is_practice_patient(session, practice_id, patient_id):
        raise NotFound()
    test = catalogue().tests.get(slug)
    if test is None or test.kind == "coded":
        raise ResultError(_("Choose a test that has a number."), "test")
    existing = session.exec(
        select(ResultTarget).where(ResultTarget.patient_id == patient_id, ResultTarget.test == slug)
    ).first()
    if low is None and high is None:
        if existing is not None:
            session.delete(existing)
        audit.record(session, actor.id, "results.target", patient_id, test=slug, cleared=True)
        session.commit()
        return None
    low_limit, high_limit = test.possible or (0, float("inf"))
    for value in (low, high):
        if value is not None and not low_limit <= value <= high_limit:
            raise ResultError(
                _(
                    "A %(test)s target must be between %(low)g and %(high)g %(unit)s.",
                    test=test.name,
                    low=low_limit,
                    high=high_limit,
                    unit=display_unit(test.unit),
                ),
                "target",
            )
    if low is not None and high is not None and low >= high:
        raise ResultError(_("The lower end of the target must be below the upper end."), "target")
    target = existing or ResultTarget(patient_id=patient_id, practice_id=practice_id, test=slug)
    target.low, target.high, target.high_second = low, high, high_second
    target.set_by_id, target.set_at = actor.id, utcnow()
    session.add(target)
    audit.record(session, actor.id, "results.target", patient_id, test=slug)
    session.commit()
    return target


def personal_targets(session: Session, patient_id: int) -> dict[str, Target]:
    """Return the person's own targets, by test."""
    return {
        row.test: Target(row.low, row.high, row.high_second)
        for row in session.exec(select(ResultTarget).where(ResultTarget.patient_id == patient_id))
    }


# --- the person reading their results ----------------------------------------------------


@dataclass
class TestSummary:
    """One test as the person reads it: the latest reading, the ones before, what they mean."""

    key: str
    name: str
    test: TestInfo | None
    readings: list[Result]
    target: Target | None = None
    personal_target: bool = False

    @property
    def anchor(self) -> str:
        """Return an HTML id for the test's card: its slug, or a digest of a foreign code."""
        if self.test is not None:
            return f"test-{self.test.slug}"
        return "test-x" + hashlib.sha256(self.key.encode()).hexdigest()[:12]

    @property
    def latest(self) -> Result:
        """Return the newest reading."""
        return self.readings[0]

    @property
    def previous(self) -> list[Result]:
        """Return the readings before the newest, newest first."""
        return self.readings[1:]

    def shown(self, result: Result) -> str:
        """Return a reading as the person reads it, like '58 mmol/mol' or '135/85 mmHg'."""
        return show_result(result, self.test)

    def number(self, result: Result) -> str:
        """Return a reading without its unit, like '58' or '135/85'."""
        return show_result(result, self.test, with_unit=False)

    def corrected(self, result: Result) -> str:
        """Return 'corrected on 3 December 2026' for a reading corrected after the person
        could read it ('' otherwise: a reading corrected before it reached them is just it)."""
        return corrected_note(result)

    @cached_property
    def direction(self) -> str:
        """Say in a few words how the newest reading compares, like 'higher than last time'."""
        if not self.previous:
            return _("your first reading here")
        latest, before = self.latest, self.previous[0]
        if latest.value is None or before.value is None:
            same = (latest.value_text or "") == (before.value_text or "")
            return _("the same as last time") if same else _("different from last time")
        change = latest.value - before.value
        if abs(change) <= (self.test.same_within if self.test else 0):
            return _("about the same as last time")
        return _("higher than last time") if change > 0 else _("lower than last time")

    @cached_property
    def trend(self) -> str:
        """Say in words how the newest reading compares with the one before."""
        if not self.previous:
            return _("This is your first reading of this test here.")
        latest, before = self.latest, self.previous[0]
        when = day_month_year(before.taken_at, "wide")
        last = self.shown(before)
        if latest.value is None or before.value is None:
            if (latest.value_text or "") == (before.value_text or ""):
                return _("The same as last time (%(day)s).", day=when)
            return _("Last time it was %(value)s (%(day)s).", value=last, day=when)
        same_within = self.test.same_within if self.test else 0
        change = latest.value - before.value
        if abs(change) <= same_within:
            return _("About the same as last time (%(value)s on %(day)s).", value=last, day=when)
        if change > 0:
            return _("Higher than last time (%(value)s on %(day)s).", value=last, day=when)
        return _("Lower than last time (%(value)s on %(day)s).", value=last, day=when)

    @cached_property
    def target_text(self) -> str:
        """Say the target, like '53 or lower'."""
        target, unit = self.target, display_unit(self.test.unit if self.test else "")
        if target is None or self.test is None:
            return ""
        show = self.test.show
        if target.high is not None and target.high_second is not None:
            return _(
                "%(top)s/%(bottom)s %(unit)s or lower",
                top=show(target.high),
                bottom=show(target.high_second),
                unit=unit,
            )
        if target.low is not None and target.high is not None:
            return _(
                "between %(low)s and %(high)s %(unit)s",
                low=show(target.low),
                high=show(target.high),
                unit=unit,
            )
        if target.high is not None:
            return _("%(high)s %(unit)s or lower", high=show(target.high), unit=unit)
        assert target.low is not None
        return _("%(low)s %(unit)s or higher", low=show(target.low), unit=unit)

    @cached_property
    def place(self) -> str | None:
        """Say where the newest reading sits against the target: below, within or above."""
        if self.target is None or self.latest.value is None:
            return None
        return self.target.place(self.latest.value, self.latest.value_second)

    @cached_property
    def place_words(self) -> str:
        """Say in calm words where the newest reading sits against the target."""
        place = self.place
        if place is None:
            return ""
        whose = _("your own target") if self.personal_target else _("the usual target")
        words = {
            "within": _("Within %(whose)s of %(target)s."),
            "above": _("Above %(whose)s of %(target)s."),
            "below": _("Below %(whose)s of %(target)s."),
        }[place]
        return words % {"whose": whose, "target": self.target_text}

    @cached_property
    def meaning(self) -> str:
        """Return what the newest reading means, from the test's wording bands or answers."""
        latest = self.latest
        if self.test is None:
            return ""
        if self.test.kind == "coded":
            answer = self.test.answer(latest.value_text or "")
            return answer.words if answer else ""
        if latest.value is None:
            return ""
        band = self.test.band(latest.value, latest.value_second)
        return band.words if band else ""


def show_result(result: Result, test: TestInfo | None = None, with_unit: bool = True) -> str:
    """Return a reading as people read it, like '58 mmol/mol', '135/85 mmHg' or 'Low risk'."""
    if test is None and result.test:
        test = catalogue().tests.get(result.test)
    if result.value is None:
        return result.value_text or ""
    if test is not None:
        number = result.comparator + test.show(result.value)
        if result.value_second is not None:
            number += "/" + test.show(result.value_second)
    else:
        number = f"{result.comparator}{result.value:g}"
    return f"{number} {display_unit(result.unit)}".strip() if with_unit else number


def corrected_note(result: Result) -> str:
    """Say when a reading the person had been sent was corrected, or '' if it was not."""
    corrected, released = result.corrected_at, result.released_at
    if corrected is None or released is None or corrected < released:
        return ""
    return _("corrected on %(day)s", day=day_month_year(corrected, "wide"))


def result_name(result: Result) -> str:
    """Return the name staff and people know a test by: the content's, else the sender's."""
    test = catalogue().tests.get(result.test) if result.test else None
    return test.name if test is not None else result.display


def _visible(patient_id: int) -> ColumnElement[bool]:
    """The results a person (or their carer) may see: released, not held back, not withdrawn."""
    return (
        (Result.patient_id == patient_id)
        & col(Result.released_at).is_not(None)
        & (Result.held == False)  # noqa: E712
        & col(Result.withdrawn_at).is_(None)
    )


# --- the person's result cards, kept between visits ------------------------------------------

# The cards are the costly part of the results page (five years of readings, a chart per
# test), and they change only when results are released or held back, or a target changes.
# Kept per worker by webapp.kept, keyed by results_version and the rest the page shows.

_PATIENT = bindparam("patient_id")
_VERSION = select(
    func.count(Result.id),
    func.coalesce(func.sum(Result.id), 0),
    func.max(Result.released_at),
    # A correction changes a reading in place: nothing above moves, this does.
    func.max(Result.corrected_at),
    select(func.count(ResultTarget.id))
    .where(ResultTarget.patient_id == _PATIENT)
    .scalar_subquery(),
    select(func.max(ResultTarget.set_at))
    .where(ResultTarget.patient_id == _PATIENT)
    .scalar_subquery(),
    # Not part of what the cards show: the review the latest results were sent for.
    select(Review.scheduled_at)
    .where(Review.patient_id == _PATIENT, col(Review.results_released_at).is_not(None))
    .order_by(col(Review.results_released_at).desc())
    .limit(1)
    .scalar_subquery(),
).where(
    Result.patient_id == _PATIENT,
    col(Result.released_at).is_not(None),
    Result.held == False,  # noqa: E712
    col(Result.withdrawn_at).is_(None),
)


def results_version(session: Session, actor: Actor, patient_id: int) -> tuple:
    """Return what the person's result cards depend on, in one query.

    The visible results can only grow by a release (which moves the latest release time)
    and only shrink by a hold or a withdrawal (which lower the count); their id sum changes
    with either. A correction moves the latest correction time.
    Targets change their count or their latest time. The first item is how many results
    the person can see; the last, when the review was that results were last sent for.
    """
    require(actor, "results.read_own", patient_id)
    return tuple(session.exec(_VERSION, params={"patient_id": patient_id}).one())


READ_COLUMNS = (
    Result.id,
    Result.test,
    Result.system,
    Result.code,
    Result.display,
    Result.value,
    Result.value_second,
    Result.value_text,
    Result.comparator,
    Result.unit,
    Result.received,
    Result.taken_at,
    Result.released_at,
    Result.corrected_at,
)


def own_results(session: Session, actor: Actor, patient_id: int) -> list[TestSummary]:
    """Return the person's released results, one summary per test, in content order."""
    require(actor, "results.read_own", patient_id)
    # Plain rows, not ORM objects: five years of readings are read on every visit, and only
    # these columns are shown.
    rows = session.exec(
        select(*READ_COLUMNS)
        .where(_visible(patient_id))
        .order_by(col(Result.taken_at).desc(), col(Result.id).desc())
    ).all()
    tests = catalogue()
    targets = personal_targets(session, patient_id) if rows else {}
    groups: dict[str, TestSummary] = {}
    for row in rows:
        key = row.test or f"{row.system}|{row.code}"
        summary = groups.get(key)
        if summary is None:
            test = tests.tests.get(row.test) if row.test else None
            personal = targets.get(row.test or "")
            summary = groups[key] = TestSummary(
                key=key,
                name=test.name if test else row.display,
                test=test,
                readings=[],
                target=personal or (test.target if test else None),
                personal_target=personal is not None,
            )
        summary.readings.append(row)
    order = {test.slug: index for index, test in enumerate(tests.ordered())}
    return sorted(groups.values(), key=lambda s: (order.get(s.key, len(order)), s.name.casefold()))


def own_test(
    session: Session, actor: Actor, patient_id: int, slug: str
) -> tuple[TestInfo, TestSummary | None]:
    """Return a test's explanation and the person's readings of it (None if they have none)."""
    test = catalogue().tests.get(slug)
    if test is None:
        raise NotFound()
    require(actor, "results.read_own", patient_id)
    summaries = [s for s in own_results(session, actor, patient_id) if s.key == slug]
    return test, (summaries[0] if summaries else None)


def latest_release(session: Session, actor: Actor, patient_id: int) -> Review | None:
    """Return the person's most recent review whose results were released."""
    require(actor, "results.read_own", patient_id)
    return session.exec(_LATEST_RELEASE, params={"patient_id": patient_id}).first()


_LATEST_RELEASE = (
    select(Review)
    .where(
        Review.patient_id == bindparam("patient_id"),
        col(Review.results_released_at).is_not(None),
    )
    .order_by(col(Review.results_released_at).desc())
    .limit(1)
)


# --- asking about a result at the review -----------------------------------------------


def agenda_review(session: Session, patient_id: int) -> Review | None:
    """Return the review a new agenda item belongs to: the person's next one."""
    from webapp.reviews.services import upcoming_review

    return upcoming_review(session, patient_id)


_UNSET = object()


def agenda(
    session: Session, actor: Actor, patient_id: int, review: Review | object | None = _UNSET
) -> list[AgendaItem]:
    """Return the person's agenda for their next review (or their open agenda if none is set).

    Pass `review` when the caller has already looked up the person's next review.
    """
    require(actor, "results.read_own", patient_id)
    if review is _UNSET:
        review = agenda_review(session, patient_id)
    assert review is None or isinstance(review, Review)
    if review is None:
        items = list(session.exec(_OPEN_AGENDA, params={"patient_id": patient_id}))
    else:
        items = list(
            session.exec(_REVIEW_AGENDA, params={"patient_id": patient_id, "review_id": review.id})
        )
    if not can(actor, "planning.own", patient_id):
        # A carer helping with results only: the results asked about, not the rest of the list.
        items = [item for item in items if item.kind == "result"]
    return items


# The agenda shows on the home and results pages: built once.
_REVIEW_AGENDA = (
    select(AgendaItem)
    .where(
        AgendaItem.patient_id == bindparam("patient_id"),
        AgendaItem.review_id == bindparam("review_id"),
    )
    .order_by(AgendaItem.created_at, AgendaItem.id)
)
_OPEN_AGENDA = (
    select(AgendaItem)
    .where(AgendaItem.patient_id == bindparam("patient_id"), col(AgendaItem.review_id).is_(None))
    .order_by(AgendaItem.created_at, AgendaItem.id)
)


def ask_about(
    session: Session, actor: Actor, patient_id: int, slug: str
) -> tuple[AgendaItem, bool]:
    """Add a test the person has results for to their next review's agenda (once).

    Returns the item and whether it was new.
    """
    require(actor, "results.read_own", patient_id)
    key = slug
    summaries = {s.key: s for s in own_results(session, actor, patient_id)}
    summary = summaries.get(key)
    if summary is None:
        raise NotFound()
    review = agenda_review(session, patient_id)
    existing = session.exec(
        select(AgendaItem).where(
            AgendaItem.patient_id == patient_id,
            AgendaItem.kind == "result",
            AgendaItem.test == key,
            (AgendaItem.review_id == review.id) if review else col(AgendaItem.review_id).is_(None),
        )
    ).first()
    if existing is not None:
        return existing, False
    item = AgendaItem(
        patient_id=patient_id,
        review_id=review.id if review else None,
        kind="result",
        test=key,
        text=_("My %(test)s result", test=summary.name)[:500],
        created_by_id=actor.id,
    )
    session.add(item)
    session.flush()
    audit.record(session, actor.id, "agenda.add", patient_id, agenda_item_id=item.id, test=key)
    session.commit()
    return item, True


def remove_agenda_item(session: Session, actor: Actor, item_id: int) -> None:
    """Take an item off the person's agenda."""
    item = session.get(AgendaItem, item_id)
    require(actor, "results.read_own", item.patient_id if item else None)
    assert item is not None
    if item.kind != "result":  # the rest of the list is the planning scope's
        require(actor, "planning.own", item.patient_id)
    audit.record(session, actor.id, "agenda.remove", item.patient_id, agenda_item_id=item.id)
    session.delete(item)
    session.commit()
