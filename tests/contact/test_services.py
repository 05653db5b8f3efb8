"""Contact requests without HTTP: asked once, only by the person, acknowledged once, and
raised to the practice's admins once after a working day, however many clocks run."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person, outbox, together
from webapp.accounts.models import Practice, Role
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.contact import hours
from webapp.contact import services as contact
from webapp.contact.models import ContactRequest
from webapp.notifications.models import Notification


def _uk(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=hours.UK).astimezone(dt.UTC)


FRIDAY_5PM = _uk(2026, 12, 4, 17)


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def test_asking_once_and_a_second_choice_finds_the_open_request(ctx, db, patient, practice):
    pat = load_actor(db, patient)
    asked = contact.ask(db, pat, "planning", now=FRIDAY_5PM)
    assert asked.new and asked.open_now and asked.practice_name == practice.name
    assert asked.hours == "Monday to Friday, 08:00 to 18:30; closed on bank holidays"
    assert asked.request.due_at == _uk(2026, 12, 7, 17)
    again = contact.ask(db, pat, "groups", now=FRIDAY_5PM + dt.timedelta(hours=3))
    assert not again.new and again.request.id == asked.request.id
    # Closed now: the team sees it when the practice opens on Monday.
    assert not again.open_now and again.seen_from == _uk(2026, 12, 7, 8)
    assert db.exec(select(ContactRequest)).one().source == "planning"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "contact.asked")).one()
    assert event.subject_id == patient.id and "planning" in event.detail


def test_only_the_person_asks_and_only_with_a_practice(ctx, db, patient):
    from webapp.access import Acting

    pat = load_actor(db, patient)
    carer = add_person(db, "Sam Lee", "sam@example.org")
    acting = load_actor(db, carer)
    acting = type(acting)(
        person=acting.person,
        roles=acting.roles,
        acting=Acting(
            grant_id=1,
            person_id=pat.id,
            person_name=pat.name,
            scopes=frozenset({"planning", "crisis"}),
        ),
    )
    with pytest.raises(NotFound):
        contact.ask(db, acting, "planning")
    with pytest.raises(contact.ContactError) as error:
        contact.ask(db, load_actor(db, carer), "groups")  # Sam has no practice here
    assert "not registered with a practice" in error.value.message
    with pytest.raises(contact.ContactError):
        contact.ask(db, pat, "somewhere else")
    assert db.exec(select(ContactRequest)).all() == []


def test_the_worklist_shows_names_only_and_staff_acknowledge_once(
    ctx, db, patient, clinician, admin, practice
):
    contact.ask(db, load_actor(db, patient), "groups", now=FRIDAY_5PM)
    priya = load_actor(db, clinician)
    [(request, name)] = contact.worklist(db, priya, practice.id)
    assert name == "Pat Morgan" and request.source == "groups"
    elsewhere = Practice(name="Hillside")
    db.add(elsewhere)
    db.commit()
    olu = load_actor(db, add_person(db, "Olu Ade", "olu@example.org", (elsewhere, Role.CLINICIAN)))
    with pytest.raises(NotFound):
        contact.worklist(db, olu, practice.id)
    with pytest.raises(NotFound):
        contact.acknowledge(db, olu, elsewhere.id, request.id)  # not their practice's
    with pytest.raises(NotFound):
        contact.acknowledge(db, load_actor(db, patient), practice.id, request.id)
    assert contact.acknowledge(db, priya, practice.id, request.id)
    assert not contact.acknowledge(db, load_actor(db, admin), practice.id, request.id)
    assert contact.worklist(db, priya, practice.id) == []
    db.refresh(request)
    assert request.acknowledged_by_id == clinician.id
    audited = db.exec(select(AuditEvent).where(AuditEvent.action == "contact.acknowledged")).all()
    assert [(e.actor_id, e.subject_id) for e in audited] == [(clinician.id, patient.id)]
    # Once acknowledged, the person may ask again: a new request.
    assert contact.ask(db, load_actor(db, patient), "planning", now=FRIDAY_5PM).new


def test_waiting_requests_are_raised_once_after_a_working_day_across_a_weekend(
    app, ctx, db, patient, clinician, admin, practice
):
    sam = add_person(db, "Sam Lee", "sam@example.org", (practice, Role.PATIENT))
    jo = add_person(db, "Jo Hall", "jo@example.org", (practice, Role.PATIENT))
    contact.ask(db, load_actor(db, patient), "planning", now=FRIDAY_5PM)  # due Mon 17:00
    contact.ask(db, load_actor(db, sam), "groups", now=_uk(2026, 12, 5, 10))  # Sat: Mon 18:30
    jos = contact.ask(db, load_actor(db, jo), "groups", now=_uk(2026, 12, 4, 9)).request
    contact.acknowledge(db, load_actor(db, clinician), practice.id, jos.id)  # done in time
    # The clock ticks through the weekend and Monday.
    raised = {}
    for moment in (
        _uk(2026, 12, 4, 18, 31),
        _uk(2026, 12, 5, 12),
        _uk(2026, 12, 6, 23),
        _uk(2026, 12, 7, 9),
        _uk(2026, 12, 7, 17),
        _uk(2026, 12, 7, 17, 1),
        _uk(2026, 12, 7, 18, 30),
        _uk(2026, 12, 8, 9),
    ):
        raised[moment] = contact.escalate_due(db, now=moment)
    assert list(raised.values()) == [0, 0, 0, 0, 1, 0, 1, 0]
    told = db.exec(select(Notification).where(Notification.kind == "contact_waiting")).all()
    assert {n.person_id for n in told} == {admin.id} and len(told) == 2  # admins, not clinicians
    for notice in told:
        assert "Pat" not in notice.message and "Sam" not in notice.message
    mails = [m for m in outbox(app) if m["To"] == "alex@example.org"]
    assert len(mails) == 2
    for mail in mails:
        text = mail.get_content()
        assert "Pat" not in text and "Sam" not in text and "/reviews/practices/" in text
    escalated = db.exec(select(ContactRequest).where(ContactRequest.escalated_at.is_not(None)))
    assert sorted(r.person_id for r in escalated) == sorted([patient.id, sam.id])


def test_two_clocks_at_once_raise_a_request_once(app, db, patient, clinician, admin):
    with app.test_request_context():
        contact.ask(db, load_actor(db, patient), "planning", now=FRIDAY_5PM)
    later = _uk(2026, 12, 8, 9)

    def run(session: Session, _n: int) -> int:
        return contact.escalate_due(session, now=later)

    assert sorted(together(app, 2, run)) == [0, 1]
    told = db.exec(select(Notification).where(Notification.kind == "contact_waiting")).all()
    assert len(told) == 1 and told[0].person_id == admin.id
    assert len(outbox(app)) == 1


def test_a_practice_without_admins_tells_its_clinicians(ctx, db, patient, clinician):
    contact.ask(db, load_actor(db, patient), "planning", now=FRIDAY_5PM)
    assert contact.escalate_due(db, now=_uk(2026, 12, 8, 9)) == 1
    told = db.exec(select(Notification).where(Notification.kind == "contact_waiting")).one()
    assert told.person_id == clinician.id


def test_a_practices_hours_are_set_from_the_command_line(app, db, practice):
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["practice", "hours", str(practice.id)])
    assert shown.exit_code == 0 and "mon-fri 08:00-18:30; closed on bank holidays" in shown.output
    changed = runner.invoke(
        args=[
            "practice",
            "hours",
            str(practice.id),
            "Mon-Thu 8:00-18:30; fri 08:00-17:00",
            "--no-bank-holidays",
        ]
    )
    assert changed.exit_code == 0, changed.output
    db.refresh(practice)
    assert practice.working_hours == "mon-thu 08:00-18:30; fri 08:00-17:00"
    assert not practice.closed_on_bank_holidays
    bad = runner.invoke(args=["practice", "hours", str(practice.id), "weekdays 9 to 5"])
    assert bad.exit_code == 1 and "Could not set the hours" in bad.output
    missing = runner.invoke(args=["practice", "hours", "99999"])
    assert missing.exit_code == 1 and "There is no practice 99999" in missing.output
    # The person is told the practice's own hours.
    with app.test_request_context():
        pat = add_person(db, "Pat Morgan", "pat@example.org", (practice, Role.PATIENT))
        asked = contact.ask(db, load_actor(db, pat), "planning", now=FRIDAY_5PM)
    assert asked.hours == "Monday to Thursday, 08:00 to 18:30; Friday, 08:00 to 17:00"
    # It closes at 17:00 on Fridays: asked then, it is due as Monday closes.
    assert not asked.open_now and asked.request.due_at == _uk(2026, 12, 7, 18, 30)


def test_the_practices_clinicians_are_told_at_once_with_no_name_and_no_words(
    ctx, db, patient, clinician, practice
):
    admin = add_person(db, "Ade Admin", "ade@example.org", (practice, Role.ADMIN))
    contact.ask(db, load_actor(db, patient), "groups", now=FRIDAY_5PM)
    told = db.exec(select(Notification).where(Notification.kind == "contact_asked")).all()
    assert [n.person_id for n in told] == [clinician.id]  # its clinicians; admins if none
    assert told[0].message == "Someone asked their care team to contact them"
    assert patient.name not in told[0].message and told[0].link.endswith("#contact")
    # Asked again while open: nobody is told twice.
    contact.ask(db, load_actor(db, patient), "planning", now=FRIDAY_5PM)
    assert len(db.exec(select(Notification).where(Notification.kind == "contact_asked")).all()) == 1
    assert admin.id not in [n.person_id for n in told]
