"""Deleting an account: explained first, confirmed with the person's own passkey (or, without
one, their own recovery code or a link sent to their email address), and then
nothing personal is left (their invitation forgets them too); the audit log keeps only that
an account was deleted."""

from __future__ import annotations

from sqlmodel import select

from tests.accounts.helpers import invite, join, signed_in_name
from tests.softauthn import SoftAuthenticator
from webapp.accounts.models import Invitation, Passkey, Person
from webapp.audit import AuditEvent
from webapp.goals.models import ProgressEntry
from webapp.planning.models import Goal


def test_an_account_is_deleted_only_with_its_own_passkey(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice, "Jordan Lee", "jordan@example.org")
    join(client, authenticator, token=token)
    jordan = db.exec(select(Person).where(Person.email == "jordan@example.org")).one()
    jordan_id = jordan.id
    goal = Goal(patient_id=jordan.id, text="Walk")
    db.add(goal)
    db.commit()
    db.add(ProgressEntry(goal_id=goal.id, patient_id=jordan.id, outcome="did", key="k"))
    db.commit()
    page = client.get("/account/delete").get_data(as_text=True)
    assert "It cannot be undone" in page and "Confirm with my passkey" in page

    # Someone else's passkey (here: a passkey of another account) does not do it.
    other_client = app.test_client()
    other_key = SoftAuthenticator(origin="http://localhost")
    _inv2, token2, _code2 = invite(app, practice, "Sam Other", "sam@example.org")
    join(other_client, other_key, token=token2)
    options = client.json("/account/delete/options").get_json()
    # Only Jordan's own passkeys are offered.
    assert len(options["allowCredentials"]) == 1
    refused = client.json("/account/delete/verify", {"credential": other_key.get(options)})
    assert refused.status_code == 400 and "belongs to someone else" in refused.get_json()["error"]
    assert db.get(Person, jordan.id) is not None
    sams = db.exec(select(Passkey).where(Passkey.person_id != jordan.id)).one()
    assert sams.last_used_at is None  # someone else's passkey was not touched
    # A confirmation challenge never signs anyone in, and a sign-in one never deletes.
    options = client.json("/account/delete/options").get_json()
    wrong = client.json("/account/signin/verify", {"credential": authenticator.get(options)})
    assert wrong.status_code == 400
    signin_options = client.json("/account/signin/options").get_json()
    wrong = client.json("/account/delete/verify", {"credential": authenticator.get(signin_options)})
    assert wrong.status_code == 400
    assert db.get(Person, jordan.id) is not None

    options = client.json("/account/delete/options").get_json()
    done = client.json("/account/delete/verify", {"credential": authenticator.get(options)})
    assert done.get_json() == {"ok": True, "redirect": "/"}
    db.expire_all()
    assert db.get(Person, jordan_id) is None
    assert db.exec(select(Goal)).all() == [] and db.exec(select(ProgressEntry)).all() == []
    assert len(db.exec(select(Passkey)).all()) == 1  # Sam's
    used = db.exec(select(Invitation).where(Invitation.id == _inv.id)).one()
    assert (used.name, used.email) == ("", None)
    deleted = db.exec(select(AuditEvent).where(AuditEvent.action == "account.deleted")).one()
    assert deleted.subject_id is None and deleted.actor_id is None
    assert db.exec(select(AuditEvent).where(AuditEvent.subject_id == jordan_id)).all() == []
    assert "have been deleted" in client.get("/").get_data(as_text=True)
    assert signed_in_name(client) is None


def test_without_a_passkey_the_page_offers_a_recovery_code_or_an_emailed_link(
    app, client, db, patient
):
    from tests.conftest import sign_in

    sign_in(app, client, patient)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "You need a passkey to confirm" not in page  # no dead end
    assert "confirm with a recovery code or a link sent to your email address" in page
    assert "Email me a link to confirm" in page


