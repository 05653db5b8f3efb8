"""Signed-in sessions: sign-out, idle and absolute time-outs, cookie settings."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from tests.accounts.helpers import signed_in_name
from tests.conftest import make_app, sign_in
from webapp.accounts.models import AuthSession


def test_sign_out_ends_the_session_for_good(app, client, db, patient):
    sign_in(app, client, patient)
    with client.session_transaction() as browser:
        stolen = dict(browser)
    response = client.form("/account/signout")
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == '"cache"'
    assert signed_in_name(client) is None
    # A copy of the old cookie no longer works: the session ended on the server.
    replay = app.test_client()
    with replay.session_transaction() as browser:
        browser.update(stolen)
    assert signed_in_name(replay) is None
    assert db.exec(select(AuthSession)).one().ended_at is not None


def test_sign_out_needs_post(app, client, patient):
    sign_in(app, client, patient)
    assert client.get("/account/signout").status_code == 405
    assert signed_in_name(client) == "Pat"


def test_idle_session_ends(app, client, db, patient):
    sign_in(app, client, patient)
    row = db.exec(select(AuthSession)).one()
    row.last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    db.commit()
    assert signed_in_name(client) is None
    response = client.get("/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/signin"


def test_active_session_is_kept_alive(app, client, db, patient):
    sign_in(app, client, patient)
    row = db.exec(select(AuthSession)).one()
    row.last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=29)
    db.commit()
    assert signed_in_name(client) == "Pat"
    db.expire_all()
    seen = db.exec(select(AuthSession)).one().last_seen_at
    assert dt.datetime.now(dt.UTC) - seen < dt.timedelta(minutes=1)


def test_session_ends_after_twelve_hours_even_when_active(app, client, db, patient):
    sign_in(app, client, patient)
    row = db.exec(select(AuthSession)).one()
    row.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=12, minutes=1)
    db.commit()
    assert signed_in_name(client) is None


def test_cookie_settings(app, client):
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development and tests run on http://localhost
    secure_app = make_app(SESSION_COOKIE_SECURE=True, HSTS=True)
    response = secure_app.test_client().get("/")
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_signing_in_again_ends_the_previous_session(app, client, db, patient):
    from tests.conftest import outbox

    sign_in(app, client, patient)
    client.form("/account/signin/link", {"email": "pat@example.org"})
    import re

    path = re.search(r"http://localhost(/account/signin/link/\S+)", outbox(app)[0].get_content())
    client.form(path.group(1))
    sessions = db.exec(select(AuthSession).order_by(AuthSession.id)).all()
    assert [s.ended_at is None for s in sessions] == [False, True]
