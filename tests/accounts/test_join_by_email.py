"""Joining without a passkey: an emailed link finishes joining, once, within 15 minutes."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import select

from tests.accounts.helpers import invite, signed_in_name
from tests.conftest import outbox
from webapp.accounts.models import Invitation, Passkey, Person, PracticeRole

LINK = re.compile(r"http://localhost(/account/join/email/\S+)")


def ask_for_link(client, token="", code="", email="jordan@example.org"):
    """Ask for a joining link from the welcome page's email form."""
    return client.form("/account/join/email", {"token": token, "code": code, "email": email})


def test_join_by_emailed_link(app, client, db, practice):
    _inv, token, _code = invite(app, practice)
    welcome = client.get(f"/account/join/{token}").get_data(as_text=True)
    assert "Or join with an email link" in welcome
    sent = ask_for_link(client, token=token, email=" Jordan@Example.org ")
    assert sent.status_code == 200
    assert "Open it to finish joining" in sent.get_data(as_text=True)
    # Nothing is made until the link is followed.
    assert db.exec(select(Person)).all() == []
    (mail,) = outbox(app)
    assert mail["To"] == "jordan@example.org"
    path = LINK.search(mail.get_content()).group(1)
    confirm = client.get(path)
    assert confirm.status_code == 200 and confirm.headers["Cache-Control"] == "no-store"
    assert db.exec(select(Person)).all() == []
    done = client.form(path)
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    assert signed_in_name(client) == "Jordan"
    person = db.exec(select(Person)).one()
    assert person.email == "jordan@example.org"
    assert db.exec(select(Passkey)).all() == []
    assert db.exec(select(PracticeRole)).one().person_id == person.id
    assert db.exec(select(Invitation)).one().redeemed_by_id == person.id


def test_joining_link_works_once(app, client, db, practice):
    _inv, _token, code = invite(app, practice)
    ask_for_link(client, code=code)
    path = LINK.search(outbox(app)[0].get_content()).group(1)
    assert client.form(path).status_code == 303
    other = app.test_client()
    again = other.form(path)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)
    assert len(db.exec(select(Person)).all()) == 1


def test_joining_link_expires(app, client, db, practice):
    _inv, token, _code = invite(app, practice)
    ask_for_link(client, token=token)
    path = LINK.search(outbox(app)[0].get_content()).group(1)
    row = db.exec(select(Invitation)).one()
    row.email_token_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.commit()
    response = client.form(path)
    assert response.status_code == 400
    assert "has expired" in response.get_data(as_text=True)
    assert db.exec(select(Person)).all() == []


def test_bad_address_is_explained(app, client, db, practice):
    _inv, token, _code = invite(app, practice)
    bad = ask_for_link(client, token=token, email="jordan-at-example")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "like name@example.com" in page and 'value="jordan-at-example"' in page
    assert outbox(app) == []


def test_a_taken_address_is_not_revealed_on_the_page(app, client, db, practice, patient):
    _inv, token, _code = invite(app, practice)
    free = ask_for_link(client, token=token, email="nobody@example.org").get_data(as_text=True)
    taken = ask_for_link(client, token=token, email="pat@example.org").get_data(as_text=True)
    assert free.replace("nobody@example.org", "X") == taken.replace("pat@example.org", "X")
    # Pat is told by email that they already have an account; no joining link is sent.
    to_pat = [m for m in outbox(app) if m["To"] == "pat@example.org"]
    assert [m["Subject"] for m in to_pat] == ["You already have a Coproduce account"]
    assert not LINK.search(to_pat[0].get_content())


def test_the_practices_address_is_kept(app, client, db, practice):
    _inv, token, _code = invite(app, practice, "Jordan Lee", "jordan.work@example.org")
    ask_for_link(client, token=token, email="jordan.home@example.org")
    client.form(LINK.search(outbox(app)[0].get_content()).group(1))
    assert db.exec(select(Person)).one().email == "jordan.home@example.org"
    assert db.exec(select(Invitation)).one().email == "jordan.work@example.org"


def test_two_invitations_cannot_make_two_accounts_for_one_address(app, client, db, practice):
    _inv1, token1, _code1 = invite(app, practice, "Jordan Lee")
    _inv2, token2, _code2 = invite(app, practice, "Jordan L")
    ask_for_link(client, token=token1)
    ask_for_link(client, token=token2)
    first, second = (LINK.search(m.get_content()).group(1) for m in outbox(app))
    assert client.form(first).status_code == 303
    other = app.test_client()
    refused = other.form(second)
    assert refused.status_code == 400
    assert "already has an account with this email address" in refused.get_data(as_text=True)
    assert len(db.exec(select(Person)).all()) == 1
    assert len([i for i in db.exec(select(Invitation)) if i.redeemed_at]) == 1


def test_a_withdrawn_invitation_stops_its_joining_link(app, client, db, practice):
    _inv, token, _code = invite(app, practice)
    ask_for_link(client, token=token)
    row = db.exec(select(Invitation)).one()
    row.revoked_at = dt.datetime.now(dt.UTC)
    db.commit()
    response = client.form(LINK.search(outbox(app)[0].get_content()).group(1))
    assert response.status_code == 400
    assert "withdrawn" in response.get_data(as_text=True)
    assert db.exec(select(Person)).all() == []


def test_joining_links_are_rate_limited(app, client, practice):
    statuses = [client.form("/account/join/email/guess").status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429


def test_a_used_invitation_cannot_send_a_link(app, client, db, practice):
    _inv, token, _code = invite(app, practice)
    ask_for_link(client, token=token)
    client.form(LINK.search(outbox(app)[0].get_content()).group(1))
    response = ask_for_link(app.test_client(), token=token, email="someone@example.org")
    assert response.status_code == 400
    assert "already been used" in response.get_data(as_text=True)


def test_mistyped_joining_link(client):
    response = client.get("/account/join/email/not-a-token")
    assert response.status_code == 400
    assert "not right" in response.get_data(as_text=True)
