"""A lab's corrections, without HTTP: the sender's identifier names a reading, so an amended or
corrected re-send replaces it, entered-in-error withdraws it, and a file cannot name it twice."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tests.conftest import add_person, outbox, together
from tests.results.helpers import (
    PAT_NHS,
    SAM_NHS,
    add_result,
    bundle,
    example,
    give_nhs_number,
    observation,
)
from webapp.accounts.models import Person, Role
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.notifications.models import Notification
from webapp.results import services
from webapp.results.importing import ImportFailed
from webapp.results.models import Result

GLUCOSE = "observation-example-f001-glucose.json"
LAB = "http://lab.example.org/observations"


@pytest.fixture
def staff(app, db, practice, patient, clinician):
    """The clinician as an actor; the patient has an NHS number."""
    give_nhs_number(db, patient, PAT_NHS)
    with app.test_request_context():
        yield load_actor(db, clinician)


def glucose(**changes) -> bytes:
    """Return the official glucose example (identifier 6323), changed as given."""
    resource = json.loads(example(GLUCOSE))
    value = changes.pop("value", None)
    if value is not None:
        resource["valueQuantity"]["value"] = value
    resource.update(changes)
    return json.dumps(resource).encode()


def reading(value: float, status: str = "final", lab_id: str | None = "A1", **extra) -> dict:
    """Return an HbA1c Observation for Pat, with the lab's identifier unless None."""
    if lab_id is not None:
        extra["identifier"] = [{"system": LAB, "value": lab_id}]
    return observation("59261-8", value, "mmol/mol", status=status, **extra)


def rows(db) -> list[Result]:
    db.expire_all()
    return list(db.exec(select(Result).order_by(Result.id)))


def problems(error: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in error.value.problems]


def release_all(db) -> None:
    """Send every stored result to its person, as a release would."""
    for result in rows(db):
        result.released_at = services.utcnow()
        db.add(result)
    db.commit()


# --- the sender's identifier, from an official FHIR example ---------------------------------


def test_the_identifier_of_the_official_glucose_example_is_kept(db, staff, practice, patient):
    services.import_file(db, staff, practice.id, example(GLUCOSE), patient.id)
    [kept] = rows(db)
    assert (kept.identifier_system, kept.identifier_value) == (
        "http://www.bmc.nl/zorgportal/identifiers/observations",
        "6323",
    )
    assert kept.issued_at is not None and kept.value == 6.3


def test_an_amended_example_replaces_the_reading_and_keeps_the_old_value_in_the_audit_trail(
    db, staff, practice, patient
):
    services.import_file(db, staff, practice.id, example(GLUCOSE), patient.id)
    report = services.import_file(
        db,
        staff,
        practice.id,
        glucose(status="amended", value=5.4, issued="2013-04-04T10:00:00+01:00"),
        patient.id,
    )
    assert (len(report.added), len(report.corrected)) == (0, 1)
    assert "Corrected 1 result; the earlier value is kept in the record." in report.summary()
    [kept] = rows(db)
    assert kept.value == 5.4 and kept.corrected_at is not None
    assert kept.corrected_from == "6.3 mmol/L"
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "results.correct")).all()
    detail = json.loads(event.detail)
    assert detail["before"]["value"] == "6.3 mmol/L" and detail["after"]["value"] == "5.4 mmol/L"
    assert detail["result_id"] == kept.id and event.subject_id == patient.id


def test_the_same_identifier_and_value_again_adds_nothing(db, staff, practice, patient):
    services.import_file(db, staff, practice.id, example(GLUCOSE), patient.id)
    again = services.import_file(db, staff, practice.id, example(GLUCOSE), patient.id)
    assert (again.added, again.corrected, again.already_there) == ([], [], 1)
    assert again.summary() == "Nothing new: all 1 results were already here."
    assert len(rows(db)) == 1 and rows(db)[0].corrected_at is None


def test_a_final_re_sent_with_another_value_replaces_the_reading(db, staff, practice):
    services.import_file(db, staff, practice.id, bundle(reading(58)))
    report = services.import_file(db, staff, practice.id, bundle(reading(52)))
    assert len(report.corrected) == 1
    assert [(r.value, r.corrected_from) for r in rows(db)] == [(52, "58 mmol/mol")]


def test_readings_without_an_identifier_behave_as_before(db, staff, practice):
    services.import_file(db, staff, practice.id, bundle(reading(58, lab_id=None)))
    services.import_file(db, staff, practice.id, bundle(reading(52, lab_id=None)))
    assert [r.value for r in rows(db)] == [58, 52]
    assert all(r.identifier_value is None and r.corrected_at is None for r in rows(db))


# --- entered in error ---------------------------------------------------------------------


