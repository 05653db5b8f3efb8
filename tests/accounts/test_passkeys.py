"""Passkeys through the routes, with a software authenticator: joining, signing in, bad cases."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from tests.accounts.helpers import invite, join, passkey_sign_in, signed_in_name
from tests.softauthn import SoftAuthenticator
from webapp.accounts.models import (
    AuthSession,
    Invitation,
    Passkey,
    Person,
    PracticeRole,
    WebAuthnChallenge,
)
from webapp.audit import AuditEvent


def test_joining_makes_the_account_and_signs_in(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice, "Jordan Lee", "jordan@example.org")
    welcome = client.get(f"/account/join/{token}").get_data(as_text=True)
    assert "Welcome, Jordan Lee" in welcome
    assert "Riverside Health Centre has invited you" in welcome
    response = join(client, authenticator, token=token, name="Jordan's phone")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "redirect": "/"}
    assert signed_in_name(client) == "Jordan"
    person = db.exec(select(Person).where(Person.email == "jordan@example.org")).one()
    passkey = db.exec(select(Passkey).where(Passkey.person_id == person.id)).one()
    assert passkey.name == "Jordan's phone"
    role = db.exec(select(PracticeRole).where(PracticeRole.person_id == person.id)).one()
    assert (role.practice_id, role.role) == (practice.id, "patient")
    invitation = db.exec(select(Invitation)).one()
    assert invitation.redeemed_by_id == person.id


def test_joining_with_a_typed_code(app, client, db, practice, authenticator):
    _inv, _token, code = invite(app, practice)
    page = client.form("/account/join", {"code": code.lower().replace("-", " ")})
    assert page.status_code == 200
    assert "Welcome, Jordan Lee" in page.get_data(as_text=True)
    assert join(client, authenticator, code=code).get_json()["ok"] is True
    assert signed_in_name(client) == "Jordan"


def test_passkey_sign_in_counts_up(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    client.form("/account/signout")
    assert signed_in_name(client) is None
    for expected in (1, 2):
        response = passkey_sign_in(client, authenticator)
        assert response.get_json()["ok"] is True, response.get_json()
        db.expire_all()
        assert db.exec(select(Passkey)).one().sign_count == expected
        assert signed_in_name(client) == "Jordan"
        client.form("/account/signout")
    assert db.exec(select(Passkey)).one().last_used_at is not None


def test_a_used_invitation_cannot_make_a_second_account(app, client, db, practice, authenticator):
    _inv, token, code = invite(app, practice)
    join(client, authenticator, token=token)
    other = app.test_client()
    page = other.get(f"/account/join/{token}")
    assert page.status_code == 400
    assert "already been used" in page.get_data(as_text=True)
    response = other.json("/account/join/options", {"code": code})
    assert response.status_code == 400
    assert "already been used" in response.get_json()["error"]
    assert len(db.exec(select(Person)).all()) == 1


def test_two_ceremonies_racing_for_one_invitation_make_one_account(app, practice, db):
    _inv, token, _code = invite(app, practice)
    first, second = app.test_client(), app.test_client()
    auth1, auth2 = SoftAuthenticator(), SoftAuthenticator()
    options1 = first.json("/account/join/options", {"token": token}).get_json()
    options2 = second.json("/account/join/options", {"token": token}).get_json()
    ok = first.json("/account/join/verify", {"credential": auth1.create(options1)})
    late = second.json("/account/join/verify", {"credential": auth2.create(options2)})
    assert ok.get_json()["ok"] is True
    assert late.status_code == 400
    assert "already been used" in late.get_json()["error"]
    assert len(db.exec(select(Person)).all()) == 1
    assert len(db.exec(select(Passkey)).all()) == 1


def test_expired_invitation(app, client, db, practice):
    invitation, token, code = invite(app, practice)
    row = db.get(Invitation, invitation.id)
    row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    db.commit()
    page = client.get(f"/account/join/{token}")
    assert page.status_code == 400
    assert "has expired" in page.get_data(as_text=True)
    typed = client.form("/account/join", {"code": code})
    assert typed.status_code == 422
    assert "has expired" in typed.get_data(as_text=True)


def test_mistyped_and_malformed_codes(app, client, practice):
    invite(app, practice)
    wrong = client.form("/account/join", {"code": "ABCD-EFGH"})
    assert wrong.status_code == 422
    assert "could not find that invitation" in wrong.get_data(as_text=True)
    short = client.form("/account/join", {"code": "AB1"})
    assert short.status_code == 422
    assert "8 letters and numbers" in short.get_data(as_text=True)
    bad_link = client.get("/account/join/not-a-real-token")
    assert bad_link.status_code == 400


def test_cancelled_ceremony_leaves_nothing_behind(app, client, db, practice):
    _inv, token, _code = invite(app, practice)
    client.json("/account/join/options", {"token": token})
    # The person cancels: the browser never answers. Nothing is made; the invitation still works.
    assert db.exec(select(Person)).all() == []
    assert db.exec(select(Invitation)).one().redeemed_at is None
    assert client.get(f"/account/join/{token}").status_code == 200


def test_an_incomplete_answer_is_refused(app, client, db, practice):
    _inv, token, _code = invite(app, practice)
    client.json("/account/join/options", {"token": token})
    response = client.json("/account/join/verify", {"credential": {"id": "x"}})
    assert response.status_code == 400
    assert "incomplete" in response.get_json()["error"]
    assert db.exec(select(Person)).all() == []


def test_timed_out_challenge(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    options = client.json("/account/join/options", {"token": token}).get_json()
    challenge = db.exec(select(WebAuthnChallenge)).one()
    challenge.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.commit()
    response = client.json("/account/join/verify", {"credential": authenticator.create(options)})
    assert response.status_code == 400
    assert "expired or was already used" in response.get_json()["error"]
    assert db.exec(select(Person)).all() == []


def test_replayed_sign_in_is_refused(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    client.form("/account/signout")
    options = client.json("/account/signin/options").get_json()
    answer = authenticator.get(options)
    assert client.json("/account/signin/verify", {"credential": answer}).get_json()["ok"] is True
    client.form("/account/signout")
    again = client.json("/account/signin/verify", {"credential": answer})
    assert again.status_code == 400
    assert "expired or was already used" in again.get_json()["error"]
    assert signed_in_name(client) is None


def test_challenge_is_bound_to_the_browser_that_asked(app, client, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    options = app.test_client().json("/account/signin/options").get_json()
    stranger = app.test_client()
    response = stranger.json("/account/signin/verify", {"credential": authenticator.get(options)})
    assert response.status_code == 400
    assert "expired or was already used" in response.get_json()["error"]
    assert signed_in_name(stranger) is None


def test_sign_count_going_backwards_is_refused_and_recorded(
    app, client, db, practice, authenticator
):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    client.form("/account/signout")
    assert passkey_sign_in(client, authenticator, sign_count=5).get_json()["ok"] is True
    client.form("/account/signout")
    response = passkey_sign_in(client, authenticator, sign_count=3)
    assert response.status_code == 400
    assert "could not be trusted" in response.get_json()["error"]
    assert signed_in_name(client) is None
    events = db.exec(select(AuditEvent.action)).all()
    assert "passkey.sign_count_regression" in events


def test_wrong_origin_is_refused(app, client, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    options = client.json("/account/join/options", {"token": token}).get_json()
    credential = authenticator.create(options, origin="http://evil.example")
    response = client.json("/account/join/verify", {"credential": credential})
    assert response.status_code == 400
    assert "could not be checked" in response.get_json()["error"]


def test_user_verification_is_required(app, client, db, practice):
    _inv, token, _code = invite(app, practice)
    lazy = SoftAuthenticator(user_verified=False)
    options = client.json("/account/join/options", {"token": token}).get_json()
    assert options["authenticatorSelection"]["userVerification"] == "required"
    response = client.json("/account/join/verify", {"credential": lazy.create(options)})
    assert response.status_code == 400
    assert "could not be checked" in response.get_json()["error"]
    assert db.exec(select(Person)).all() == []


def test_tampered_signature_is_refused(app, client, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    client.form("/account/signout")
    options = client.json("/account/signin/options").get_json()
    answer = authenticator.get(options)
    answer["response"]["signature"] = answer["response"]["signature"][:-4] + "AAAA"
    response = client.json("/account/signin/verify", {"credential": answer})
    assert response.status_code == 400
    assert "could not be checked" in response.get_json()["error"]
    assert signed_in_name(client) is None


def test_unknown_passkey(app, client, practice):
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": "eHl6"}, "challenge": "AAAA"})
    response = passkey_sign_in(client, stranger)
    assert response.status_code == 400
    assert "don't recognise this passkey" in response.get_json()["error"]


def test_passkey_presented_for_another_account(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice, "Jordan Lee")
    join(client, authenticator, token=token)
    client.form("/account/signout")
    _inv2, token2, _code2 = invite(app, practice, "Sam Hill")
    other_auth = SoftAuthenticator()
    join(app.test_client(), other_auth, token=token2)
    sam_handle = other_auth.credentials[-1].user_handle
    # Jordan's credential, claiming to be Sam's user handle.
    response = passkey_sign_in(client, authenticator, user_handle=sam_handle)
    assert response.status_code == 400
    assert "does not belong" in response.get_json()["error"]
    assert signed_in_name(client) is None


def test_a_credential_already_registered_to_someone_else_is_refused(
    app, client, db, practice, authenticator
):
    _inv, token, _code = invite(app, practice, "Jordan Lee")
    join(client, authenticator, token=token)
    taken = authenticator.credentials[0].credential_id
    _inv2, token2, _code2 = invite(app, practice, "Sam Hill")
    sam = app.test_client()
    options = sam.json("/account/join/options", {"token": token2}).get_json()
    credential = SoftAuthenticator().create(options, credential_id=taken)
    response = sam.json("/account/join/verify", {"credential": credential})
    assert response.status_code == 400
    assert "already registered" in response.get_json()["error"]
    assert [p.name for p in db.exec(select(Person))] == ["Jordan Lee"]
    assert len(db.exec(select(Passkey)).all()) == 1


def test_sign_in_starts_a_new_session(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    client.get("/")
    with client.session_transaction() as before:
        before["marker"] = "pre-sign-in"
    join(client, authenticator, token=token)
    with client.session_transaction() as after:
        assert "marker" not in after
    assert len(db.exec(select(AuthSession)).all()) == 1


def test_an_invitation_challenge_cannot_be_spent_on_adding_a_passkey(
    app, client, db, practice, patient, authenticator
):
    from tests.conftest import sign_in

    _inv, token, _code = invite(app, practice)
    sign_in(app, client, patient)
    options = client.json("/account/join/options", {"token": token}).get_json()
    response = client.json(
        "/account/passkeys/verify", {"credential": authenticator.create(options)}
    )
    assert response.status_code == 400
    assert [p.name for p in db.exec(select(Person))] == ["Pat Morgan"]
    assert db.exec(select(Passkey)).all() == []


def test_an_add_passkey_challenge_cannot_be_spent_on_joining(
    app, client, db, practice, patient, authenticator
):
    from tests.conftest import sign_in

    sign_in(app, client, patient)
    options = client.json("/account/passkeys/options").get_json()
    # Same browser, still signed in: only the flow check stands in the way.
    response = client.json("/account/join/verify", {"credential": authenticator.create(options)})
    assert response.status_code == 400
    assert "expired or was already used" in response.get_json()["error"]
    assert db.exec(select(Passkey)).all() == []
    assert [p.name for p in db.exec(select(Person))] == ["Pat Morgan"]


def test_removing_a_passkey_signs_out_other_devices(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    elsewhere = app.test_client()
    assert passkey_sign_in(elsewhere, authenticator).get_json()["ok"] is True
    assert signed_in_name(elsewhere) == "Jordan"
    options = client.json("/account/passkeys/options").get_json()
    client.json("/account/passkeys/verify", {"credential": SoftAuthenticator().create(options)})
    first = db.exec(select(Passkey).order_by(Passkey.id)).first()
    assert client.form(f"/account/passkeys/{first.id}/delete").status_code == 303
    assert signed_in_name(client) == "Jordan"
    assert signed_in_name(elsewhere) is None


def test_an_ended_session_gets_json_for_passkey_steps(app, client, patient):
    response = client.json("/account/passkeys/options")
    assert response.status_code == 401
    assert "sign in again" in response.get_json()["error"]


def test_invitation_codes_are_stored_with_a_keyed_hash(app, db, practice):
    import hashlib
    import hmac

    _inv, _token, code = invite(app, practice)
    row = db.exec(select(Invitation)).one()
    key = app.config["SECRET_KEY"].encode()
    assert row.code_hash == hmac.new(key, code.encode(), hashlib.sha256).hexdigest()
    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()


def test_a_forged_answer_raises_no_false_alarm(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice, "Jordan Lee")
    join(client, authenticator, token=token)
    client.form("/account/signout")
    assert passkey_sign_in(client, authenticator, sign_count=5).get_json()["ok"] is True
    client.form("/account/signout")
    for tamper in ({"sign_count": 2}, {"user_handle": "c29tZW9uZS1lbHNl"}):
        options = client.json("/account/signin/options").get_json()
        answer = authenticator.get(options, **tamper)
        answer["response"]["signature"] = answer["response"]["signature"][:-4] + "AAAA"
        response = client.json("/account/signin/verify", {"credential": answer})
        assert response.status_code == 400
        assert "could not be checked" in response.get_json()["error"]
    alarms = {"passkey.sign_count_regression", "passkey.handle_mismatch"}
    assert not alarms & set(db.exec(select(AuditEvent.action)).all())


def test_making_recovery_codes_signs_out_other_devices(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    elsewhere = app.test_client()
    passkey_sign_in(elsewhere, authenticator)
    assert signed_in_name(elsewhere) == "Jordan"
    client.form("/account/recovery-codes")
    assert signed_in_name(client) == "Jordan"
    assert signed_in_name(elsewhere) is None


def test_invitation_withdrawn_or_expired_during_the_ceremony(app, client, db, practice):
    for change in ("revoked_at", "expires_at"):
        invitation, token, _code = invite(app, practice, f"Person {change}")
        options = client.json("/account/join/options", {"token": token}).get_json()
        row = db.get(Invitation, invitation.id)
        setattr(row, change, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        db.commit()
        credential = SoftAuthenticator().create(options)
        response = client.json("/account/join/verify", {"credential": credential})
        assert response.status_code == 400
        assert "already been used or has expired" in response.get_json()["error"]
    assert db.exec(select(Person)).all() == []
    assert db.exec(select(Passkey)).all() == []


def test_timed_out_sign_in_challenge(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    client.form("/account/signout")
    options = client.json("/account/signin/options").get_json()
    for row in db.exec(select(WebAuthnChallenge)):
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.commit()
    response = client.json("/account/signin/verify", {"credential": authenticator.get(options)})
    assert response.status_code == 400
    assert "expired or was already used" in response.get_json()["error"]
    assert signed_in_name(client) is None


def test_replayed_join_answer_is_refused(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    options = client.json("/account/join/options", {"token": token}).get_json()
    credential = authenticator.create(options)
    assert client.json("/account/join/verify", {"credential": credential}).get_json()["ok"]
    replay = app.test_client()
    again = replay.json("/account/join/verify", {"credential": credential})
    assert again.status_code == 400
    assert "expired or was already used" in again.get_json()["error"]
    assert len(db.exec(select(Person)).all()) == 1
