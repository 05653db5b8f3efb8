"""FHIR R4 Conditions: read from the same file as the results, in the same all-or-nothing
import, and written into the person's FHIR download.

`results.importing.read_fhir` lets Conditions through and reads only Observations;
`results.services.import_file` hands the same file to `read_conditions` here, matches each
Condition to its person with the results, and stores both in one transaction (`stage`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from pydantic import ValidationError
from sqlmodel import Session, col, select

from webapp import audit
from webapp.access import Actor
from webapp.conditions.models import Condition
from webapp.conditions.services import PersonCondition, condition_list
from webapp.conditions.spec import SNOMED, ConditionList, is_concept_id
from webapp.db import utcnow
from webapp.formatting import local_date
from webapp.goals.fhir import fhir_date, urn
from webapp.results.importing import NHS_SYSTEM, Problem

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
# FHIR's clinical statuses, as the two the app keeps: still part of life, or not now.
STATUS = {
    "active": "active",
    "recurrence": "active",
    "relapse": "active",
    "inactive": "resolved",
    "remission": "resolved",
    "resolved": "resolved",
}
# Verification statuses that mean "this condition does not stand": skipped, never imported.
VOID = {"entered-in-error", "refuted"}
# Not yet a diagnosis: refused, naming it, as Observations that are not final are.
UNSURE = {"unconfirmed", "provisional", "differential"}
MAX_CONDITIONS = 1000


@dataclass
class ConditionReading:
    """One Condition as read from a FHIR file, before it is matched to its person."""

    where: str
    subject: str | None
    code: str
    display: str
    status: str
    onset: dt.date | None
    source_id: str
    patient_id: int | None = None


@dataclass
class ConditionImport:
    """What an import did with Conditions."""

    added: list[Condition] = field(default_factory=list)
    updated: int = 0
    already_there: int = 0


def _code_of(concept: Any) -> str:
    """Return the first code of a CodeableConcept, or ''."""
    for coding in getattr(concept, "coding", None) or []:
        if coding.code:
            return coding.code
    return ""


def _onset(resource: Any) -> dt.date | None:
    """Return the day a Condition started, from onsetDateTime or onsetPeriod, if given."""
    period = resource.onsetPeriod
    when = resource.onsetDateTime or (period.start if period is not None else None)
    if isinstance(when, dt.datetime):
        return local_date(when if when.tzinfo else when.replace(tzinfo=dt.UTC))
    if isinstance(when, dt.date):
        return when
    if isinstance(when, str) and len(when) >= 4 and when[:4].isdigit():
        return dt.date(int(when[:4]), int(when[5:7]) if len(when) >= 7 else 1, 1)
    return None


def _source_id(resource: Any, full_url: str) -> str:
    """Return what makes a Condition the same Condition when sent again: the sender's
    identifier, else its id, else the Bundle entry's fullUrl; '' if it has none."""
    for identifier in resource.identifier or []:
        if identifier.value:
            system = identifier.system or ""
            return f"{system}|{identifier.value}"[:300] if system else identifier.value[:300]
    if resource.id:
        return f"Condition/{resource.id}"
    return full_url[:300]


def _subject(resource: Any, by_reference: dict[str, dict]) -> str | None:
    """Return the NHS number of the Condition's subject, directly or through a Patient."""
    subject = resource.subject
    identifier = subject.identifier
    if identifier is not None and identifier.system == NHS_SYSTEM and identifier.value:
        return "".join(identifier.value.split())
    patient = by_reference.get(subject.reference or "")
    if patient is not None and patient.get("resourceType") == "Patient":
        for given in patient.get("identifier") or []:
            if isinstance(given, dict) and given.get("system") == NHS_SYSTEM and given.get("value"):
                return "".join(str(given["value"]).split())
    return None


