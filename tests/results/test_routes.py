"""Results through HTTP: staff import, hold back and release; the person reads and asks."""

from __future__ import annotations

import io
import re

import pytest
from sqlmodel import select

from tests.conftest import add_person, outbox, sign_in
from tests.results.helpers import (
    PAT_NHS,
    add_result,
    bundle,
    example,
    give_nhs_number,
    observation,
    plan_review,
)
from webapp.accounts.models import Practice, Role
from webapp.notifications.models import Notification
from webapp.planning.models import AgendaItem
from webapp.results import services
from webapp.results.models import Result
from webapp.reviews.models import Review, ReviewStatus


@pytest.fixture
def review(db, practice, patient):
    give_nhs_number(db, patient, PAT_NHS)
    return plan_review(db, practice.id, patient.id)


def upload(client, url, data: bytes, name="results.json", **fields):
    return client.form(
        url, {"file": (io.BytesIO(data), name), **fields}, content_type="multipart/form-data"
    )


LIPIDS_AND_HBA1C = bundle(
    observation("59261-8", 58, "mmol/mol", "2026-03-01T09:00:00Z"),
    observation("59261-8", 62, "mmol/mol", "2026-10-01T09:00:00Z"),
    observation("2093-3", 5.6, "mmol/L", "2026-10-01T09:00:00Z"),
)


def staff_import_and_release(app, client, clinician, review, hold_code=None):
    """Import readings as the clinician, optionally hold one back, then release."""
    sign_in(app, client, clinician)
    done = upload(client, f"/results/reviews/{review.id}/upload", LIPIDS_AND_HBA1C)
    assert done.status_code == 303, done.get_data(as_text=True)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Imported 3 results for 1 person." in page
    return page


def test_staff_import_hold_and_release_and_the_person_reads(
    app, client, db, review, patient, clinician
):
    page = staff_import_and_release(app, client, clinician, review)
    assert "3 results are ready to send." in page
    cholesterol = db.exec(select(Result).where(Result.test == "total-cholesterol")).one()
    held = client.form(
        f"/results/reviews/{review.id}/results/{cholesterol.id}/hold",
        {"note": "Discuss statin first"},
    )
    assert held.status_code == 303
    page = client.get(f"/results/reviews/{review.id}").get_data(as_text=True)
    assert "Held back" in page and "Discuss statin first" in page
    assert "2 results are ready to send." in page
    released = client.form(f"/results/reviews/{review.id}/release")
    assert released.status_code == 303
    db.expire_all()
    assert db.get(Review, review.id).status == ReviewStatus.RESULTS_RELEASED

    [mail] = outbox(app)
    assert mail["To"] == "pat@example.org"
    body = mail.get_content()
    assert "ready to read" in body
    for health_word in ("HbA1c", "62", "cholesterol", "mmol"):
        # As a whole word: a link's token in the body may hold any letters and digits.
        said = re.compile(rf"\b{health_word}\b", re.I)
        assert not said.search(body) and not said.search(mail["Subject"])

    client.post("/account/signout", data={"csrf_token": client.csrf_token()})
    sign_in(app, client, patient)
    home = client.get("/").get_data(as_text=True)
    assert "are ready to read" in home and '<span class="badge">1' in home
    mine = client.get("/results").get_data(as_text=True)
    when = db.get(Review, review.id).scheduled_at
    assert f"Your results for your review on {when.day} {when:%B %Y}." in mine
    assert "62 mmol/mol" in mine and "Higher than last time (58 mmol/mol on 1 March 2026)." in mine
    assert "Above the usual target of 53 mmol/mol or lower." in mine
    assert "<svg" in mine and "All readings (2)" in mine
    # The held result: not on the page, not in the export, not counted, not in any notification.
    for text in (mine, client.get("/results/letter").get_data(as_text=True)):
        assert "Cholesterol" not in text and "5.6" not in text
    export = client.get("/results/my-results.csv").get_data(as_text=True)
    assert "HbA1c" in export and "Cholesterol" not in export and len(export.splitlines()) == 3
    explained = client.get("/results/tests/total-cholesterol").get_data(as_text=True)
    assert "What your number means" not in explained and "5.6" not in explained
    assert client.form("/results/ask", {"test": "total-cholesterol"}).status_code == 404
    notifications = db.exec(select(Notification)).all()
    assert all("holesterol" not in n.message and "1 result" not in n.message for n in notifications)


