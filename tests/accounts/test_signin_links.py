"""Sign-in links by email: single use, 15 minutes, the same answer for unknown addresses."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import select

from tests.accounts.helpers import signed_in_name
from tests.conftest import outbox
from webapp.accounts.models import SignInLink

LINK = re.compile(r"http://localhost(/account/signin/link/\S+)")


def request_link(client, email="pat@example.org"):
    """Ask for a sign-in link, as the form does."""
    return client.form("/account/signin/link", {"email": email})


def test_link_signs_in_once(app, client, db, patient):
    page = request_link(client, "  PAT@example.org ")
    assert page.status_code == 200
    assert "Check your email" in page.get_data(as_text=True)
    (mail,) = outbox(app)
    assert mail["To"] == "pat@example.org"
    path = LINK.search(mail.get_content()).group(1)
    # Opening the link does not spend it (mail scanners open links too).
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200
    assert signed_in_name(client) is None
    response = client.form(path)
    assert response.status_code == 303
    assert signed_in_name(client) == "Pat"
    link = db.exec(select(SignInLink)).one()
    assert link.used_at is not None
    assert len(link.token_hash) == 64 and link.token_hash not in path


def test_link_used_twice(app, client, patient):
    request_link(client)
    path = LINK.search(outbox(app)[0].get_content()).group(1)
    client.form(path)
    other = app.test_client()
    again = other.form(path)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)
    assert "already been used" in other.get(path).get_data(as_text=True)
    assert signed_in_name(other) is None


def test_link_used_late(app, client, db, patient):
    request_link(client)
    path = LINK.search(outbox(app)[0].get_content()).group(1)
    link = db.exec(select(SignInLink)).one()
    link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.commit()
    response = client.form(path)
    assert response.status_code == 400
    assert "has expired" in response.get_data(as_text=True)
    assert signed_in_name(client) is None


def test_link_lasts_fifteen_minutes(app, client, db, patient):
    request_link(client)
    link = db.exec(select(SignInLink)).one()
    assert dt.timedelta(minutes=14) < link.expires_at - link.created_at <= dt.timedelta(minutes=15)


def test_mistyped_link(app, client, patient):
    response = client.get("/account/signin/link/not-a-token")
    assert response.status_code == 400
    assert "not right" in response.get_data(as_text=True)


def test_unknown_address_gets_the_same_answer(app, client, patient):
    known = request_link(client, "pat@example.org").get_data(as_text=True)
    unknown = request_link(client, "nobody@example.org").get_data(as_text=True)
    # The form tokens carry the second they were made in: set them aside, they say nothing.
    token = re.compile(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}")
    known, unknown = token.sub("T", known), token.sub("T", unknown)
    assert known.replace("pat@example.org", "X") == unknown.replace("nobody@example.org", "X")
    assert len(outbox(app)) == 1


def test_bad_address_is_explained(app, client, patient):
    response = client.form("/account/signin/link", {"email": "pat-at-example"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "like name@example.com" in page
    assert 'value="pat-at-example"' in page
    empty = client.form("/account/signin/link", {"email": ""})
    assert "Enter your email address" in empty.get_data(as_text=True)


def test_link_requests_are_rate_limited(app, client, patient):
    statuses = [request_link(client).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    page = request_link(client).get_data(as_text=True)
    assert "Too many tries" in page
    assert re.search(r"try again in \d+ minutes", page)
    assert len(outbox(app)) == 3


def test_a_busy_shared_network_does_not_lock_people_out(app, client):
    """Sixty people on a practice's Wi-Fi ask for links within a quarter of an hour; each
    mailbox still gets at most three, from whichever network they are asked."""
    shared = {"REMOTE_ADDR": "203.0.113.7"}
    token = client.csrf_token()

    def ask(email: str, where: dict = shared) -> int:
        return client.post(
            "/account/signin/link",
            data={"email": email, "csrf_token": token},
            environ_base=where,
        ).status_code

    assert [ask(f"person{n}@example.org") for n in range(60)] == [200] * 60
    refused = client.post(
        "/account/signin/link",
        data={"email": "person60@example.org", "csrf_token": token},
        environ_base=shared,
    )
    assert refused.status_code == 429
    assert re.search(r"try again in \d+ minutes", refused.get_data(as_text=True))
    # One person on one network: three tries. One mailbox from anywhere: ten, so someone
    # asking for Jo's links elsewhere cannot keep Jo from signing in, nor flood the mailbox.
    elsewhere = {"REMOTE_ADDR": "198.51.100.9"}
    assert [ask("jo@example.org", elsewhere) for _ in range(4)] == [200] * 3 + [429]
    others = [ask("jo@example.org", {"REMOTE_ADDR": f"192.0.2.{n}"}) for n in range(1, 9)]
    assert others == [200] * 7 + [429]