def _read_one(
    resource: Any,
    where: str,
    full_url: str,
    by_reference: dict[str, dict],
    conditions: ConditionList,
    today: dt.date,
) -> tuple[ConditionReading | None, list[Problem]]:
    """Read one validated Condition; return it (None if void) and any problems."""
    verification = _code_of(resource.verificationStatus)
    if verification in VOID:
        return None, []
    if verification in UNSURE:
        message = _(
            "its verification status is %(status)r: only confirmed conditions are imported. "
            "Send it again when it is confirmed.",
            status=verification,
        )
        return None, [Problem(where, message, "verificationStatus")]
    codings = list(getattr(resource.code, "coding", None) or [])
    snomed = [c for c in codings if c.system == SNOMED and c.code]
    if not snomed:
        if codings and codings[0].code:
            message = _(
                "its code %(code)s is from %(system)s, not SNOMED CT. Conditions are filed by "
                "SNOMED CT: send it with a SNOMED CT coding as well.",
                code=codings[0].code,
                system=codings[0].system or _("no named code system"),
            )
        else:
            message = _("it has no SNOMED CT code, so it cannot be filed. Add one.")
        return None, [Problem(where, message, "code")]
    chosen = next((c for c in snomed if conditions.find(c.code)), snomed[0])
    code = chosen.code.strip()
    if not is_concept_id(code):
        message = _("%(code)s is not a SNOMED CT concept id. Check the code.", code=code)
        return None, [Problem(where, message, "code")]
    info = conditions.find(code)
    words = chosen.display or getattr(resource.code, "text", None) or code
    display = info.term if info else " ".join(words.split())[:200]
    clinical = _code_of(resource.clinicalStatus)
    if clinical and clinical not in STATUS:
        message = _("its clinical status %(status)r is not one FHIR R4 has.", status=clinical)
        return None, [Problem(where, message, "clinicalStatus")]
    abated = any(
        getattr(resource, name, None) is not None
        for name in ("abatementDateTime", "abatementPeriod", "abatementString", "abatementAge")
    )
    status = STATUS.get(clinical, "resolved" if abated else "active")
    onset = _onset(resource)
    if onset is not None and onset > today:
        message = _("its onset (%(day)s) is in the future. Check the date.", day=onset)
        return None, [Problem(where, message, "onsetDateTime")]
    source_id = _source_id(resource, full_url)
    if not source_id:
        message = _(
            "it has no identifier or id, so sending it again would add it twice. Give it one."
        )
        return None, [Problem(where, message, "identifier")]
    subject = _subject(resource, by_reference)
    reading = ConditionReading(where, subject, code, display, status, onset, source_id)
    return reading, []


def read_conditions(data: bytes) -> tuple[list[ConditionReading], list[Problem]]:
    """Read the Conditions in a FHIR R4 JSON file (one Condition, or a Bundle holding some).

    The file has already been read as JSON and checked as FHIR by `read_fhir`; a file with no
    Conditions gives nothing here.
    """
    from fhir.resources.R4B import get_fhir_model_class

    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return [], []  # read_fhir has said what is wrong with the file
    if not isinstance(document, dict):
        return [], []
    found: list[tuple[str, str, dict]] = []
    by_reference: dict[str, dict] = {}
    if document.get("resourceType") == "Condition":
        found.append(("", f"Condition/{document.get('id') or ''}".rstrip("/"), document))
    elif document.get("resourceType") == "Bundle":
        for number, entry in enumerate(document.get("entry") or [], start=1):
            item = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(item, dict):
                continue
            kind = item.get("resourceType")
            reference = f"{kind}/{item.get('id') or number}"
            by_reference[reference] = item
            if entry.get("fullUrl"):
                by_reference[str(entry["fullUrl"])] = item
            if kind == "Condition":
                found.append((str(entry.get("fullUrl") or ""), reference, item))
    if len(found) > MAX_CONDITIONS:
        message = _("it has more than %(n)d conditions. Split it.", n=MAX_CONDITIONS)
        return [], [Problem(_("The file"), message)]
    model = get_fhir_model_class("Condition")
    conditions = condition_list()
    today = local_date(utcnow())
    readings, problems = [], []
    bundle = document.get("resourceType") == "Bundle"
    for number, (full_url, reference, item) in enumerate(found, start=1):
        where = _("Condition %(n)d (%(ref)s)", n=number, ref=reference) if bundle else reference
        try:
            resource = model.model_validate(item)
        except ValidationError as error:
            for detail in error.errors()[:10]:
                path = ".".join(str(part) for part in detail["loc"] if part != "__root__")
                problems.append(Problem(where, detail["msg"].rstrip(".") + ".", path))
            continue
        reading, trouble = _read_one(resource, where, full_url, by_reference, conditions, today)
        problems.extend(trouble)
        if reading is not None:
            readings.append(reading)
    return readings, problems