def test_the_person_reads_an_explanation_and_asks_about_a_result(
    app, client, db, review, patient, clinician
):
    staff_import_and_release(app, client, clinician, review)
    client.form(f"/results/reviews/{review.id}/release")
    sign_in(app, client, patient)
    page = client.get("/results/tests/hba1c").get_data(as_text=True)
    assert "HbA1c: your average blood sugar" in page and "What your number means" in page
    assert "Questions you might ask at your review" in page
    asked = client.form("/results/ask", {"test": "hba1c"}, headers={"HX-Request": "true"})
    assert "Added to your list for your review" in asked.get_data(as_text=True)
    again = client.form("/results/ask", {"test": "hba1c"}, headers={"HX-Request": "true"})
    assert "On your list for your review" in again.get_data(as_text=True)
    [item] = db.exec(select(AgendaItem)).all()
    assert (item.review_id, item.test, item.text) == (review.id, "hba1c", "My HbA1c result")
    home = client.get("/").get_data(as_text=True)
    assert "What I want to talk about" in home and "My HbA1c result" in home
    assert client.form(f"/results/agenda/{item.id}/remove").status_code == 303
    assert db.exec(select(AgendaItem)).all() == []


def test_no_results_yet_says_so_calmly(app, client, db, review, patient, clinician):
    staff_import_and_release(app, client, clinician, review)  # imported, not released
    sign_in(app, client, patient)
    page = client.get("/results").get_data(as_text=True)
    assert "Your results are not ready yet" in page
    # The held-back value (HbA1c 62) is nowhere in what is shown; tokens in the page's
    # head may hold any digits, so only the main content is searched.
    main = re.search(r"<main\b.*?</main>", page, re.S).group(0)
    assert not re.search(r"\b62\b", main)
    assert client.get("/notifications").get_data(as_text=True).count("ready to read") == 0


def test_bad_uploads_show_every_problem_and_keep_nothing(app, client, db, review, clinician):
    sign_in(app, client, clinician)
    url = f"/results/reviews/{review.id}/upload"
    response = upload(client, url, b'{"resourceType": "Patient"}')
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Nothing was imported" in body and "it is a FHIR Patient" in body
    missing = client.form(url, {}, content_type="multipart/form-data")
    assert "Choose a CSV or FHIR JSON file." in missing.get_data(as_text=True)
    bad_csv = b"test,value,unit,date_taken\nHbA1c,-1,mmol/mol,2026-01-01\nHbA1c,50,%,\n"
    body = upload(client, url, bad_csv, "r.csv").get_data(as_text=True)
    assert "Row 2, column value" in body and "Row 3, column date_taken" in body
    assert db.exec(select(Result)).all() == []


def test_staff_type_results_in(app, client, db, review, clinician):
    sign_in(app, client, clinician)
    done = client.form(
        f"/results/reviews/{review.id}/entered",
        {
            "test-0": "hba1c",
            "value-0": "7.1",
            "unit-0": "%",
            "date_taken-0": "2026-10-01",
            "test-1": "blood-pressure",
            "value-1": "132/84",
            "date_taken-1": "2026-10-01",
        },
    )
    assert done.status_code == 303
    assert {r.test for r in db.exec(select(Result))} == {"hba1c", "blood-pressure"}
    bad = client.form(
        f"/results/reviews/{review.id}/entered",
        {"test-0": "hba1c", "value-0": "7.1", "unit-0": "kg", "date_taken-0": "2026-10-01"},
    )
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Line 1, column unit" in body and 'value="kg"' in body


def test_a_release_date_and_a_personal_target(app, client, db, review, patient, clinician):
    sign_in(app, client, clinician)
    upload(client, f"/results/reviews/{review.id}/upload", LIPIDS_AND_HBA1C)
    bad = client.form(f"/results/reviews/{review.id}/release-date", {"release_on": "2020-01-01"})
    assert "That day has passed" in bad.get_data(as_text=True)
    day = review.scheduled_at.date().isoformat()
    assert (
        client.form(f"/results/reviews/{review.id}/release-date", {"release_on": day}).status_code
        == 303
    )
    db.expire_all()
    assert db.get(Review, review.id).release_on.isoformat() == day
    target = client.form(f"/results/reviews/{review.id}/targets", {"test": "hba1c", "high": "65"})
    assert target.status_code == 303
    wrong = client.form(f"/results/reviews/{review.id}/targets", {"test": "hba1c", "high": "lots"})
    assert "Write the target as numbers" in wrong.get_data(as_text=True)
    client.form(f"/results/reviews/{review.id}/release")
    sign_in(app, client, patient)
    page = client.get("/results").get_data(as_text=True)
    assert "Within your own target of 65 mmol/mol or lower." in page