def test_entered_in_error_withdraws_the_reading(db, staff, practice, patient):
    services.import_file(db, staff, practice.id, bundle(reading(58), reading(40, lab_id="B2")))
    release_all(db)
    withdrawal = reading(58, status="entered-in-error")
    del withdrawal["valueQuantity"]  # a withdrawal need not carry the value
    report = services.import_file(db, staff, practice.id, bundle(withdrawal))
    assert len(report.withdrawn) == 1
    assert "Withdrew 1 result the sender marked as entered in error." in report.summary()
    kept = {r.identifier_value: r for r in rows(db)}
    assert kept["A1"].withdrawn_at is not None and kept["B2"].withdrawn_at is None
    [summary] = services.own_results(db, load_actor(db, patient), patient.id)
    assert [r.value for r in summary.readings] == [40]  # the person no longer sees 58
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "results.withdraw")).one()
    assert json.loads(event.detail)["was"]["value"] == "58 mmol/mol"
    again = services.import_file(db, staff, practice.id, bundle(withdrawal))
    assert (again.withdrawn, again.already_there) == ([], 1)


def test_entered_in_error_for_an_identifier_never_seen_is_refused(db, staff, practice):
    with pytest.raises(ImportFailed) as error:
        services.import_file(
            db,
            staff,
            practice.id,
            bundle(reading(50, lab_id="NEW"), reading(58, status="entered-in-error", lab_id="X9")),
        )
    assert problems(error) == [
        f"Observation 2 (Observation/2), status: it is marked entered in error, but no result "
        f"with the identifier X9 ({LAB}) has been imported here, so there is nothing to "
        "withdraw. Take it out of the file and import the file again."
    ]
    assert rows(db) == []


def test_a_withdrawn_reading_stays_withdrawn_when_the_old_file_comes_again(db, staff, practice):
    original = bundle(reading(58))
    services.import_file(db, staff, practice.id, original)
    services.import_file(db, staff, practice.id, bundle(reading(58, status="entered-in-error")))
    report = services.import_file(db, staff, practice.id, original)
    assert (report.older, report.added, report.corrected) == (1, [], [])
    assert rows(db)[0].withdrawn_at is not None
    # An amended version from the lab puts it back, corrected.
    services.import_file(db, staff, practice.id, bundle(reading(55, status="amended")))
    [back] = rows(db)
    assert back.withdrawn_at is None and back.value == 55 and back.corrected_at is not None


# --- amended for a reading never seen, older versions, the wrong person ----------------------


def test_an_amended_result_never_seen_is_added_as_new_and_staff_are_told(db, staff, practice):
    report = services.import_file(db, staff, practice.id, bundle(reading(52, status="amended")))
    assert len(report.added) == 1 and report.new_corrections == 1
    assert "1 correction had no earlier version here, so it was added as a new result" in (
        report.summary()
    )
    assert rows(db)[0].corrected_at is None  # nothing here was corrected


def test_an_older_version_does_not_undo_a_correction(db, staff, practice):
    services.import_file(db, staff, practice.id, bundle(reading(58, issued="2026-10-02T09:00:00Z")))
    services.import_file(
        db,
        staff,
        practice.id,
        bundle(reading(52, status="corrected", issued="2026-10-05T09:00:00Z")),
    )
    report = services.import_file(
        db, staff, practice.id, bundle(reading(58, issued="2026-10-02T09:00:00Z"))
    )
    assert report.older == 1 and report.corrected == []
    assert "was an earlier version of a result since corrected" in report.summary()
    assert [r.value for r in rows(db)] == [52]


def test_an_identifier_filed_for_another_person_is_refused(db, staff, practice, patient):
    sam = add_person(db, "Sam Lee", "sam@example.org", (practice, Role.PATIENT))
    give_nhs_number(db, sam, SAM_NHS)
    services.import_file(db, staff, practice.id, bundle(reading(58)))
    with pytest.raises(ImportFailed) as error:
        services.import_file(db, staff, practice.id, bundle(reading(52)), sam.id)
    assert (
        "its identifier A1 (http://lab.example.org/observations) is on a result already "
        in (problems(error)[0])
    )
    assert [(r.patient_id, r.value) for r in rows(db)] == [(patient.id, 58)]


def test_a_reading_first_sent_without_an_identifier_takes_it_on(db, staff, practice):
    services.import_file(db, staff, practice.id, bundle(reading(58, lab_id=None)))
    again = services.import_file(db, staff, practice.id, bundle(reading(58)))
    assert again.already_there == 1 and rows(db)[0].identifier_value == "A1"
    services.import_file(db, staff, practice.id, bundle(reading(52, status="corrected")))
    assert [r.value for r in rows(db)] == [52]


# --- the same identifier twice in one file ----------------------------------------------------


def test_the_same_identifier_twice_in_one_file_refuses_the_file(db, staff, practice):
    data = bundle(reading(58, lab_id="A1"), reading(40, lab_id="B2"), reading(52, lab_id="A1"))
    with pytest.raises(ImportFailed) as error:
        services.import_file(db, staff, practice.id, data)
    assert problems(error) == [
        f"Observation 3 (Observation/3), identifier: its identifier 'A1' ({LAB}) is also on "
        "Observation 1 (Observation/1). A file may hold each result once: send the latest "
        "version of it only."
    ]
    assert rows(db) == []


