"""Email through the outbox: written with its change, claimed once, retried with backoff,
failed after the last attempt, shown to operators, and purged when no longer needed."""

from __future__ import annotations

import datetime as dt
import smtplib
import threading

import pytest
from sqlalchemy import event
from sqlmodel import select

from tests.conftest import outbox, together
from webapp import mail
from webapp.accounts.models import Person
from webapp.mail import BACKOFF, LEASE, MAX_ATTEMPTS, OutboxMessage, deliver_due, send_mail

UTC = dt.UTC
T0 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class FakeSMTP:
    """Stands in for an SMTP server connection: refuses the next `refusals` messages."""

    sent: list = []
    refusals = 0
    lock = threading.Lock()

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        with FakeSMTP.lock:
            if FakeSMTP.refusals:
                FakeSMTP.refusals -= 1
                raise smtplib.SMTPDataError(451, b"Try again later")
            FakeSMTP.sent.append(message)

    def quit(self):
        pass


@pytest.fixture
def smtp(app, monkeypatch):
    """The app sending by (fake) SMTP, as in production: only the clock sends."""
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent, FakeSMTP.refusals = [], 0
    app.config.update(MAIL_BACKEND="smtp", SMTP_STARTTLS=False)
    with app.app_context():
        yield FakeSMTP


def write(db, to="pat@example.org", subject="Hello", body="Secret words", at=T0):
    """Write one message to the outbox and commit it; return its row."""
    send_mail(db, to, subject, body)
    db.commit()
    message = db.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    message.created_at = message.next_attempt_at = at
    db.commit()
    return message


def row(db, message_id):
    """Read a message afresh."""
    db.expire_all()
    return db.get(OutboxMessage, message_id)


def test_a_message_goes_with_its_change_and_not_without(app, db):
    with app.app_context():
        send_mail(db, "pat@example.org", "Kept", "Body one")
        db.add(Person(name="Pat", email="pat@example.org", user_handle=b"x" * 32))
        db.commit()
        send_mail(db, "sam@example.org", "Rolled back", "Body two")
        db.add(Person(name="Sam", email="sam@example.org", user_handle=b"y" * 32))
        db.rollback()
        db.commit()
    # The memory backend delivers right after the commit, as tests and `make run` expect.
    assert [m["Subject"] for m in outbox(app)] == ["Kept"]
    assert outbox(app)[0].get_content().strip() == "Body one"
    (message,) = db.exec(select(OutboxMessage)).all()
    assert (message.state, message.attempts, message.body) == ("sent", 1, "")
    assert [p.name for p in db.exec(select(Person))] == ["Pat"]


def test_nothing_goes_by_smtp_until_the_clock_sends_it(db, smtp):
    message = write(db)
    assert smtp.sent == []
    assert deliver_due(db, now=T0) == 1
    (sent,) = smtp.sent
    assert (sent["To"], sent["Subject"], sent.get_content().strip()) == (
        "pat@example.org",
        "Hello",
        "Secret words",
    )
    kept = row(db, message.id)
    assert (kept.state, kept.sent_at, kept.body) == ("sent", T0, "")
    assert deliver_due(db, now=T0 + dt.timedelta(days=1)) == 0
    assert len(smtp.sent) == 1


def test_backoff_then_failed_after_the_last_attempt(db, smtp):
    message = write(db)
    smtp.refusals = 100
    now = T0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert deliver_due(db, now=now) == 0
        kept = row(db, message.id)
        assert kept.attempts == attempt
        assert kept.last_error == "451 Try again later"
        if attempt == MAX_ATTEMPTS:
            break
        wait = BACKOFF[attempt - 1]
        assert (kept.state, kept.next_attempt_at) == ("waiting", now + wait)
        # A second early is too early: the message is left alone.
        assert deliver_due(db, now=now + wait - dt.timedelta(seconds=1)) == 0
        assert row(db, message.id).attempts == attempt
        now += wait
    assert [b.total_seconds() / 60 for b in BACKOFF] == [1, 5, 30, 120, 360, 720]
    assert kept.state == "failed"
    assert "Secret" not in kept.last_error
    assert deliver_due(db, now=now + dt.timedelta(days=2)) == 0
    assert row(db, message.id).attempts == MAX_ATTEMPTS
    assert smtp.sent == []