def test_the_practice_import_page_matches_by_nhs_number(
    app, client, db, review, patient, clinician, practice
):
    sign_in(app, client, clinician)
    url = f"/results/practices/{practice.id}/import"
    # The column line may break after each comma on a phone (<wbr>).
    page = client.get(url).get_data(as_text=True).replace("<wbr>", "")
    assert "nhs_number,test,value,unit,date_taken,reference_range" in page
    done = upload(client, url, LIPIDS_AND_HBA1C)
    assert done.status_code == 303
    assert len(db.exec(select(Result).where(Result.patient_id == patient.id)).all()) == 3
    examples = upload(client, url, example("observation-example-bmi.json"))
    assert "there is no NHS number" in examples.get_data(as_text=True)
    chosen = upload(client, url, example("observation-example-bmi.json"), nhs_number="943 476 5919")
    assert chosen.status_code == 303
    wrong = upload(client, url, example("observation-example-bmi.json"), nhs_number="1234567890")
    assert "That is not a valid NHS number" in wrong.get_data(as_text=True)


def test_another_practice_can_neither_import_nor_read(app, client, db, review, patient, clinician):
    staff_import_and_release(app, client, clinician, review)
    elsewhere = Practice(name="Hillside Surgery")
    db.add(elsewhere)
    db.commit()
    stranger = add_person(db, "Olu Ade", None, (elsewhere, Role.CLINICIAN))
    sign_in(app, client, stranger)
    assert client.get(f"/results/reviews/{review.id}").status_code == 404
    assert (
        upload(client, f"/results/reviews/{review.id}/upload", LIPIDS_AND_HBA1C).status_code == 404
    )
    result = db.exec(select(Result)).first()
    assert client.form(f"/results/reviews/{review.id}/results/{result.id}/hold").status_code == 404
    assert client.form(f"/results/reviews/{review.id}/release").status_code == 404
    assert client.get(f"/results/practices/{review.practice_id}/import").status_code == 404


def _released(app, client, db, review, clinician):
    staff_import_and_release(app, client, clinician, review)
    client.form(f"/results/reviews/{review.id}/release")


def test_kept_cards_follow_holds_targets_and_asks(app, client, db, review, patient, clinician):
    from webapp.accounts.services import load_actor
    from webapp.results import services

    _released(app, client, db, review, clinician)
    sign_in(app, client, patient)
    assert "5.6 mmol/L" in client.get("/results").get_data(as_text=True)
    cholesterol = db.exec(select(Result).where(Result.test == "total-cholesterol")).one()
    with app.app_context():
        staff = load_actor(db, clinician)
        services.hold_result(db, staff, cholesterol.id, "Talk first")
    page = client.get("/results").get_data(as_text=True)
    assert "5.6 mmol/L" not in page and "Total cholesterol" not in page
    with app.app_context():
        services.set_target(db, staff, review.practice_id, patient.id, "hba1c", None, 70)
    assert "Within your own target of 70 mmol/mol or lower." in client.get("/results").get_data(
        as_text=True
    )
    client.form("/results/ask", {"test": "hba1c"})
    assert "On your list for your review" in client.get("/results").get_data(as_text=True)


def test_kept_cards_carry_each_visitors_own_csrf_token(app, db, review, patient, clinician):
    import re

    first, second = app.test_client(), app.test_client()
    _released(app, first, db, review, clinician)
    for client in (first, second):
        sign_in(app, client, patient)
    first.get("/results")
    page = second.get("/results").get_data(as_text=True)
    assert "__csrf_token__" not in page
    token = re.search(
        r'name="csrf_token" value="([^"]+)">(?:<input type="hidden" name="record" [^>]+>)?\s*'
        r'<input type="hidden" name="test" value="hba1c"',
        page,
    ).group(1)
    asked = second.post("/results/ask", data={"csrf_token": token, "test": "hba1c"})
    assert asked.status_code == 303