def test_the_database_refuses_an_identifier_twice_at_a_practice(db, practice, patient):
    named = {"identifier_system": LAB, "identifier_value": "A1"}
    add_result(db, practice, patient, fingerprint="a", **named)
    with pytest.raises(IntegrityError):
        add_result(db, practice, patient, fingerprint="b", value=52.0, **named)
    db.rollback()
    add_result(db, practice, patient, value=53.0)  # readings without one are not limited
    add_result(db, practice, patient, value=54.0)
    assert len(rows(db)) == 3


# --- held results, and telling the person -----------------------------------------------------


def test_a_correction_of_a_released_result_tells_the_person_once_calmly(
    app, db, staff, practice, patient
):
    services.import_file(db, staff, practice.id, bundle(reading(58)))
    release_all(db)
    services.import_file(db, staff, practice.id, bundle(reading(52, status="amended")))
    services.import_file(db, staff, practice.id, bundle(reading(52, status="amended")))
    [note] = db.exec(select(Notification)).all()
    assert note.person_id == patient.id and note.kind == "results.corrected"
    assert note.message == (
        "One of the results you have read has been corrected by the lab or surgery. Your "
        "results page now shows the corrected one. You can ask about this at your review."
    )
    [mail] = outbox(app)
    assert mail["To"] == "pat@example.org" and mail["Subject"] == "A change to your results"
    body = mail.get_content()
    for health_word in ("HbA1c", "52", "58", "mmol"):
        assert health_word not in body.replace(mail["To"], "").split("Sign in")[0]
    [summary] = services.own_results(db, load_actor(db, patient), patient.id)
    assert summary.shown(summary.latest) == "52 mmol/mol"
    assert summary.corrected(summary.latest).startswith("corrected on ")
    assert summary.meaning  # the explanation reads the corrected value


def test_a_correction_of_a_held_result_stays_held_and_tells_nobody(
    app, db, staff, practice, patient
):
    services.import_file(db, staff, practice.id, bundle(reading(58)))
    release_all(db)
    [held] = rows(db)
    services.hold_result(db, staff, held.id, "Talk first")
    services.import_file(db, staff, practice.id, bundle(reading(75, status="corrected")))
    [kept] = rows(db)
    assert kept.held and kept.held_note == "Talk first" and kept.value == 75
    assert services.own_results(db, load_actor(db, patient), patient.id) == []
    assert db.exec(select(Notification)).all() == [] and outbox(app) == []


def test_a_correction_before_release_waits_for_the_release_without_a_note(
    app, db, staff, practice, patient
):
    services.import_file(db, staff, practice.id, bundle(reading(58)))
    services.import_file(db, staff, practice.id, bundle(reading(52, status="amended")))
    assert db.exec(select(Notification)).all() == []
    release_all(db)
    [summary] = services.own_results(db, load_actor(db, patient), patient.id)
    assert summary.shown(summary.latest) == "52 mmol/mol"
    assert summary.corrected(summary.latest) == ""  # they never read the earlier value


def test_a_withdrawal_of_a_released_result_tells_the_person(app, db, staff, practice):
    services.import_file(db, staff, practice.id, bundle(reading(58)))
    release_all(db)
    services.import_file(db, staff, practice.id, bundle(reading(58, status="entered-in-error")))
    [note] = db.exec(select(Notification)).all()
    assert "recorded by mistake, so it has been taken off your results page" in note.message


def test_a_withdrawn_result_is_not_released(db, staff, practice, patient):
    from tests.results.helpers import plan_review

    review = plan_review(db, practice.id, patient.id)
    services.import_file(db, staff, practice.id, bundle(reading(58), reading(40, lab_id="B2")))
    services.import_file(db, staff, practice.id, bundle(reading(58, status="entered-in-error")))
    assert services.waiting_count(db, review) == 1
    assert services.release_results(db, staff, review) == 1


@pytest.mark.postgres
def test_the_same_correction_imported_twice_at_once_corrects_and_tells_once(
    app, db, practice, patient, clinician
):
    give_nhs_number(db, patient, PAT_NHS)
    with app.test_request_context():
        services.import_file(db, load_actor(db, clinician), practice.id, bundle(reading(58)))
    release_all(db)
    correction = bundle(reading(52, status="amended"))
    staff_id, practice_id = clinician.id, practice.id

    def send(session, _n):
        staff = load_actor(session, session.get(Person, staff_id))
        return services.import_file(session, staff, practice_id, correction)

    answers = together(app, 2, send)
    assert sorted(len(a.corrected) for a in answers) == [0, 1], answers
    assert [r.value for r in rows(db)] == [52]
    assert len(db.exec(select(Notification)).all()) == 1 and len(outbox(app)) == 1


@pytest.mark.postgres
def test_the_same_new_identifier_imported_twice_at_once_is_filed_once(
    app, db, practice, patient, clinician
):
    give_nhs_number(db, patient, PAT_NHS)
    first = bundle(reading(58))
    staff_id, practice_id = clinician.id, practice.id

    def send(session, _n):
        staff = load_actor(session, session.get(Person, staff_id))
        return services.import_file(session, staff, practice_id, first)

    answers = together(app, 2, send)
    assert sorted(len(a.added) for a in answers) == [0, 1], answers
    assert len(rows(db)) == 1
