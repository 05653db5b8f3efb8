"""Carer pages through HTTP: inviting, accepting by link, code or a new account, acting with
a banner, and the bad cases: a permission stopped or changed while the carer has a page open."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from tests.conftest import add_person, sign_in
from tests.softauthn import SoftAuthenticator
from webapp.accounts.models import Passkey, Person
from webapp.audit import AuditEvent
from webapp.carers.models import CarerGrant
from webapp.goals.models import ProgressEntry
from webapp.planning.models import Goal

LINK = re.compile(r'href="(http://localhost/carers/accept/[^"]+)"')
CODE = re.compile(r'<code class="big-code">([A-Z0-9-]+)</code>')


@pytest.fixture
def shared_goal(db, patient):
    goal = Goal(patient_id=patient.id, text="Walk to the park", shared=True)
    private = Goal(patient_id=patient.id, text="Something private")
    db.add_all([goal, private])
    db.commit()
    return goal, private


def make_invitation(client, scopes=("goals", "results"), **extra):
    """Invite Sam as the signed-in person; return the invitation page, its link and code."""
    response = client.form(
        "/carers", {"name": "Sam Lee", "scopes": list(scopes), **extra}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    return page, LINK.search(page).group(1), CODE.search(page).group(1)


def carer_acting(app, client, db, link):
    """Sign Sam in, accept the link and act for the person; return Sam."""
    sam = add_person(db, "Sam Lee", "sam@example.org")
    sign_in(app, client, sam)
    accepted = client.form("/carers/accept", {"token": link.rsplit("/", 1)[1]})
    assert accepted.status_code == 303
    grant = db.exec(select(CarerGrant).where(CarerGrant.carer_id == sam.id)).one()
    assert client.form(f"/carers/act/{grant.id}").status_code == 303
    return sam, grant


def test_the_invitation_shows_link_code_and_qr_once(app, client, db, patient):
    sign_in(app, client, patient)
    page, link, code = make_invitation(client, ends_on="2027-01-31")
    assert "Invitation for Sam Lee" in page and "<svg" in page and "31 January 2027" in page
    assert "goals and progress" in page and "results" in page
    again = client.get("/carers")
    assert "Invitation waiting until" in again.get_data(as_text=True)
    grant = db.exec(select(CarerGrant)).one()
    grant_page = client.get(f"/carers/{grant.id}/invitation").get_data(as_text=True)
    assert code not in grant_page and "shown only once" in grant_page
    assert client.get(link.replace("http://localhost", "")).status_code == 200


def test_a_bad_invitation_form_keeps_what_was_typed(app, client, patient):
    sign_in(app, client, patient)
    response = client.form("/carers", {"name": "Sam Lee", "ends_on": "2020-01-01"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose at least one thing" in page and "has passed" in page
    assert 'value="Sam Lee"' in page


def test_a_carer_accepts_acts_and_logs_progress_as_themselves(
    app, client, db, patient, shared_goal
):
    goal, private = shared_goal
    sign_in(app, client, patient)
    _page, link, _code = make_invitation(client)
    sam, _grant = carer_acting(app, client, db, link)

    home = client.get("/").get_data(as_text=True)
    assert "You are helping Pat Morgan" in home and "Stop helping Pat Morgan" in home
    nav = home.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    assert ">Results<" in nav and ">Goals<" in nav and "Prepare" not in nav

    goals_page = client.get("/goals").get_data(as_text=True)
    assert "Walk to the park" in goals_page and "Something private" not in goals_page
    assert client.get(f"/goals/{private.id}").status_code == 404
    assert client.get("/planning").status_code == 404  # not in scope
    assert client.get("/planning/crisis-plan").status_code == 404

    logged = client.form(
        f"/goals/{goal.id}/progress", {"outcome": "did", "key": "k-sam-1", "record": patient.id}
    )
    assert logged.status_code == 303
    entry = db.exec(select(ProgressEntry)).one()
    assert entry.patient_id == patient.id and entry.typed_by_id == sam.id
    shown = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "logged by you, for Pat Morgan" in shown

    # Pat sees it said as Sam's, for Pat, and Sam's reads in "who has seen my record".
    sign_in(app, client, patient)
    assert "logged by Sam Lee for Pat Morgan" in client.get(f"/goals/{goal.id}").get_data(
        as_text=True
    )
    activity = client.get("/account/my-data").get_data(as_text=True)
    assert "Sam Lee" in activity and "your carer" in activity
    assert "looked at your goals and progress" in activity
    assert "changed your goals or logged progress" in activity


def test_stopping_refuses_the_carers_next_click_and_saves_nothing(app, db, patient, shared_goal):
    goal, _private = shared_goal
    pat_client, sam_client = app.test_client(), app.test_client()
    sign_in(app, pat_client, patient)
    _page, link, _code = make_invitation(pat_client)
    _sam, grant = carer_acting(app, sam_client, db, link)
    # Sam opens the goal's page and starts the form; Pat stops the access meanwhile.
    assert sam_client.get(f"/goals/{goal.id}").status_code == 200
    token = sam_client.csrf_token()
    assert pat_client.form(f"/carers/{grant.id}/stop").status_code == 303
    refused = sam_client.post(
        f"/goals/{goal.id}/progress",
        data={"outcome": "did", "key": "k-late", "csrf_token": token, "record": patient.id},
    )
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/carers")
    assert db.exec(select(ProgressEntry)).all() == []
    page = sam_client.get("/carers").get_data(as_text=True)
    assert "Your permission to help with that record has ended" in page
    assert "You are helping" not in page
    # And Sam's own goals page is Sam's again: nothing of Pat's.
    assert "Walk to the park" not in sam_client.get("/goals").get_data(as_text=True)


def test_a_queued_entry_after_stopping_gets_an_answer_the_script_reads(
    app, db, patient, shared_goal
):
    goal, _private = shared_goal
    pat_client, sam_client = app.test_client(), app.test_client()
    sign_in(app, pat_client, patient)
    _page, link, _code = make_invitation(pat_client)
    _sam, grant = carer_acting(app, sam_client, db, link)
    token = sam_client.csrf_token()
    pat_client.form(f"/carers/{grant.id}/stop")
    refused = sam_client.post(
        f"/goals/{goal.id}/progress",
        data={"outcome": "did", "key": "k-queued", "csrf_token": token, "record": patient.id},
        headers={"X-Outbox": "1"},
    )
    assert refused.status_code == 403 and refused.get_json()["ok"] is False
    assert db.exec(select(ProgressEntry)).all() == []


def test_scopes_changed_while_a_page_is_open(app, db, patient, shared_goal):
    goal, _private = shared_goal
    pat_client, sam_client = app.test_client(), app.test_client()
    sign_in(app, pat_client, patient)
    _page, link, _code = make_invitation(pat_client)
    _sam, grant = carer_acting(app, sam_client, db, link)
    assert sam_client.get(f"/goals/{goal.id}").status_code == 200
    token = sam_client.csrf_token()
    changed = pat_client.form(f"/carers/{grant.id}", {"scopes": ["results"], "version": "1"})
    assert changed.status_code == 303
    answer = sam_client.post(
        f"/goals/{goal.id}/progress",
        data={"outcome": "did", "key": "k2", "csrf_token": token, "record": patient.id},
    )
    assert answer.status_code == 404
    assert db.exec(select(ProgressEntry)).all() == []
    assert sam_client.get("/results").status_code == 200  # still helping with results
    # A change from a page opened before that one is refused, and nothing is lost.
    stale = pat_client.form(f"/carers/{grant.id}", {"scopes": ["goals"], "version": "1"})
    assert stale.status_code == 422 and "another window" in stale.get_data(as_text=True)


def test_a_typed_code_finds_the_invitation(app, client, db, patient):
    sign_in(app, client, patient)
    _page, _link, code = make_invitation(client)
    sam = add_person(db, "Sam Lee", "sam@example.org")
    sign_in(app, client, sam)
    page = client.form("/carers/code", {"code": code.lower().replace("-", " ")})
    assert page.status_code == 200 and "Pat Morgan invites you" in page.get_data(as_text=True)
    accepted = client.form("/carers/accept", {"code": code}, follow_redirects=True)
    assert "You can now help Pat Morgan" in accepted.get_data(as_text=True)
    again = client.form("/carers/accept", {"code": code})
    assert again.status_code == 422 and "already been used" in again.get_data(as_text=True)


def test_the_person_accepting_their_own_invitation_is_told_why_not(app, client, patient):
    sign_in(app, client, patient)
    _page, link, _code = make_invitation(client)
    answer = client.form("/carers/accept", {"token": link.rsplit("/", 1)[1]})
    assert answer.status_code == 422 and "one you made" in answer.get_data(as_text=True)


def test_a_new_carer_makes_an_account_with_a_passkey(app, client, db, patient):
    sign_in(app, client, patient)
    _page, link, _code = make_invitation(client)
    newcomer = app.test_client()
    token = link.rsplit("/", 1)[1]
    page = newcomer.get(f"/carers/accept/{token}").get_data(as_text=True)
    assert "Make your account" in page and "in the name Sam Lee" in page
    authenticator = SoftAuthenticator(origin="http://localhost")
    options = newcomer.json("/carers/join/options", {"token": token})
    assert options.status_code == 200
    credential = authenticator.create(options.get_json())
    done = newcomer.json("/carers/join/verify", {"credential": credential, "name": "Phone"})
    assert done.status_code == 200 and done.get_json()["redirect"] == "/carers"
    sam = db.exec(select(Person).where(Person.name == "Sam Lee")).one()
    assert db.exec(select(Passkey).where(Passkey.person_id == sam.id)).one()
    helping = newcomer.get("/carers").get_data(as_text=True)
    assert "Help Pat Morgan" in helping
    # The link is spent: a second newcomer is told.
    second = app.test_client().json("/carers/join/options", {"token": token})
    assert second.status_code == 400 and "already been used" in second.get_json()["error"]


def test_every_carer_request_is_audited_for_the_person(app, client, db, patient, shared_goal):
    sign_in(app, client, patient)
    _page, link, _code = make_invitation(client)
    sam, _grant = carer_acting(app, client, db, link)
    client.get("/results")
    client.get("/goals")
    client.get("/account")  # Sam's own account: not Pat's record
    events = db.exec(
        select(AuditEvent).where(AuditEvent.actor_id == sam.id, AuditEvent.action == "carer.read")
    ).all()
    assert {e.subject_id for e in events} == {patient.id}
    sections = sorted(json.loads(e.detail)["section"] for e in events)
    assert sections == ["goals", "results"]


def test_stopping_acting_returns_to_the_carers_own_account(app, client, db, patient):
    sign_in(app, client, patient)
    _page, link, _code = make_invitation(client)
    carer_acting(app, client, db, link)
    stopped = client.form("/carers/stop-acting", follow_redirects=True)
    page = stopped.get_data(as_text=True)
    assert "You are using your own account again" in page and "You are helping" not in page


def test_a_form_for_one_persons_record_is_never_saved_into_another(app, db, patient, practice):
    """Sam helps Pat and Bob: a form opened while helping Pat, sent after switching to Bob
    (or after Pat stopped the help), is refused and saves nothing anywhere."""
    from tests.conftest import add_person as person
    from webapp.accounts.models import Role

    bob = person(db, "Bob Hart", "bob@example.org", (practice, Role.PATIENT))
    pat_client, bob_client, sam_client = app.test_client(), app.test_client(), app.test_client()
    sign_in(app, pat_client, patient)
    sign_in(app, bob_client, bob)
    _p, pat_link, _c = make_invitation(pat_client)
    _p, bob_link, _c = make_invitation(bob_client)
    _sam, pat_grant = carer_acting(app, sam_client, db, pat_link)
    sam_client.form("/carers/accept", {"token": bob_link.rsplit("/", 1)[1]})
    page = sam_client.get("/goals").get_data(as_text=True)
    record = re.search(r'name="record" value="(\d+)"', page).group(1)
    assert record == str(patient.id)
    token = sam_client.csrf_token()
    bob_grant = db.exec(
        select(CarerGrant).where(CarerGrant.person_id == bob.id, CarerGrant.carer_id == _sam.id)
    ).one()
    sam_client.form(f"/carers/act/{bob_grant.id}")
    sent = {"text": "Walk with Pat", "record": record, "csrf_token": token}
    refused = sam_client.post("/goals", data=sent)
    assert refused.status_code == 303
    assert db.exec(select(Goal).where(Goal.text == "Walk with Pat")).all() == []
    # After Pat stops the help, and Sam is back in their own account: still refused.
    pat_client.form(f"/carers/{pat_grant.id}/stop")
    sam_client.form("/carers/stop-acting")
    assert sam_client.post("/goals", data=sent).status_code == 303
    assert db.exec(select(Goal).where(Goal.text == "Walk with Pat")).all() == []
    # The same form for Sam's own record is saved.
    mine = {**sent, "record": str(_sam.id), "text": "My own goal"}
    assert sam_client.post("/goals", data=mine).status_code == 303
    assert db.exec(select(Goal).where(Goal.text == "My own goal")).one().patient_id == _sam.id


def test_an_invitation_changed_after_the_carer_opened_it_is_shown_again(app, client, db, patient):
    sign_in(app, client, patient)
    _page, link, _code = make_invitation(client)
    grant = db.exec(select(CarerGrant)).one()
    sam = add_person(db, "Sam Lee", "sam@example.org")
    sam_client = app.test_client()
    sign_in(app, sam_client, sam)
    token = link.rsplit("/", 1)[1]
    assert 'name="version" value="1"' in sam_client.get(f"/carers/accept/{token}").get_data(
        as_text=True
    )
    client.form(f"/carers/{grant.id}", {"scopes": ["results", "goals", "planning"], "version": "1"})
    answer = sam_client.form("/carers/accept", {"token": token, "version": "1"})
    assert answer.status_code == 422 and "changed since you opened it" in answer.get_data(
        as_text=True
    )
    db.refresh(grant)
    assert grant.carer_id is None


def test_carers_leave_the_persons_own_say_to_the_person(app, db, patient, shared_goal):
    """Sharing with the care team, looking back and the person's note are the person's."""
    goal, _private = shared_goal
    pat_client, sam_client = app.test_client(), app.test_client()
    sign_in(app, pat_client, patient)
    _page, link, _code = make_invitation(pat_client, scopes=("goals", "planning"))
    carer_acting(app, sam_client, db, link)
    summary = sam_client.get("/planning/summary").get_data(as_text=True)
    assert "Walk to the park" in summary and "Share with my care team" not in summary
    assert "Make private" not in summary
    answer = sam_client.form(
        f"/planning/goal/{goal.id}/share",
        {"shared": "0", "record": patient.id},
        follow_redirects=True,
    )
    assert "Only Pat Morgan decides what their care team sees" in answer.get_data(as_text=True)
    db.refresh(goal)
    assert goal.shared
    note = {"person_note": "Hi", "record": patient.id}
    assert sam_client.form("/plan/note", note).status_code == 422
    # A form without the record it was made for is refused while acting, and saves nothing.
    bare = sam_client.form(f"/goals/{goal.id}/progress", {"outcome": "did", "key": "bare"})
    assert bare.status_code == 303 and db.exec(select(ProgressEntry)).all() == []


def test_a_carer_with_results_only_sees_only_results_on_the_list(app, db, patient):
    from webapp.planning.models import AgendaItem

    db.add_all(
        [
            AgendaItem(patient_id=patient.id, kind="result", test="hba1c", text="My HbA1c"),
            AgendaItem(patient_id=patient.id, kind="question", text="Ask about my low mood"),
        ]
    )
    db.commit()
    question = db.exec(select(AgendaItem).where(AgendaItem.kind == "question")).one()
    pat_client, sam_client = app.test_client(), app.test_client()
    sign_in(app, pat_client, patient)
    _page, link, _code = make_invitation(pat_client, scopes=("results",))
    carer_acting(app, sam_client, db, link)
    home = sam_client.get("/").get_data(as_text=True)
    assert "My HbA1c" in home or "Helping Pat Morgan" in home
    assert "low mood" not in home
    removed = sam_client.form(f"/results/agenda/{question.id}/remove", {"record": patient.id})
    assert removed.status_code == 404
    assert db.get(AgendaItem, question.id) is not None


def test_the_results_letter_names_the_person_not_the_carer(app, db, patient):
    pat_client, sam_client = app.test_client(), app.test_client()
    sign_in(app, pat_client, patient)
    _page, link, _code = make_invitation(pat_client, scopes=("results",))
    carer_acting(app, sam_client, db, link)
    letter = sam_client.get("/results/letter").get_data(as_text=True)
    main = letter.split('id="main"', 1)[1]
    assert "<p>Pat Morgan</p>" in main and "<p>Sam Lee</p>" not in main


def test_a_carer_reads_the_persons_pages_as_theirs_not_as_my(app, db, patient):
    pat_client, sam_client = app.test_client(), app.test_client()
    sign_in(app, pat_client, patient)
    _page, link, _code = make_invitation(pat_client, scopes=("results", "goals", "planning"))
    carer_acting(app, sam_client, db, link)
    for url, mine, theirs in [
        ("/results", "My results", "Pat's results"),
        ("/goals", "My goals", "Pat's goals"),
        ("/plan", "My plan", "Pat's plan"),
        (
            "/planning/summary",
            "My review: what I will take",
            "Pat's review: what they will take",
        ),
    ]:
        as_carer = sam_client.get(url).get_data(as_text=True)
        as_pat = pat_client.get(url).get_data(as_text=True)
        assert f"<h1>{theirs}</h1>" in as_carer and f"<h1>{mine}</h1>" not in as_carer, url
        assert f"<h1>{mine}</h1>" in as_pat and theirs not in as_pat, url
