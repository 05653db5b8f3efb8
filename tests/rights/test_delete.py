"""Deleting an account: explained first, confirmed with the person's own passkey, and then
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


def test_without_a_passkey_the_page_says_to_add_one(app, client, db, patient):
    from tests.conftest import sign_in

    sign_in(app, client, patient)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "You need a passkey to confirm" in page


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