def match_people(
    readings: list[ConditionReading], known: dict[str, int], patient_id: int | None
) -> list[Problem]:
    """Give each Condition its person: the chosen one, or the practice patient with its NHS
    number (`known`: number -> id); return a problem for each that has none."""
    problems = []
    for reading in readings:
        if patient_id is not None:
            reading.patient_id = patient_id
        elif not reading.subject:
            message = _(
                "there is no NHS number to say whose condition this is. "
                "Add it, or choose the person the whole file is for."
            )
            problems.append(Problem(reading.where, message))
        elif reading.subject not in known:
            message = _(
                "NHS number %(number)s is not a patient of this practice.", number=reading.subject
            )
            problems.append(Problem(reading.where, message))
        else:
            reading.patient_id = known[reading.subject]
    return problems


def stage(
    session: Session, actor: Actor | None, practice_id: int, readings: list[ConditionReading]
) -> ConditionImport:
    """Add the Conditions not yet held, and follow the sender's status for those that are,
    in the caller's transaction (the results import commits both together)."""
    report = ConditionImport()
    if not readings:
        return report
    people = {r.patient_id for r in readings}
    held = {
        (row.patient_id, row.source_id): row
        for row in session.exec(
            select(Condition).where(
                col(Condition.patient_id).in_(people),
                col(Condition.source_id).in_({r.source_id for r in readings}),
            )
        )
    }
    codes = {
        (row.patient_id, row.code)
        for row in session.exec(
            select(Condition).where(
                col(Condition.patient_id).in_(people), col(Condition.removed_at).is_(None)
            )
        )
    }
    conditions = condition_list()
    now = utcnow()
    changed: dict[int, int] = {}
    for reading in readings:
        assert reading.patient_id is not None
        row = held.get((reading.patient_id, reading.source_id))
        if row is not None:
            if row.removed_at is None and row.clinical_status != reading.status:
                row.clinical_status, row.status_changed_at = reading.status, now
                if reading.status != "active":
                    row.matters_most = False
                session.add(row)
                report.updated += 1
                changed[reading.patient_id] = changed.get(reading.patient_id, 0) + 1
            else:
                report.already_there += 1
            continue
        info = conditions.find(reading.code)
        same = {(reading.patient_id, code) for code in (info.codes if info else (reading.code,))}
        if same & codes:
            # Already on the person's list (the care team recorded it): not twice.
            report.already_there += 1
            continue
        row = Condition(
            patient_id=reading.patient_id,
            practice_id=practice_id,
            code=reading.code,
            display=reading.display,
            source="fhir",
            source_id=reading.source_id,
            clinical_status=reading.status,
            onset=reading.onset,
            recorded_by_id=actor.id if actor else None,
        )
        session.add(row)
        held[(reading.patient_id, reading.source_id)] = row
        codes.add((reading.patient_id, reading.code))
        report.added.append(row)
        changed[reading.patient_id] = changed.get(reading.patient_id, 0) + 1
    for person_id, count in sorted(changed.items()):
        audit.record(
            session,
            actor.id if actor else None,
            "conditions.import",
            person_id,
            practice_id=practice_id,
            count=count,
        )
    return report


# --- the person's download ---------------------------------------------------------------


def condition_resource(condition: PersonCondition, patient_ref: dict[str, str]) -> dict[str, Any]:
    """Return one of the person's conditions as a FHIR R4 Condition (a dict)."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": condition.status}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "category": [{"coding": [{"system": CATEGORY, "code": "problem-list-item"}]}],
        "code": {
            "coding": [{"system": SNOMED, "code": condition.code, "display": condition.term}],
            "text": condition.name,
        },
        "subject": patient_ref,
        "recordedDate": fhir_date(condition.recorded_at),
    }
    if condition.onset is not None:
        resource["onsetDateTime"] = fhir_date(condition.onset)
    if condition.matters_most:
        resource["note"] = [{"text": "This matters most to me now."}]
    return resource


def condition_entries(
    conditions: list[PersonCondition], patient_ref: dict[str, str]
) -> list[dict[str, Any]]:
    """Return Bundle entries for the person's conditions."""
    return [
        {"fullUrl": urn("condition", c.id), "resource": condition_resource(c, patient_ref)}
        for c in conditions
    ]