def test_a_refused_message_goes_once_when_the_server_is_back(db, smtp):
    message = write(db)
    smtp.refusals = 2
    assert deliver_due(db, now=T0) == 0
    assert deliver_due(db, now=T0 + BACKOFF[0]) == 0
    assert deliver_due(db, now=T0 + BACKOFF[0] + BACKOFF[1]) == 1
    assert deliver_due(db, now=T0 + dt.timedelta(days=1)) == 0
    assert len(smtp.sent) == 1
    kept = row(db, message.id)
    assert (kept.state, kept.attempts) == ("sent", 3)


def test_an_address_refused_for_good_fails_at_once(db, smtp, monkeypatch):
    def refuse(self, message):
        raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"No such mailbox")})

    monkeypatch.setattr(FakeSMTP, "send_message", refuse)
    message = write(db, to="gone@example.org")
    assert deliver_due(db, now=T0) == 0
    kept = row(db, message.id)
    assert (kept.state, kept.attempts, kept.last_error) == (
        "failed",
        1,
        "recipient refused: 550 No such mailbox",
    )


def test_two_deliverers_at_once_send_each_message_once(app, db, smtp):
    for n in range(6):
        write(db, to=f"person{n}@example.org")
    # Both have found the same six due messages before either claims them.
    both_found = threading.Barrier(2, timeout=10)

    def hold_the_claim(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE outboxmessage SET attempts"):
            both_found.wait()

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", hold_the_claim)
    try:
        counts = together(app, 2, lambda session, _n: deliver_due(session, now=T0))
    finally:
        event.remove(engine, "before_cursor_execute", hold_the_claim)
    assert sorted(counts) == [0, 6]
    assert sorted(m["To"] for m in smtp.sent) == [f"person{n}@example.org" for n in range(6)]
    db.expire_all()
    assert {m.state for m in db.exec(select(OutboxMessage))} == {"sent"}


def test_a_sender_that_stops_mid_way_leaves_the_message_for_later(db, smtp, monkeypatch):
    message = write(db)

    def stop(self, to, subject, body):
        raise SystemExit("the worker was stopped")

    with monkeypatch.context() as patched:
        patched.setattr(mail._Sender, "send", stop)
        with pytest.raises(SystemExit):
            deliver_due(db, now=T0)
    claimed = row(db, message.id)
    assert (claimed.state, claimed.next_attempt_at) == ("waiting", T0 + LEASE)
    # Another clock, before the claim runs out, leaves it; after, sends it.
    assert deliver_due(db, now=T0 + LEASE - dt.timedelta(seconds=1)) == 0
    assert deliver_due(db, now=T0 + LEASE) == 1
    assert len(smtp.sent) == 1


def test_a_sign_in_request_for_nobody_is_dropped_unsent(db, smtp):
    send_mail(db, "nobody@example.org", "Your Coproduce sign-in link", kind="signin")
    db.commit()
    assert deliver_due(db) == 0
    assert smtp.sent == []
    assert db.exec(select(OutboxMessage)).all() == []


def test_a_sign_in_link_asked_for_longer_ago_than_a_link_lives_is_dropped_not_sent_late(
    db, smtp, patient
):
    # The mail server was down for an hour: the link Pat asked for then is not sent now (she
    # has asked again or given up, and a late link could sign in whoever reads it later).
    send_mail(db, patient.email, "Your Coproduce sign-in link", kind="signin")
    db.commit()
    asked = db.exec(select(OutboxMessage)).one()
    asked.created_at = asked.next_attempt_at = T0
    db.commit()
    assert deliver_due(db, now=T0 + dt.timedelta(minutes=16)) == 0
    assert smtp.sent == []
    assert db.exec(select(OutboxMessage)).all() == []
    # Within the link's life it goes.
    send_mail(db, patient.email, "Your Coproduce sign-in link", kind="signin")
    db.commit()
    again = db.exec(select(OutboxMessage)).one()
    again.created_at = again.next_attempt_at = T0
    db.commit()
    assert deliver_due(db, now=T0 + dt.timedelta(minutes=14)) == 1
    assert len(smtp.sent) == 1


def test_purge_keeps_messages_only_as_long_as_needed(app, db, smtp):
    now = dt.datetime.now(UTC)
    waiting = write(db, at=now - dt.timedelta(days=40))
    waiting.next_attempt_at = now + dt.timedelta(hours=1)
    old_sent = write(db, at=now - dt.timedelta(days=9))
    new_sent = write(db, at=now - dt.timedelta(days=2))
    old_failed = write(db, at=now - dt.timedelta(days=31))
    new_failed = write(db, at=now - dt.timedelta(days=3))
    for message, state in [
        (old_sent, "sent"),
        (new_sent, "sent"),
        (old_failed, "failed"),
        (new_failed, "failed"),
    ]:
        message.state = state
        message.sent_at = message.created_at if state == "sent" else None
    db.commit()
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "2 emails" in result.output
    db.expire_all()
    left = {m.id for m in db.exec(select(OutboxMessage))}
    assert left == {waiting.id, new_sent.id, new_failed.id}


# --- flask mail status / retry / send, and the clock --------------------------------------


def test_mail_status_when_all_is_well(app, db, smtp):
    write(db, at=dt.datetime.now(UTC))
    deliver_due(db)
    write(db, at=dt.datetime.now(UTC) - dt.timedelta(minutes=2))
    result = app.test_cli_runner().invoke(args=["mail", "status"])
    assert result.exit_code == 0, result.output
    assert "Waiting: 1. Sent: 1. Failed: 0." in result.output
    assert "Oldest waiting: since" in result.output and "(2 minutes)" in result.output


def test_mail_status_shows_failures_without_their_words(app, db, smtp):
    smtp.refusals = 1
    message = write(db, subject="Your results are ready to read")
    message.attempts = MAX_ATTEMPTS - 1
    db.commit()
    deliver_due(db, now=T0)
    result = app.test_cli_runner().invoke(args=["mail", "status"])
    assert result.exit_code == 1
    assert "Waiting: 0. Sent: 0. Failed: 1." in result.output
    assert (
        f"Failed: #{message.id} to pat@example.org, 'Your results are ready to read', "
        f"{MAX_ATTEMPTS} attempts, written 2026-12-03 09:00 UTC: 451 Try again later"
    ) in result.output
    assert "Secret words" not in result.output
    retried = app.test_cli_runner().invoke(args=["mail", "retry"])
    assert "1 failed emails will be tried again" in retried.output
    kept = row(db, message.id)
    assert (kept.state, kept.attempts) == ("waiting", 0)
    sent = app.test_cli_runner().invoke(args=["mail", "send"])
    assert "Sent 1 emails." in sent.output
    assert app.test_cli_runner().invoke(args=["mail", "status"]).exit_code == 0


def test_mail_status_when_a_message_waits_too_long(app, db, smtp):
    write(db, at=dt.datetime.now(UTC) - dt.timedelta(minutes=20))
    result = app.test_cli_runner().invoke(args=["mail", "status"])
    assert result.exit_code == 1
    assert "has waited more than 15 minutes" in result.output
    assert "is `flask clock` running" in result.output
    patient = app.test_cli_runner().invoke(args=["mail", "status", "--max-wait", "30"])
    assert patient.exit_code == 0, patient.output


def test_the_clock_sends_the_outbox(app, db, smtp):
    write(db, at=dt.datetime.now(UTC))
    result = app.test_cli_runner().invoke(args=["clock", "--once"])
    assert result.exit_code == 0, result.output
    assert [m["Subject"] for m in smtp.sent] == ["Hello"]
