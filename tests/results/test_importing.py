"""Getting results in, without HTTP: FHIR R4, CSV and the staff form, all or nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from tests.results.helpers import PAT_NHS, SAM_NHS, bundle, example, give_nhs_number, observation
from webapp.accounts.models import Practice, Role
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.results import importing, services
from webapp.results.importing import ImportFailed
from webapp.results.models import Result


@pytest.fixture
def staff(app, db, practice, patient, clinician):
    """The clinician as an actor; the patient has an NHS number."""
    give_nhs_number(db, patient, PAT_NHS)
    with app.app_context():
        yield load_actor(db, clinician)


def results(db, patient_id=None):
    query = select(Result).order_by(Result.test, Result.taken_at)
    if patient_id is not None:
        query = query.where(Result.patient_id == patient_id)
    return list(db.exec(query))


def problems(error: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in error.value.problems]


# --- the official FHIR R4 examples -----------------------------------------------------


def test_blood_pressure_with_components(db, staff, practice, patient):
    services.import_file(
        db, staff, practice.id, example("observation-example-bloodpressure.json"), patient.id
    )
    [bp] = results(db)
    assert (bp.test, bp.value, bp.value_second, bp.unit) == ("blood-pressure", 107, 60, "mm[Hg]")
    assert bp.taken_at.date() == dt.date(2012, 9, 17)
    assert bp.source == "fhir" and bp.patient_id == patient.id


def test_glucose_takes_its_date_from_the_period(db, staff, practice, patient):
    services.import_file(
        db, staff, practice.id, example("observation-example-f001-glucose.json"), patient.id
    )
    [glucose] = results(db)
    assert (glucose.test, glucose.value, glucose.unit) == ("glucose", 6.3, "mmol/L")
    assert glucose.taken_at == dt.datetime(2013, 4, 2, 8, 30, 10, tzinfo=dt.UTC)
    assert (glucose.reference_low, glucose.reference_high) == (3.1, 6.2)


def test_bmi(db, staff, practice, patient):
    services.import_file(
        db, staff, practice.id, example("observation-example-bmi.json"), patient.id
    )
    [bmi] = results(db)
    assert (bmi.test, bmi.value, bmi.unit) == ("bmi", 16.2, "kg/m2")


def test_body_weight_in_pounds_is_converted_to_kilograms(db, staff, practice, patient):
    services.import_file(db, staff, practice.id, example("observation-example.json"), patient.id)
    [weight] = results(db)
    assert weight.test == "weight" and weight.unit == "kg"
    assert weight.value == pytest.approx(83.91, abs=0.01)
    assert weight.received == "185 [lb_av]"


def test_the_lipid_panel_bundle_takes_the_report_date(db, staff, practice, patient):
    report = services.import_file(
        db, staff, practice.id, example("diagnosticreport-example-lipids.json"), patient.id
    )
    assert len(report.added) == 4
    found = {r.test: r for r in results(db)}
    assert set(found) == {
        "total-cholesterol",
        "triglycerides",
        "hdl-cholesterol",
        "ldl-cholesterol",
    }
    assert found["total-cholesterol"].value == 6.3
    assert found["ldl-cholesterol"].value == 4.6
    assert found["hdl-cholesterol"].reference_low == 1.5
    assert {r.taken_at.date() for r in found.values()} == {dt.date(2011, 3, 3)}


def test_unknown_codes_are_kept_with_their_display_text(db, staff, practice, patient):
    services.import_file(
        db, staff, practice.id, example("diagnosticreport-example.json"), patient.id
    )
    kept = results(db)
    assert len(kept) == 17 and all(r.test is None for r in kept)
    haemoglobin = next(r for r in kept if r.code == "718-7")
    assert haemoglobin.display == "Haemoglobin"  # the sender's own words, not the LOINC name
    assert haemoglobin.value == 176 and haemoglobin.unit == "g/L"
    erythrocytes = next(r for r in kept if r.code == "789-8")
    assert erythrocytes.unit == "x10*12/L"


def test_the_vitals_panel_only_groups_other_readings(db, staff, practice, patient):
    with pytest.raises(ImportFailed):
        services.import_file(
            db, staff, practice.id, example("observation-example-vitals-panel.json"), patient.id
        )


# --- HbA1c in both units, and idempotence ----------------------------------------------


def test_hba1c_in_mmol_per_mol_and_in_percent(db, staff, practice):
    data = bundle(
        observation("59261-8", 58, "mmol/mol", "2026-06-01T09:00:00Z"),
        observation("4548-4", 7.5, "%", "2026-09-01T09:00:00Z"),
    )
    services.import_file(db, staff, practice.id, data)
    first, second = results(db)
    assert (first.value, first.unit) == (58, "mmol/mol")
    assert second.unit == "mmol/mol" and second.value == pytest.approx(58.47, abs=0.01)
    assert second.received == "7.5 %"


def test_importing_the_same_results_twice_changes_nothing(db, staff, practice, patient):
    data = example("diagnosticreport-example-lipids.json")
    services.import_file(db, staff, practice.id, data, patient.id)
    again = services.import_file(db, staff, practice.id, data, patient.id)
    assert (again.added, again.already_there) == ([], 4)
    assert len(results(db)) == 4
    assert "already here" in again.summary()


def test_results_are_matched_by_nhs_number_within_the_practice(app, db, staff, practice, patient):
    sam = add_person(db, "Sam Lee", "sam@example.org", (practice, Role.PATIENT))
    give_nhs_number(db, sam, SAM_NHS)
    data = bundle(
        observation("59261-8", 50, "mmol/mol"), observation("59261-8", 61, "mmol/mol", nhs=SAM_NHS)
    )
    report = services.import_file(db, staff, practice.id, data)
    assert report.people == 2
    assert [r.value for r in results(db, patient.id)] == [50]
    assert [r.value for r in results(db, sam.id)] == [61]
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "results.import")).all()
    assert {e.subject_id for e in events} == {patient.id, sam.id}


def test_a_patient_reference_in_the_bundle_gives_the_nhs_number(db, staff, practice, patient):
    person = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "943 476 5919"}],
    }
    reading = observation("59261-8", 44, "mmol/mol")
    reading["subject"] = {"reference": "urn:uuid:0"}
    services.import_file(db, staff, practice.id, bundle(person, reading))
    assert [r.patient_id for r in results(db)] == [patient.id]


def test_choosing_the_person_overrides_the_file(db, staff, practice, patient):
    data = bundle(observation("59261-8", 50, "mmol/mol", nhs="9999999999"))
    services.import_file(db, staff, practice.id, data, patient.id)
    assert [r.patient_id for r in results(db)] == [patient.id]


def test_smoking_status_as_a_snomed_coded_answer(db, staff, practice):
    reading = observation("72166-2", 0, "")
    del reading["valueQuantity"]
    reading["valueCodeableConcept"] = {
        "coding": [{"system": "http://snomed.info/sct", "code": "8517006", "display": "Ex-smoker"}]
    }
    services.import_file(db, staff, practice.id, bundle(reading))
    [smoking] = results(db)
    assert (smoking.test, smoking.value, smoking.value_text) == ("smoking", None, "Ex-smoker")


# --- CSV and the form -----------------------------------------------------------------

CSV = (
    "nhs_number,test,value,unit,date_taken,reference_range\n"
    f"{PAT_NHS},HbA1c,7.0,%,2026-10-02,\n"
    f"{PAT_NHS},blood pressure,135/85,mmHg,02/10/2026 09:30,\n"
    f"{PAT_NHS},2093-3,190,mg/dL,2026-10-02,<193\n"
    f"{PAT_NHS},Foot check,low risk,,2026-10-02,\n"
)


def test_a_csv_file(db, staff, practice):
    report = services.import_file(db, staff, practice.id, CSV.encode())
    assert len(report.added) == 4
    found = {r.test: r for r in results(db)}
    assert found["hba1c"].value == pytest.approx(53.0, abs=0.01)
    assert (found["blood-pressure"].value, found["blood-pressure"].value_second) == (135, 85)
    assert found["blood-pressure"].taken_at == dt.datetime(2026, 10, 2, 8, 30, tzinfo=dt.UTC)
    assert found["total-cholesterol"].value == pytest.approx(4.91, abs=0.01)
    assert found["total-cholesterol"].reference_high == pytest.approx(4.99, abs=0.01)
    assert found["foot-check"].value_text == "Low risk"
    assert all(r.source == "csv" for r in found.values())


def test_a_bad_csv_names_every_bad_row_and_column_and_imports_nothing(db, staff, practice):
    data = (
        "nhs_number,test,value,unit,date_taken\n"
        f"{PAT_NHS},HbA1c,-5,mmol/mol,2026-10-02\n"
        f"{PAT_NHS},HbA1c,50,mmol/mol,\n"
        f"{PAT_NHS},HbA1c,50,mmol/mol,2099-01-01\n"
        f"{PAT_NHS},HbA1c,50,mg,2026-10-02\n"
        f"{PAT_NHS},HbA1c,,mmol/mol,2026-10-02\n"
        f"{PAT_NHS},HbA1c,50,mmol/mol,yesterday\n"
        f"{PAT_NHS},,50,mmol/mol,2026-10-02\n"
        "9999999999,HbA1c,50,mmol/mol,2026-10-02\n"
        f"{PAT_NHS},HbA1c,50,mmol/mol,2026-10-02\n"
    )
    with pytest.raises(ImportFailed) as error:
        services.import_file(db, staff, practice.id, data.encode())
    shown = problems(error)
    assert shown[0].startswith("Row 2, column value: -5 mmol/mol is not a possible HbA1c result")
    assert "Row 3, column date_taken: the date the test was taken is missing." in shown
    assert "Row 4, column date_taken: the date taken is in the future. Check the date." in shown
    assert any(s.startswith("Row 5, column unit: the unit 'mg' cannot be converted") for s in shown)
    assert "Row 6, column value: the value is missing." in shown
    assert any(s.startswith("Row 7, column date_taken: 'yesterday' is not a date") for s in shown)
    assert "Row 8, column test: the test is missing." in shown
    assert "Row 9: NHS number 9999999999 is not a patient of this practice." in shown
    assert not any(s.startswith("Row 10") for s in shown)
    assert results(db) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file: it is empty"),
        (b"name,value\nx,1\n", "Row 1: the first row must name the columns"),
        (b"\xff\xfe\x00bad", "it is not a CSV text file (UTF-8)"),
        (b"{not json", "it is not valid JSON (line 1, column 2"),
        (b'{"resourceType": "Patient", "id": "x"}', "it is a FHIR Patient; send an Observation"),
        (
            b'{"resourceType": "Observation", "status": "final"}',
            "Observation, code: Field required",
        ),
        (b"[1, 2]", "it has no resourceType"),
        (b"x" * (1024 * 1024 + 1), "the largest file taken is 1 MB"),
    ],
)
def test_malformed_files_are_refused_with_a_clear_message(db, staff, practice, data, expected):
    with pytest.raises(ImportFailed) as error:
        services.import_file(db, staff, practice.id, data)
    assert any(expected in s for s in problems(error)), problems(error)
    assert results(db) == []


def test_fhir_missing_value_or_date_and_impossible_values(db, staff, practice):
    no_value = observation("59261-8", 50, "mmol/mol")
    del no_value["valueQuantity"]
    no_date = observation("59261-8", 50, "mmol/mol")
    del no_date["effectiveDateTime"]
    negative = observation("59261-8", -3, "mmol/mol")
    wrong_unit = observation("4548-4", 7, "kg")
    good = observation("59261-8", 50, "mmol/mol")
    with pytest.raises(ImportFailed) as error:
        services.import_file(
            db, staff, practice.id, bundle(no_value, no_date, negative, wrong_unit, good)
        )
    shown = problems(error)
    assert "Observation 1 (Observation/1), valueQuantity: the value is missing." in shown
    assert any("Observation 2" in s and "date the test was taken is missing" in s for s in shown)
    assert any("Observation 3" in s and "not a possible HbA1c result" in s for s in shown)
    assert any("Observation 4" in s and "'kg' cannot be converted for HbA1c" in s for s in shown)
    assert results(db) == []


def test_results_for_a_patient_of_another_practice_cannot_be_imported(app, db, staff, practice):
    elsewhere = Practice(name="Hillside Surgery")
    db.add(elsewhere)
    db.commit()
    theirs = add_person(db, "Jo Hill", "jo@example.org", (elsewhere, Role.PATIENT))
    give_nhs_number(db, theirs, SAM_NHS)
    with pytest.raises(ImportFailed) as error:
        services.import_file(
            db, staff, practice.id, bundle(observation("59261-8", 50, "mmol/mol", nhs=SAM_NHS))
        )
    assert problems(error) == [
        "Observation 1 (Observation/1): NHS number 9434765870 is not a patient of this practice."
    ]
    with pytest.raises(ImportFailed) as error:
        services.import_file(
            db, staff, practice.id, bundle(observation("59261-8", 50, "mmol/mol")), theirs.id
        )
    assert problems(error) == ["The person: they are not a patient of this practice."]
    other_staff = load_actor(db, add_person(db, "Olu Ade", None, (elsewhere, Role.CLINICIAN)))
    with pytest.raises(NotFound):
        services.import_file(
            db, other_staff, practice.id, bundle(observation("59261-8", 50, "mmol/mol"))
        )
    assert results(db) == []


def test_the_staff_form_imports_each_filled_line(db, staff, practice, patient):
    from tests.results.helpers import plan_review

    review = plan_review(db, practice.id, patient.id)
    rows = [
        {"test": "hba1c", "value": "52", "unit": "", "date_taken": "2026-10-01"},
        {"test": "", "value": "", "unit": "", "date_taken": ""},
        {"test": "blood-pressure", "value": "128/79", "unit": "mmHg", "date_taken": "2026-10-01"},
    ]
    report = services.import_form(db, staff, review, rows)
    assert len(report.added) == 2 and {r.source for r in results(db)} == {"form"}
    with pytest.raises(ImportFailed) as error:
        services.import_form(
            db, staff, review, [{"test": "hba1c", "value": "x", "date_taken": "2026-10-01"}]
        )
    assert problems(error) == ["Line 1, column value: the HbA1c result must be a number."]


def test_dates_in_the_forms_people_write_them():
    assert importing.parse_when("2026-10-02") == dt.datetime(2026, 10, 2, 12, tzinfo=dt.UTC)
    assert importing.parse_when("02/10/2026 09:30") == dt.datetime(
        2026, 10, 2, 8, 30, tzinfo=dt.UTC
    )
    assert importing.parse_when("2026-01-02T09:30:00Z") == dt.datetime(
        2026, 1, 2, 9, 30, tzinfo=dt.UTC
    )
    assert importing.parse_when("yesterday") is None


def test_the_cbc_example_is_valid_json_for_the_reader():
    assert json.loads(example("diagnosticreport-example.json"))["resourceType"] == "Bundle"


# --- found in review: limits, statuses, SNOMED components, units, partial dates ---------


def test_a_limit_like_egfr_over_90_keeps_its_sign(app, db, staff, practice, patient):
    reading = observation("62238-1", 90, "mL/min/{1.73_m2}")
    reading["valueQuantity"]["comparator"] = ">"
    csv_data = f"nhs_number,test,value,unit,date_taken\n{PAT_NHS},ACR,<3,mg/mmol,2026-10-01\n"
    services.import_file(db, staff, practice.id, bundle(reading))
    services.import_file(db, staff, practice.id, csv_data.encode())
    found = {r.test: r for r in results(db)}
    assert (found["egfr"].value, found["egfr"].comparator) == (90, ">")
    assert (found["acr"].value, found["acr"].comparator) == (3, "<")
    with app.test_request_context():
        assert services.show_result(found["egfr"]) == ">90 mL/min/1.73m²"
        assert services.show_result(found["acr"]) == "<3.0 mg/mmol"


def test_only_final_results_are_imported(db, staff, practice):
    preliminary = observation("59261-8", 50, "mmol/mol", status="preliminary")
    void = observation("59261-8", 51, "mmol/mol", status="entered-in-error")
    with pytest.raises(ImportFailed) as error:
        services.import_file(db, staff, practice.id, bundle(preliminary, void))
    assert problems(error) == [
        "Observation 1 (Observation/1), status: its status is 'preliminary': only final results "
        "are imported. Send it again when the lab has finished it."
    ]
    corrected = observation("59261-8", 52, "mmol/mol", status="corrected")
    services.import_file(db, staff, practice.id, bundle(corrected, void))
    assert [r.value for r in results(db)] == [52]


def test_blood_pressure_components_coded_in_snomed(db, staff, practice):
    reading = observation("75367002", 0, "", system="http://snomed.info/sct")
    del reading["valueQuantity"]
    reading["component"] = [
        {
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
            "valueQuantity": {
                "value": value,
                "unit": "mmHg",
                "system": "http://unitsofmeasure.org",
                "code": "mm[Hg]",
            },
        }
        for code, value in (("271649006", 128), ("271650006", 78))
    ]
    services.import_file(db, staff, practice.id, bundle(reading))
    [bp] = results(db)
    assert (bp.test, bp.value, bp.value_second) == ("blood-pressure", 128, 78)


def test_a_csv_without_the_unit_of_a_test_with_several_units_is_refused(db, staff, practice):
    data = f"nhs_number,test,value,unit,date_taken\n{PAT_NHS},glucose,72,,2026-10-01\n"
    with pytest.raises(ImportFailed) as error:
        services.import_file(db, staff, practice.id, data.encode())
    assert problems(error)[0].startswith("Row 2, column unit: the unit is missing.")
    fine = f"nhs_number,test,value,unit,date_taken\n{PAT_NHS},eGFR,72,,2026-10-01\n"
    services.import_file(db, staff, practice.id, fine.encode())  # eGFR has one unit
    assert [r.test for r in results(db)] == ["egfr"]


def test_a_date_with_only_a_month_is_refused(db, staff, practice):
    with pytest.raises(ImportFailed) as error:
        services.import_file(
            db, staff, practice.id, bundle(observation("59261-8", 50, "mmol/mol", "2024-03"))
        )
    assert "needs a day as well as a month and year" in problems(error)[0]


def test_a_file_for_several_people_cannot_be_given_to_one(db, staff, practice, patient):
    data = bundle(
        observation("59261-8", 50, "mmol/mol"), observation("59261-8", 61, "mmol/mol", nhs=SAM_NHS)
    )
    with pytest.raises(ImportFailed) as error:
        services.import_file(db, staff, practice.id, data, patient.id)
    assert "holds results for 2 different NHS numbers" in problems(error)[0]
    assert results(db) == []


def test_long_text_from_a_lab_is_cut_to_fit(db, staff, practice):
    reading = observation("99999-9", 0, "")
    del reading["valueQuantity"]
    reading["valueString"] = "x" * 500
    services.import_file(db, staff, practice.id, bundle(reading))
    assert len(results(db)[0].value_text) == 200
