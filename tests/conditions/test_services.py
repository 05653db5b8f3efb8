"""Long-term conditions without HTTP: the care team records, resolves and removes them; the
person reads them in plain words and says which matter most; other parts read them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from webapp.accounts.models import Practice, Role
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.conditions import services
from webapp.conditions.models import Condition
from webapp.conditions.services import ConditionError
from webapp.conditions.spec import is_concept_id


@pytest.fixture
def staff(app, db, clinician):
    """The clinician as an actor, inside the app (content is read from it)."""
    with app.app_context():
        yield load_actor(db, clinician)


def actions(db, action):
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_care_team_records_a_condition_from_content(db, staff, practice, patient):
    made = services.record_condition(db, staff, practice.id, patient.id, "44054006", "2019")
    assert (made.code, made.display, made.source) == (
        "44054006",
        "Type 2 diabetes mellitus",
        "care_team",
    )
    assert made.onset == dt.date(2019, 1, 1) and made.recorded_by_id == staff.id
    [shown] = services.conditions_of(db, patient.id)
    assert shown.name == "Type 2 diabetes" and shown.active
    assert "insulin" in shown.about and "hba1c" in shown.tests
    [event] = actions(db, "conditions.record")
    assert event.subject_id == patient.id and event.actor_id == staff.id


@pytest.mark.parametrize(
    ("code", "onset", "field", "words"),
    [
        ("", "", "code", "Choose a condition"),
        ("12345", "", "code", "Choose a condition"),
        ("44054006", "25/03/2019", "onset", "like 2019-03-25"),
        ("44054006", "2999-01-01", "onset", "in the future"),
        ("44054006", "1850", "onset", "too long ago"),
    ],
)
def test_bad_input_is_a_message_and_nothing_is_saved(
    db, staff, practice, patient, code, onset, field, words
):
    with pytest.raises(ConditionError) as error:
        services.record_condition(db, staff, practice.id, patient.id, code, onset)
    assert error.value.field == field and words in error.value.message
    assert services.conditions_of(db, patient.id) == []


def test_a_condition_is_not_recorded_twice(db, staff, practice, patient):
    made = services.record_condition(db, staff, practice.id, patient.id, "59621000")
    with pytest.raises(ConditionError, match="already on their list"):
        services.record_condition(db, staff, practice.id, patient.id, "59621000")
    services.set_condition_status(db, staff, practice.id, made.id, "resolved")
    with pytest.raises(ConditionError, match="Mark it active again"):
        services.record_condition(db, staff, practice.id, patient.id, "59621000")


def test_resolving_and_removing_are_recorded_and_change_what_is_shown(db, staff, practice, patient):
    asthma = services.record_condition(db, staff, practice.id, patient.id, "195967001")
    copd = services.record_condition(db, staff, practice.id, patient.id, "13645005")
    services.set_condition_status(db, staff, practice.id, asthma.id, "resolved")
    shown = services.conditions_of(db, patient.id)
    assert [(c.name, c.status) for c in shown] == [
        ("COPD (long-term lung disease)", "active"),
        ("Asthma", "resolved"),
    ]
    assert [c.name for c in services.conditions_of(db, patient.id, include_resolved=False)] == [
        "COPD (long-term lung disease)"
    ]
    assert services.remove_condition(db, staff, practice.id, copd.id) == patient.id
    assert [c.name for c in services.conditions_of(db, patient.id)] == ["Asthma"]
    assert db.get(Condition, copd.id).removed_by_id == staff.id  # kept, never shown
    assert len(actions(db, "conditions.status")) == 1
    assert len(actions(db, "conditions.remove")) == 1
    with pytest.raises(NotFound):  # a removed one cannot be changed again
        services.set_condition_status(db, staff, practice.id, copd.id, "active")
    with pytest.raises(ConditionError):
        services.set_condition_status(db, staff, practice.id, asthma.id, "cured")


def test_only_staff_of_the_persons_practice(db, staff, practice, patient):
    elsewhere = Practice(name="Hillside")
    db.add(elsewhere)
    db.commit()
    other = load_actor(
        db, add_person(db, "Olu Ade", "olu@example.org", (elsewhere, Role.CLINICIAN))
    )
    pat = load_actor(db, patient)
    made = services.record_condition(db, staff, practice.id, patient.id, "49436004")
    for actor, where in ((other, elsewhere.id), (other, practice.id), (pat, practice.id)):
        with pytest.raises(NotFound):
            services.record_condition(db, actor, where, patient.id, "84114007")
        with pytest.raises(NotFound):
            services.remove_condition(db, actor, where, made.id)
    # Staff of a practice the person is not a patient of cannot reach them through it.
    stranger = add_person(db, "Sal Vo", "sal@example.org", (elsewhere, Role.PATIENT))
    with pytest.raises(NotFound):
        services.record_condition(db, staff, practice.id, stranger.id, "84114007")


def test_the_person_says_what_matters_most_and_only_among_active_ones(db, staff, practice, patient):
    diabetes = services.record_condition(db, staff, practice.id, patient.id, "44054006")
    knees = services.record_condition(db, staff, practice.id, patient.id, "396275006")
    gone = services.record_condition(db, staff, practice.id, patient.id, "35489007")
    services.set_condition_status(db, staff, practice.id, gone.id, "resolved")
    pat = load_actor(db, patient)
    shown = services.choose_what_matters(db, pat, patient.id, {knees.id, gone.id, 999_999})
    assert {c.name: c.matters_most for c in shown} == {
        "Type 2 diabetes": False,
        "Osteoarthritis": True,
        "Depression": False,
    }
    row = db.get(Condition, knees.id)
    assert row.matters_set_by_id == patient.id and row.matters_set_at is not None
    services.choose_what_matters(db, pat, patient.id, {diabetes.id})
    assert [c.name for c in services.my_conditions(db, pat, patient.id) if c.matters_most] == [
        "Type 2 diabetes"
    ]
    # Marking it no longer active takes it out of what matters now.
    services.set_condition_status(db, staff, practice.id, diabetes.id, "resolved")
    assert not any(c.matters_most for c in services.conditions_of(db, patient.id))


def test_nobody_else_reads_or_chooses_for_the_person(db, staff, practice, patient):
    services.record_condition(db, staff, practice.id, patient.id, "44054006")
    other = load_actor(db, add_person(db, "Oli Reed", "oli@example.org", (practice, Role.PATIENT)))
    for actor in (staff, other):
        with pytest.raises(NotFound):
            services.my_conditions(db, actor, patient.id)
        with pytest.raises(NotFound):
            services.choose_what_matters(db, actor, patient.id, set())


def test_related_tests_follow_the_active_conditions_once_each_in_results_order(
    db, staff, practice, patient
):
    services.record_condition(db, staff, practice.id, patient.id, "709044004")
    services.record_condition(db, staff, practice.id, patient.id, "59621000")
    tests = services.related_tests(db, patient.id)
    assert len(tests) == len(set(tests))
    assert {"egfr", "acr", "blood-pressure", "total-cholesterol"} <= set(tests)
    assert "hba1c" not in tests
    order = [services.get_content().results.tests[slug].order for slug in tests]
    assert order == sorted(order)


def test_snomed_ct_ids_are_checked_by_their_digit():
    assert is_concept_id("44054006") and is_concept_id("999791000000106")
    assert not is_concept_id("44054007")  # one digit wrong
    assert not is_concept_id("12345")  # too short
    assert not is_concept_id("44054016")  # a description's partition, not a concept's