def test_deleting_leaves_no_invitation_or_record_of_them(app, db, practice, patient):
    import datetime as dt

    from webapp import audit
    from webapp.accounts.services import load_actor
    from webapp.rights.services import delete_account

    patient.nhs_number = "9434765919"
    db.add(
        Invitation(
            practice_id=practice.id,
            role="patient",
            name="Pat Morgan",
            nhs_number="9434765919",
            token_hash="t" * 64,
            code_hash="c" * 64,
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3),
        )
    )
    db.commit()
    with app.test_request_context():
        audit.record(db, None, "safety.match", patient.id, category="x", phrase="y")
        db.commit()
        delete_account(db, load_actor(db, patient), patient.id)
    assert db.exec(select(Invitation)).all() == []
    left = db.exec(select(AuditEvent)).all()
    assert [e.action for e in left] == ["account.deleted"]


def _codes(app, db, person) -> list[str]:
    from webapp.accounts.services import generate_recovery_codes, load_actor

    with app.test_request_context():
        return generate_recovery_codes(db, load_actor(db, person))


def test_someone_without_a_passkey_deletes_with_a_recovery_code(app, client, db, patient):
    from tests.conftest import add_person, sign_in

    pat_id = patient.id
    sign_in(app, client, patient)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "You have no passkey" in page and "You have no recovery codes left" in page
    # Making codes ends the person's other sessions: made first, then signed in again.
    codes = _codes(app, db, patient)
    other = add_person(db, "Sam Other", "sam@example.org")
    other_id = other.id
    someone_elses = _codes(app, db, other)[0]
    sign_in(app, client, patient)
    # Someone else's code is not right, is not spent, and keeps what was typed.
    refused = client.form("/account/delete/code", {"code": someone_elses})
    assert refused.status_code == 422 and "That recovery code is not right" in refused.get_data(
        as_text=True
    )
    assert someone_elses in refused.get_data(as_text=True)
    assert db.get(Person, pat_id) is not None
    done = client.form("/account/delete/code", {"code": codes[0].lower()}, follow_redirects=True)
    assert "Your account and everything held about you have been deleted" in done.get_data(
        as_text=True
    )
    db.expire_all()
    assert db.get(Person, pat_id) is None and db.get(Person, other_id) is not None
    # Sam's code still works for Sam (it was not spent).
    from webapp.accounts.services import use_recovery_code

    with app.test_request_context():
        assert use_recovery_code(db, someone_elses).id == other_id


def test_someone_without_a_passkey_deletes_with_an_emailed_link(app, client, db, patient):
    import re

    from tests.conftest import add_person, outbox, sign_in

    pat_id = patient.id
    sign_in(app, client, patient)
    sent = client.form("/account/delete/email")
    assert sent.status_code == 303  # a reload sends no second email
    assert "We have sent a link to pat@example.org" in client.get(
        sent.headers["Location"]
    ).get_data(as_text=True)
    [mail] = outbox(app)
    link = re.search(r"http://localhost(/account/delete/confirm/\S+)", mail.get_content()).group(1)
    # The link is no sign-in link, and works for nobody else.
    assert (
        client.get(link.replace("/account/delete/confirm/", "/account/signin/link/")).status_code
        == 400
    )
    sam = add_person(db, "Sam Other", "sam@example.org")
    sam_id = sam.id
    other = app.test_client()
    sign_in(app, other, sam)
    assert other.get(link).status_code == 400
    assert other.form(link).status_code == 400
    # Opening it deletes nothing: it asks once more.
    asked = client.get(link)
    assert asked.status_code == 200 and "This is the last step" in asked.get_data(as_text=True)
    assert db.get(Person, pat_id) is not None
    done = client.form(link, follow_redirects=True)
    assert "have been deleted" in done.get_data(as_text=True)
    db.expire_all()
    assert db.get(Person, pat_id) is None and db.get(Person, sam_id) is not None


def test_a_delete_link_works_once_and_not_for_long(app, client, db, patient):
    import datetime as dt
    import re

    from sqlalchemy import update

    from tests.conftest import outbox, sign_in
    from webapp.accounts.models import SignInLink

    sign_in(app, client, patient)
    client.form("/account/delete/email")
    link = re.search(r"http://localhost(/account/delete/confirm/\S+)", outbox(app)[0].get_content())
    db.exec(update(SignInLink).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    db.commit()
    expired = client.form(link.group(1))
    assert expired.status_code == 400 and "This link has expired" in expired.get_data(as_text=True)
    assert db.get(Person, patient.id) is not None
