"""FHIR R4 Conditions come in with the results, all or nothing, and go out in the download."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from tests.conftest import add_person
from tests.results.helpers import PAT_NHS, SAM_NHS, bundle, example, give_nhs_number, observation
from webapp.accounts.models import Role
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.conditions import services as conditions
from webapp.conditions.models import Condition
from webapp.results import services
from webapp.results.importing import ImportFailed
from webapp.results.models import Result

SNOMED = "http://snomed.info/sct"
NHS = "https://fhir.nhs.uk/Id/nhs-number"


@pytest.fixture
def staff(app, db, practice, patient, clinician):
    """The clinician as an actor; the patient has an NHS number."""
    give_nhs_number(db, patient, PAT_NHS)
    with app.app_context():
        yield load_actor(db, clinician)


def condition(code="195967001", system=SNOMED, status="active", nhs=PAT_NHS, **extra) -> dict:
    """Return a FHIR R4 Condition as a GP system sends one."""
    resource = {
        "resourceType": "Condition",
        "id": f"c-{code}",
        "identifier": [{"system": "https://gp.example/problems", "value": f"p-{code}"}],
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": status,
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "code": {"coding": [{"system": system, "code": code, "display": f"Sender's {code}"}]},
        "subject": {"identifier": {"system": NHS, "value": nhs}},
        "onsetDateTime": "2012-05-24",
    }
    resource.update(extra)
    return resource


def held(db) -> list[Condition]:
    return list(db.exec(select(Condition).order_by(Condition.id)))


def problems(error: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in error.value.problems]


def test_a_condition_alone_is_imported_in_plain_words(db, staff, practice, patient):
    data = json.dumps(condition()).encode()
    report = services.import_file(db, staff, practice.id, data)
    [row] = held(db)
    assert (row.patient_id, row.code, row.source, row.clinical_status) == (
        patient.id,
        "195967001",
        "fhir",
        "active",
    )
    assert row.source_id == "https://gp.example/problems|p-195967001"
    assert row.onset.isoformat() == "2012-05-24" and row.display == "Asthma"
    assert report.summary() == "Added 1 condition."
    [shown] = conditions.conditions_of(db, patient.id)
    assert shown.name == "Asthma" and "wheeze" in shown.about
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "conditions.import")).all()
    assert event.subject_id == patient.id


def test_the_official_lipid_bundle_with_a_condition_comes_in_together(db, staff, practice, patient):
    document = json.loads(example("diagnosticreport-example-lipids.json"))
    document["entry"].append(
        {"fullUrl": "urn:uuid:chd", "resource": condition("414545008", nhs=PAT_NHS)}
    )
    report = services.import_file(db, staff, practice.id, json.dumps(document).encode(), patient.id)
    assert len(report.added) == 4 and len(report.conditions.added) == 1
    assert report.summary() == "Imported 4 results for 1 person. Added 1 condition."
    assert [c.name for c in conditions.conditions_of(db, patient.id)] == ["Coronary heart disease"]
    # The same file again changes nothing, results or conditions.
    again = services.import_file(db, staff, practice.id, json.dumps(document).encode(), patient.id)
    assert not again.added and not again.conditions.added
    assert again.conditions.already_there == 1
    assert len(held(db)) == 1 and len(db.exec(select(Result)).all()) == 4


def test_one_bad_condition_stops_the_whole_file(db, staff, practice, patient):
    data = bundle(
        observation("59261-8", 48, "mmol/mol"),
        condition("44054006"),
        condition("E11", system="http://hl7.org/fhir/sid/icd-10"),
    )
    with pytest.raises(ImportFailed) as error:
        services.import_file(db, staff, practice.id, data)
    [said] = problems(error)
    assert said.startswith("Condition 2 (Condition/c-E11), code: its code E11 is from")
    assert "not SNOMED CT" in said
    assert held(db) == [] and db.exec(select(Result)).all() == []


def test_a_snomed_code_content_lacks_keeps_the_senders_words(db, staff, practice, patient):
    services.import_file(db, staff, practice.id, json.dumps(condition("73211009")).encode())
    [shown] = conditions.conditions_of(db, patient.id)
    assert (shown.name, shown.about, shown.tests, shown.info) == ("Sender's 73211009", "", (), None)


def test_a_ckd_stage_is_filed_under_chronic_kidney_disease(db, staff, practice, patient):
    services.import_file(db, staff, practice.id, json.dumps(condition("433144002")).encode())
    [shown] = conditions.conditions_of(db, patient.id)
    assert shown.name == "Chronic kidney disease" and shown.code == "433144002"


def test_the_senders_status_is_followed_and_removed_ones_stay_removed(db, staff, practice, patient):
    services.import_file(db, staff, practice.id, json.dumps(condition()).encode())
    later = services.import_file(
        db, staff, practice.id, json.dumps(condition(status="remission")).encode()
    )
    assert later.conditions.updated == 1 and later.summary().endswith("Updated 1.")
    [row] = held(db)
    assert row.clinical_status == "resolved"
    conditions.remove_condition(db, staff, practice.id, row.id)
    services.import_file(db, staff, practice.id, json.dumps(condition()).encode())
    assert conditions.conditions_of(db, patient.id) == []


def test_one_the_care_team_recorded_is_not_added_twice(db, staff, practice, patient):
    conditions.record_condition(db, staff, practice.id, patient.id, "195967001")
    report = services.import_file(db, staff, practice.id, json.dumps(condition()).encode())
    assert report.conditions.already_there == 1
    assert len(conditions.conditions_of(db, patient.id)) == 1


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"verificationStatus": {"coding": [{"code": "provisional"}]}}, "only confirmed"),
        ({"code": {"text": "Asthma"}}, "it has no SNOMED CT code"),
        ({"code": {"coding": [{"system": SNOMED, "code": "195967002"}]}}, "not a SNOMED CT"),
        ({"onsetDateTime": "2999-01-01"}, "is in the future"),
        ({"clinicalStatus": {"coding": [{"code": "better"}]}}, "is not one FHIR R4 has"),
        ({"subject": {"reference": "Patient/nobody"}}, "there is no NHS number"),
    ],
)
def test_each_problem_is_named(db, staff, practice, patient, change, words):
    resource = condition()
    resource.update(change)
    with pytest.raises(ImportFailed) as error:
        services.import_file(db, staff, practice.id, json.dumps(resource).encode())
    assert any(words in p for p in problems(error)), problems(error)
    assert held(db) == []


def test_void_conditions_are_skipped_and_need_an_identifier(db, staff, practice, patient):
    void = condition(verificationStatus={"coding": [{"code": "entered-in-error"}]})
    report = services.import_file(db, staff, practice.id, bundle(void, condition("13645005")))
    assert [r.code for r in held(db)] == ["13645005"] and len(report.conditions.added) == 1
    nameless = condition("84114007")
    del nameless["identifier"], nameless["id"]
    with pytest.raises(ImportFailed, match="no identifier or id"):
        services.import_file(db, staff, practice.id, json.dumps(nameless).encode())


def test_conditions_find_their_person_by_nhs_number_through_a_patient(db, staff, practice, patient):
    sam = add_person(db, "Sam Lee", "sam@example.org", (practice, Role.PATIENT))
    give_nhs_number(db, sam, SAM_NHS)
    sams = condition("49436004", subject={"reference": "urn:uuid:sam"})
    document = json.loads(bundle(condition(), sams))
    document["entry"].append(
        {
            "fullUrl": "urn:uuid:sam",
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": NHS, "value": SAM_NHS}],
            },
        }
    )
    services.import_file(db, staff, practice.id, json.dumps(document).encode())
    assert {(r.patient_id, r.code) for r in held(db)} == {
        (patient.id, "195967001"),
        (sam.id, "49436004"),
    }
    # Filed for one chosen person, a file with two people's conditions is refused.
    with pytest.raises(ImportFailed, match="2 different NHS numbers"):
        services.import_file(db, staff, practice.id, json.dumps(document).encode(), patient.id)


def test_the_fhir_download_holds_the_persons_conditions(app, db, staff, practice, patient):
    from webapp.rights.fhir import everything_bundle

    made = conditions.record_condition(db, staff, practice.id, patient.id, "44054006", "2019-03-25")
    pat = load_actor(db, patient)
    conditions.choose_what_matters(db, pat, patient.id, {made.id})
    with app.test_request_context():
        found = everything_bundle(db, pat, patient.id)
    [resource] = [
        e["resource"] for e in found["entry"] if e["resource"]["resourceType"] == "Condition"
    ]
    assert resource["code"]["coding"][0] == {
        "system": SNOMED,
        "code": "44054006",
        "display": "Type 2 diabetes mellitus",
    }
    assert resource["code"]["text"] == "Type 2 diabetes"
    assert resource["clinicalStatus"]["coding"][0]["code"] == "active"
    assert resource["onsetDateTime"] == "2019-03-25"
    assert resource["note"] == [{"text": "This matters most to me now."}]