def test_foreign_codes_cannot_inject_markup_and_exports_cannot_carry_formulas(
    app, client, db, review, patient, clinician
):
    evil = '"><img src=x onerror=alert(1)>'
    data = (
        "nhs_number,test,value,unit,date_taken\n"
        f'{PAT_NHS},"{evil.replace(chr(34), chr(34) * 2)}",5,u,2026-10-01\n'
        f"{PAT_NHS},=HYPERLINK(1),6,u,2026-10-01\n"
    ).encode()
    sign_in(app, client, clinician)
    assert upload(client, f"/results/reviews/{review.id}/upload", data, "r.csv").status_code == 303
    client.form(f"/results/reviews/{review.id}/release")
    sign_in(app, client, patient)
    page = client.get("/results").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x" in page
    export = client.get("/results/my-results.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in export


def test_the_kept_page_shows_messages_badges_and_this_visitors_token(
    app, db, review, patient, clinician
):
    import re

    first, second = app.test_client(), app.test_client()
    _released(app, first, db, review, clinician)
    for client in (first, second):
        sign_in(app, client, patient)
    first.get("/results")
    page = second.get("/results").get_data(as_text=True)
    assert '<span class="badge">1' in page
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    tokens |= set(re.findall(r'"X-CSRFToken": "([^"]+)"', page))
    assert len(tokens) == 1 and "__csrf_token__" not in tokens
    # A form posted without JavaScript comes back with its message, even to a kept page.
    asked = second.post(
        "/results/ask", data={"csrf_token": tokens.pop(), "test": "hba1c", "back": "/results"}
    )
    assert asked.status_code == 303
    back = second.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Added to your list for your review." in back
    second.get("/notifications")
    assert '<span class="badge">' not in second.get("/results").get_data(as_text=True)


# --- corrections from the lab, through the pages ----------------------------------------------

LAB = "http://lab.example.org/observations"


def lab_reading(value: float, status: str = "final", lab_id: str = "A1") -> dict:
    """Return an HbA1c Observation for Pat carrying the lab's identifier."""
    return observation(
        "59261-8", value, "mmol/mol", status=status, identifier=[{"system": LAB, "value": lab_id}]
    )


def test_both_import_pages_refuse_a_file_naming_a_result_twice(
    app, client, db, review, practice, clinician
):
    sign_in(app, client, clinician)
    twice = bundle(lab_reading(58), lab_reading(52))
    for url in (f"/results/reviews/{review.id}/upload", f"/results/practices/{practice.id}/import"):
        refused = upload(client, url, twice)
        assert refused.status_code == 422
        body = refused.get_data(as_text=True)
        assert "Nothing was imported" in body
        assert (
            "Observation 2 (Observation/2), identifier: its identifier &#39;A1&#39; "
            f"({LAB}) is also on Observation 1 (Observation/1)."
        ) in body
    assert db.exec(select(Result)).all() == []


def test_a_correction_shows_to_staff_and_the_person_sees_the_corrected_value(
    app, client, db, review, patient, clinician
):
    sign_in(app, client, clinician)
    url = f"/results/reviews/{review.id}/upload"
    assert upload(client, url, bundle(lab_reading(58), lab_reading(40, lab_id="B2"))).status_code
    client.form(f"/results/reviews/{review.id}/release")
    done = upload(
        client,
        url,
        bundle(lab_reading(52, status="amended"), lab_reading(40, "entered-in-error", "B2")),
    )
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Corrected 1 result; the earlier value is kept in the record." in page
    assert "Withdrew 1 result the sender marked as entered in error." in page
    assert "it was 58 mmol/mol." in page and "Withdrawn" in page
    assert "No results are waiting to be sent." in page

    client.post("/account/signout", data={"csrf_token": client.csrf_token()})
    sign_in(app, client, patient)
    mine = client.get("/results").get_data(as_text=True)
    today = services.utcnow()
    assert "52 mmol/mol" in mine and f"corrected on {today.day} {today:%B %Y}" in mine
    main = re.search(r"<main\b.*?</main>", mine, re.S).group(0)
    assert not re.search(r"\b58\b", main) and not re.search(r"\b40\b", main)
    assert "corrected on" in client.get("/results/letter").get_data(as_text=True)
    explained = client.get("/results/tests/hba1c").get_data(as_text=True)
    assert "52 mmol/mol" in explained and not re.search(r"\b58 mmol", explained)
    [note] = db.exec(select(Notification).where(Notification.kind == "results.corrected")).all()
    assert "corrected" in note.message and "taken off your results page" in note.message


def test_staff_see_the_tests_content_name_not_its_slug(
    app, client, db, review, practice, patient, clinician
):
    # Stored with its slug for a name, as the demo's bulk patients once were.
    add_result(
        db, practice, patient, test="ldl-cholesterol", display="ldl-cholesterol", fingerprint="l"
    )
    sign_in(app, client, clinician)
    page = client.get(f"/results/reviews/{review.id}").get_data(as_text=True)
    assert "LDL cholesterol" in page and "ldl-cholesterol</td>" not in page
    assert "Note about LDL cholesterol for the care team" in page
    assert "(mm[Hg])" not in page and "(mmHg)" in page  # units as people write them
