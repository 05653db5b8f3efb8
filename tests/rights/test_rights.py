"""The person's data rights: who has seen their record, in plain words and by role, and
everything held about them as JSON and as a valid FHIR R4 Bundle (nothing held back)."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import make_app, sign_in
from webapp import audit, demo
from webapp.accounts.models import Person
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.rights import fhir, services


@pytest.fixture
def pat(app, db):
    """The demo: Pat with five years of results (one held back), a plan and progress."""
    with app.app_context():
        demo.seed(db, "small")
    person = db.exec(select(Person).where(Person.email == "pat@example.org")).one()
    with app.test_request_context():
        yield load_actor(db, person)


def _priya(db) -> Person:
    return db.exec(select(Person).where(Person.email == "priya@example.org")).one()


def test_who_has_seen_my_record_in_plain_words(app, db, pat):
    priya = _priya(db)
    audit.record(db, priya.id, "planning.read_shared", pat.id)
    audit.record(db, pat.id, "goal.created", pat.id)
    audit.record(db, None, "results.release", pat.id)
    db.commit()
    mine, more = services.activity(db, pat, pat.id)
    assert not more
    assert [(a.who, a.role, a.what) for a in mine[:2]] == [
        ("Coproduce", "done automatically", "sent you your results"),
        (
            "Dr Priya Shah",
            "clinician at Riverside Health Centre",
            "read what you shared for your review",
        ),
    ]
    assert all(not a.by_self for a in mine)
    everything, _more = services.activity(db, pat, pat.id, others_only=False)
    assert any(a.by_self and a.what == "wrote a goal" for a in everything)


def test_the_record_of_who_has_seen_it_is_paginated(db, pat):
    # Different things in turn (the same thing again is counted, not repeated).
    for n in range(services.PAGE_SIZE + 3):
        action = "plan.read" if n % 2 else "planning.read_shared"
        audit.record(db, _priya(db).id, action, pat.id)
    db.commit()
    first, more = services.activity(db, pat, pat.id, page=1)
    second, more_again = services.activity(db, pat, pat.id, page=2)
    assert len(first) == services.PAGE_SIZE and more
    assert len(second) >= 3 and not more_again


def test_the_same_thing_again_is_counted_not_repeated(db, pat):
    import datetime as dt

    priya = _priya(db)
    # From tomorrow on, so nothing the fixture recorded today falls between them.
    start = dt.datetime.now(dt.UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    start += dt.timedelta(days=1)
    for day in range(8):  # every day for eight days
        audit.record(db, priya.id, "plan.read", pat.id).at = start + dt.timedelta(days=day)
    audit.record(db, priya.id, "plan.note", pat.id).at = start + dt.timedelta(days=8)
    audit.record(db, priya.id, "plan.read", pat.id).at = start + dt.timedelta(days=9)
    db.commit()
    mine, _more = services.activity(db, pat, pat.id)
    ours = [(a.what, a.times) for a in mine if a.who == "Dr Priya Shah"]
    assert ours == [
        ("read the goals you shared, to agree your plan", 1),
        ("wrote a note on your plan", 1),
        ("read the goals you shared, to agree your plan", 8),
    ]
    grouped = next(a for a in mine if a.times == 8)
    assert (grouped.first, grouped.at) == (start, start + dt.timedelta(days=7))
    assert all("did something" not in a.what for a in mine)


def test_only_the_person_sees_their_rights_pages(db, pat, app):
    with app.test_request_context():
        other = load_actor(db, _priya(db))
        with pytest.raises(NotFound):
            services.activity(db, other, pat.id)
        with pytest.raises(NotFound):
            services.everything(db, other, pat.id)
        with pytest.raises(NotFound):
            fhir.everything_bundle(db, other, pat.id)


def test_everything_held_as_json_never_holds_what_is_held_back(db, pat):
    from webapp.accounts.models import Passkey

    db.add(Passkey(person_id=pat.id, credential_id=b"\x85\xd5", public_key=b"\xff", name="Phone"))
    db.commit()
    data = services.everything(db, pat, pat.id)
    assert [p["name"] for p in data["passkeys"]] == ["Phone"]
    assert data["person"]["name"] == "Pat Morgan"
    assert data["goals"] and data["progress"] and data["care_plans"] and data["results"]
    assert all(r["released_at"] for r in data["results"])
    assert "held" not in data["results"][0] and "held_note" not in data["results"][0]
    assert all("public_key" not in p for p in data["passkeys"])
    json.loads(services.as_json(data))  # it really is JSON
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "rights.download")).one()
    # The demo's time bank: Pat's membership (without the coordinators' private note),
    # request, the lift Nan gave, and its line on the statement.
    (account,) = data["time_bank_memberships"]
    assert account["display_name"] == "Pat" and "note" not in account
    assert [row["title"] for row in data["time_bank_listings"]] == ["A lift to the surgery"]
    assert [row["moved"] for row in data["time_bank_exchanges"]] == [6]
    assert [(row["amount"], row["balance_after"]) for row in data["time_bank_statement"]] == [
        (-6, -6)
    ]


def test_the_record_as_a_valid_fhir_bundle(db, pat):
    bundle = fhir.everything_bundle(db, pat, pat.id)
    parsed = Bundle.model_validate(bundle)
    kinds = [entry.resource.get_resource_type() for entry in parsed.entry]
    assert kinds[0] == "Patient" and "CarePlan" in kinds
    assert kinds.count("Goal") == 2 and kinds.count("Observation") > 40
    observations = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    pressure = next(o for o in observations if "component" in o)
    assert [c["code"]["coding"][0]["code"] for c in pressure["component"]] == ["8480-6", "8462-4"]
    texts = [o for o in observations if "valueString" in o]
    assert texts  # foot checks, eye screening, smoking
    from webapp.results.models import Result

    mine = db.exec(select(Result).where(Result.patient_id == pat.id)).all()
    shown = [r for r in mine if r.released_at is not None and not r.held]
    assert len(shown) < len(mine)  # Pat has a result held back, and it is not in the file
    assert len(observations) == len(shown)


def test_my_data_pages_through_http(app, db, pat):
    client = make_app().test_client()
    sign_in(app, client, db.get(Person, pat.id))
    for _n in range(3):
        audit.record(db, _priya(db).id, "plan.read", pat.id, review_id=1)
    db.commit()
    page = client.get("/account/my-data").get_data(as_text=True)
    assert "Who has seen my record" in page and "Priya Shah" in page
    assert page.count("read the goals you shared, to agree your plan") == 1
    assert "3 times, between" in page
    assert "Include what I did" in page
    download = client.get("/account/my-data/everything.json")
    assert (
        download.mimetype == "application/json"
        and "attachment" in download.headers["Content-Disposition"]
    )
    assert download.headers["Cache-Control"] == "private, no-store"
    fhir_file = client.get("/account/my-data/everything.fhir.json")
    assert fhir_file.mimetype == "application/fhir+json"
    Bundle.model_validate(json.loads(fhir_file.get_data(as_text=True)))
    mine = client.get("/account/my-data?all=1").get_data(as_text=True)
    assert "downloaded your data" in mine and "Show only what other people did" in mine


def test_nothing_tells_of_results_still_held_back(db, pat):
    audit.record(db, _priya(db).id, "results.hold", pat.id, result_id=1)
    audit.record(db, _priya(db).id, "results.import", pat.id, count=3)
    db.commit()
    mine, _more = services.activity(db, pat, pat.id, others_only=False)
    assert not any("held back" in a.what or "added test results" in a.what for a in mine)
    data = services.everything(db, pat, pat.id)
    actions = {row["action"] for row in data["record_activity"]}
    assert not actions & set(services.UNTOLD)
    assert all("detail" not in row for row in data["record_activity"])
    assert all("endpoint" not in row for row in data["devices"])
    assert "personal_targets" in data and "sign_ins" in data


def test_what_a_closed_account_did_is_said_so(app, db, pat):
    from tests.conftest import add_person

    sam = add_person(db, "Sam Staff", "sam@example.org")
    audit.record(db, sam.id, "plan.read", pat.id)
    db.commit()
    with app.test_request_context():
        services.delete_account(db, load_actor(db, sam), sam.id)
    mine, _more = services.activity(db, pat, pat.id)
    assert mine[0].who == "Someone whose account has been closed"
