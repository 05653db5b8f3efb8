"""Shared set-up for results tests: a practice with a patient who has an NHS number."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from sqlmodel import Session

from webapp.accounts.models import Person
from webapp.results import services
from webapp.results.models import Result
from webapp.reviews.models import Review


def _examples() -> Path:
    """Find the official FHIR R4 examples: $FHIR_EXAMPLES, else the shared folder beside the
    checkout, else the machine's copy (CI runs on a clone elsewhere)."""
    candidates = [
        Path(os.environ.get("FHIR_EXAMPLES", "")),
        Path(__file__).resolve().parents[3] / "shared" / "data" / "fhir-r4-examples",
        Path("/work/shared/data/fhir-r4-examples"),
    ]
    for candidate in candidates:
        if str(candidate) != "." and (candidate / "observation-example.json").is_file():
            return candidate
    raise FileNotFoundError(
        "The official FHIR R4 examples were not found; set FHIR_EXAMPLES to their folder."
    )


EXAMPLES = _examples()
PAT_NHS = "9434765919"
SAM_NHS = "9434765870"


def example(name: str) -> bytes:
    """Return one of the official FHIR R4 examples as bytes."""
    return (EXAMPLES / name).read_bytes()


def observation(
    code: str,
    value: float,
    unit: str,
    when: str = "2026-10-01T09:30:00Z",
    nhs: str = PAT_NHS,
    system: str = "http://loinc.org",
    **extra,
) -> dict:
    """Return a FHIR Observation as a GP system would send it."""
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": system, "code": code, "display": f"Test {code}"}]},
        "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }
    resource.update(extra)
    return resource


def bundle(*resources: dict) -> bytes:
    """Return a FHIR Bundle of the resources, as bytes."""
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)],
        }
    ).encode()


def give_nhs_number(db: Session, person: Person, number: str) -> None:
    """Record a person's NHS number."""
    person.nhs_number = number
    db.add(person)
    db.commit()


def plan_review(db: Session, practice_id: int, patient_id: int, days: int = 14) -> Review:
    """Add a review for the patient, straight into the database."""
    review = Review(
        practice_id=practice_id,
        patient_id=patient_id,
        scheduled_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=days),
    )
    db.add(review)
    db.commit()
    return review


def release(db: Session, review: Review) -> int:
    """Release the review's results as the date would."""
    return services.release_results(db, None, review)


def add_result(db: Session, practice, patient, **fields) -> Result:
    """Add one result for the patient, straight into the database (HbA1c 50 unless said)."""
    values = {
        "test": "hba1c",
        "system": "http://loinc.org",
        "code": "59261-8",
        "display": "HbA1c",
        "value": 50.0,
        "unit": "mmol/mol",
        "source": "form",
        "fingerprint": str(fields),
    }
    values.update(fields)
    result = Result(
        practice_id=practice.id,
        patient_id=patient.id,
        taken_at=dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC),
        **values,
    )
    db.add(result)
    db.commit()
    return result
