"""Asking the care team through the pages: from the planning safety step and the groups'
safety step (with and without htmx), nothing sent without the choice, never by a carer for
the person, and the practice's worklist with names only, acknowledged once."""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlmodel import select

from tests.conftest import add_person, sign_in
from webapp.accounts.models import AuthSession, Role
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.carers import services as carers
from webapp.contact.models import ContactRequest
from webapp.content import get_content
from webapp.groups import services as groups
from webapp.groups import threads

WORDS = "I want to die"
BUTTON = "I'd like my care team to know"


def _key(page: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', page).group(1)


def _paused(app, client, patient) -> str:
    """Sign Pat in and write crisis words in a check-in; return the conversation's address."""
    sign_in(app, client, patient)
    url = client.form("/planning/check-in/start").headers["Location"].split("#")[0]
    page = client.get(url).get_data(as_text=True)
    client.form(url + "/answer", {"step": "overall", "answer": "2", "key": _key(page)})
    client.form(url + "/answer", {"step": "hard", "answer": WORDS, "key": "k2"})
    return url


def test_the_person_asks_from_the_planning_safety_step(app, client, db, patient):
    url = _paused(app, client, patient)
    page = client.get(url).get_data(as_text=True)
    assert "are you safe right now?" in page and BUTTON in page
    assert db.exec(select(ContactRequest)).all() == []  # nothing sent without the choice
    told = client.form(url + "/care-team")
    body = told.get_data(as_text=True)
    assert told.status_code == 200 and "We have told your care team" in body
    assert "nothing of what you wrote" in body and "This is not an emergency route." in body
    assert "Their working hours: Monday to Friday, 08:00 to 18:30" in body
    assert 'href="tel:116123"' in body  # the help lines again
    assert "are you safe right now?" in body  # the step stays until they choose
    request = db.exec(select(ContactRequest)).one()
    assert request.person_id == patient.id and request.source == "planning"
    # With htmx: the conversation swaps in, saying it is already with the team.
    again = client.form(url + "/care-team", headers={"HX-Request": "true"})
    swapped = again.get_data(as_text=True)
    assert again.status_code == 200 and "<html" not in swapped
    assert "Your care team already knows" in swapped and "You do not need to ask again" in swapped
    assert 'id="care-team-told-heading" tabindex="-1" data-focus' in swapped
    assert len(db.exec(select(ContactRequest)).all()) == 1
    for event in db.exec(select(AuditEvent)).all():
        assert WORDS not in event.detail


def test_a_carer_cannot_ask_for_the_person(app, client, db, patient):
    pat = load_actor(db, patient)
    sam = add_person(db, "Sam Lee", "sam@example.org")
    with app.test_request_context():
        grant, token, _code = carers.invite_carer(
            db, pat, pat.id, {"name": "Sam Lee"}, ["planning", "crisis"]
        )
        carers.accept(db, load_actor(db, sam), token=token)
    url = _paused(app, client, patient)
    sign_in(app, client, sam)
    db.exec(
        update(AuthSession).where(AuthSession.person_id == sam.id).values(acting_grant_id=grant.id)
    )
    db.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Only Pat Morgan can ask their care team to contact them" in page
    assert BUTTON not in page
    refused = client.form(url + "/care-team", {"record": str(patient.id)})
    assert refused.status_code == 404
    assert db.exec(select(ContactRequest)).all() == []


def _group_member(app, db, person) -> None:
    with app.test_request_context():
        groups.sync_groups(db, get_content().groups)
        groups.set_display_name(db, load_actor(db, person), "Pat M")
        groups.set_role(db, "living-with-diabetes", person.email, "member")


def test_the_poster_asks_from_the_groups_safety_step_and_keeps_their_post(app, client, db, patient):
    _group_member(app, db, patient)
    sign_in(app, client, patient)
    words = {"title": "Hard week", "body": "Some days I want to end my life", "key": "g1"}
    step = client.form("/groups/living-with-diabetes/threads", words)
    page = step.get_data(as_text=True)
    assert step.status_code == 200 and "are you safe right now?" in page and BUTTON in page
    assert 'formaction="/groups/living-with-diabetes/care-team"' in page
    assert db.exec(select(ContactRequest)).all() == []
    told = client.form("/groups/living-with-diabetes/care-team", {**words, "confirmed": "yes"})
    body = told.get_data(as_text=True)
    assert told.status_code == 200 and "We have told your care team" in body
    assert "This is not an emergency route." in body and 'href="tel:999"' in body
    # The post comes back as it was, still to post or not; nothing of it was sent or kept.
    assert "Some days I want to end my life</textarea>" in body and 'value="Hard week"' in body
    request = db.exec(select(ContactRequest)).one()
    assert request.source == "groups" and request.person_id == patient.id
    assert "end my life" not in str(request.model_dump())
    for event in db.exec(select(AuditEvent)).all():
        assert "end my life" not in event.detail
    # A reply's safety step leads to the thread's own address.
    with app.test_request_context():
        made = threads.start_thread(
            db, load_actor(db, patient), "living-with-diabetes", "Hi", "Hello", "z"
        )
    path = f"/groups/living-with-diabetes/threads/{made.thread_id}"
    reply = client.form(path + "/reply", {"body": "I want to die", "key": "r1"})
    assert f'formaction="{path}/care-team"' in reply.get_data(as_text=True)
    again = client.form(path + "/care-team", {"body": "I want to die", "key": "r1"})
    assert "Your care team already knows" in again.get_data(as_text=True)


def test_someone_without_a_practice_is_told_why_not(app, client, db):
    nat = add_person(db, "Nat Nye", "nat@example.org")
    _group_member(app, db, nat)
    sign_in(app, client, nat)
    step = client.form("/groups/living-with-diabetes/threads", {"title": "x", "body": WORDS})
    assert BUTTON not in step.get_data(as_text=True)  # no practice: no button
    refused = client.form("/groups/living-with-diabetes/care-team", {"title": "x", "body": WORDS})
    assert refused.status_code == 422
    assert "not registered with a practice" in refused.get_data(as_text=True)


def test_the_worklist_shows_who_asked_without_words_and_staff_acknowledge(
    app, client, db, patient, clinician, practice
):
    url = _paused(app, client, patient)
    client.form(url + "/care-team")
    sign_in(app, client, clinician)
    page = client.get(f"/reviews/practices/{practice.id}").get_data(as_text=True)
    assert "Contact this person" in page and "Pat Morgan" in page
    assert WORDS not in page and "I've contacted them" in page
    request = db.exec(select(ContactRequest)).one()
    done = client.form(f"/contact/practices/{practice.id}/requests/{request.id}/acknowledge")
    assert done.status_code == 303 and done.headers["Location"].endswith("#contact")
    after = client.get(f"/reviews/practices/{practice.id}").get_data(as_text=True)
    assert "Contact this person" not in after and "It is off the list." in after
    twice = client.form(
        f"/contact/practices/{practice.id}/requests/{request.id}/acknowledge", follow_redirects=True
    )
    assert "had already said they contacted them" in twice.get_data(as_text=True)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "contact.acknowledged")).one()
    assert event.actor_id == clinician.id and event.subject_id == patient.id
    # Pat sees it among who did what with their record.
    sign_in(app, client, patient)
    assert "Priya Shah" in client.get("/account/my-data").get_data(as_text=True)


def test_staff_of_another_practice_cannot_acknowledge(app, client, db, patient, practice):
    from webapp.accounts.models import Practice

    url = _paused(app, client, patient)
    client.form(url + "/care-team")
    elsewhere = Practice(name="Hillside")
    db.add(elsewhere)
    db.commit()
    olu = add_person(db, "Olu Ade", "olu@example.org", (elsewhere, Role.CLINICIAN))
    sign_in(app, client, olu)
    request = db.exec(select(ContactRequest)).one()
    for practice_id in (practice.id, elsewhere.id):
        answer = client.form(f"/contact/practices/{practice_id}/requests/{request.id}/acknowledge")
        assert answer.status_code == 404
    db.refresh(request)
    assert request.acknowledged_at is None
