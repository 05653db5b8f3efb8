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
