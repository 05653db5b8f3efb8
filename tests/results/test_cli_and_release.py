"""`flask results import`, release on a set day (the clock), and what a release tells the person."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from tests.conftest import add_person, outbox
from tests.results.helpers import EXAMPLES, PAT_NHS, add_result, give_nhs_number, plan_review
from webapp.accounts.models import Person, Role
from webapp.notifications.models import Notification
from webapp.results import services
from webapp.results.models import Result
from webapp.reviews.models import Review, ReviewStatus


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_import_a_file_from_the_command_line(app, db, practice, patient):
    path = str(EXAMPLES / "diagnosticreport-example-lipids.json")
    done = run(
        app, "results", "import", path, "--practice", str(practice.id), "--patient", str(patient.id)
    )
    assert done.exit_code == 0, done.output
    assert "Imported 4 results for 1 person." in done.output
    assert "Pat Morgan: Total cholesterol 6.3 mmol/L (03 Mar 2011)" in done.output
    again = run(
        app, "results", "import", path, "--practice", str(practice.id), "--patient", str(patient.id)
    )
    assert again.exit_code == 0 and "Nothing new: all 4 results were already here." in again.output
    assert len(db.exec(select(Result)).all()) == 4


def test_the_command_line_prints_every_error_and_exits_1(app, db, practice, patient, tmp_path):
    give_nhs_number(db, patient, PAT_NHS)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "nhs_number,test,value,unit,date_taken\n"
        f"{PAT_NHS},HbA1c,abc,,2026-01-01\n9999999999,HbA1c,50,mmol/mol,2026-01-01\n"
    )
    failed = run(app, "results", "import", str(bad), "--practice", str(practice.id))
    assert failed.exit_code == 1
    assert "Nothing was imported from bad.csv:" in failed.output
    assert "Row 2, column value: the HbA1c result must be a number." in failed.output
    assert "Row 3: NHS number 9999999999 is not a patient of this practice." in failed.output
    other = add_person(db, "Jo Hill", None)
    refused = run(
        app,
        "results",
        "import",
        str(EXAMPLES / "observation-example-bmi.json"),
        "--practice",
        str(practice.id),
        "--patient",
        str(other.id),
    )
    assert refused.exit_code == 1 and "they are not a patient of this practice" in refused.output
    assert db.exec(select(Result)).all() == []


def test_results_go_on_their_day_by_the_clock(app, db, practice, patient):
    review = plan_review(db, practice.id, patient.id, days=10)
    review.release_on = dt.date.today()
    db.add(review)
    db.commit()
    # The day has come but there is nothing to send: the review waits.
    assert "Released results for 0 reviews." in run(app, "results", "release-due").output
    add_result(db, practice, patient)
    add_result(db, practice, patient, value=60.0, held=True, held_note="Talk first")
    assert run(app, "clock", "--once").exit_code == 0
    db.expire_all()
    assert db.get(Review, review.id).status == ReviewStatus.RESULTS_RELEASED
    released = db.exec(select(Result).where(Result.released_at.is_not(None))).all()
    assert [r.value for r in released] == [50.0]
    [note] = db.exec(select(Notification)).all()
    assert note.person_id == patient.id and "ready to read" in note.message
    [mail] = outbox(app)
    assert "50" not in mail.get_content() and "HbA1c" not in mail.get_content()
    # Released once: the next run sends nothing more.
    assert "Released results for 0 reviews." in run(app, "results", "release-due").output


def test_a_person_without_email_is_told_in_the_app_only(app, db, practice):
    person = add_person(db, "No Email", None, (practice, Role.PATIENT))
    review = plan_review(db, practice.id, person.id)
    add_result(db, practice, person)
    with app.app_context():
        assert services.release_results(db, None, review) == 1
    assert outbox(app) == []
    assert db.exec(select(Notification.person_id)).all() == [person.id]


def test_a_held_result_released_later_goes_with_the_next_release(
    app, db, practice, patient, clinician
):
    from webapp.accounts.services import load_actor

    review = plan_review(db, practice.id, patient.id)
    held = add_result(db, practice, patient, held=True)
    add_result(db, practice, patient, value=55.0)
    with app.app_context():
        staff = load_actor(db, clinician)
        services.release_results(db, staff, review)
        services.unhold_result(db, staff, held.id)
        assert services.waiting_count(db, review) == 1
        assert services.release_results(db, staff, review) == 1
        person = load_actor(db, db.get(Person, patient.id))
        [summary] = services.own_results(db, person, patient.id)
    assert len(summary.readings) == 2


def test_a_correction_from_the_command_line(app, db, practice, patient, tmp_path):
    import json

    original = EXAMPLES / "observation-example-f001-glucose.json"
    amended = json.loads(original.read_text())
    amended.update(status="amended", issued="2013-04-04T10:00:00+01:00")
    amended["valueQuantity"]["value"] = 5.4
    path = tmp_path / "amended.json"
    path.write_text(json.dumps(amended))
    where = ("--practice", str(practice.id), "--patient", str(patient.id))
    assert run(app, "results", "import", str(original), *where).exit_code == 0
    done = run(app, "results", "import", str(path), *where)
    assert done.exit_code == 0, done.output
    assert "Corrected 1 result; the earlier value is kept in the record." in done.output
    assert "Pat Morgan: Blood glucose 5.4 mmol/L (02 Apr 2013) corrected, it was 6.3 mmol/L" in (
        done.output
    )
    assert [r.value for r in db.exec(select(Result)).all()] == [5.4]
