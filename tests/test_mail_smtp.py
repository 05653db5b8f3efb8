"""Email against a real SMTP server on 127.0.0.1 (aiosmtpd): not listening, then refusing,
then accepting; the message is retried and arrives exactly once."""

from __future__ import annotations

import datetime as dt
import socket

from aiosmtpd.controller import Controller
from sqlmodel import select

from webapp.mail import BACKOFF, OutboxMessage, deliver_due, send_mail

T0 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


class Mailbox:
    """An aiosmtpd handler that answers 451 to the first `refusals` recipients, then keeps
    what it is sent."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.received: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusals:
            self.refusals -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_message_waits_out_a_down_server_and_arrives_once(app, db):
    port = free_port()
    app.config.update(
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_STARTTLS=False,
        MAIL_FROM="Coproduce <no-reply@example.org>",
    )
    with app.app_context():
        send_mail(db, "pat@example.org", "Your results are ready to read", "Sign in to read.")
        db.commit()
        message = db.exec(select(OutboxMessage)).one()
        message.next_attempt_at = T0
        db.commit()

        # 1. Nothing listens: the attempt fails and the next waits a minute.
        assert deliver_due(db, now=T0) == 0
        db.expire_all()
        first = db.get(OutboxMessage, message.id)
        assert (first.state, first.attempts, first.next_attempt_at) == (
            "waiting",
            1,
            T0 + BACKOFF[0],
        )
        assert first.last_error.startswith("ConnectionRefusedError")

        mailbox = Mailbox(refusals=1)
        server = Controller(mailbox, hostname="127.0.0.1", port=port)
        server.start()
        try:
            # 2. The server answers 451 (try later): the next waits five minutes.
            now = T0 + BACKOFF[0]
            assert deliver_due(db, now=now) == 0
            db.expire_all()
            second = db.get(OutboxMessage, message.id)
            assert (second.attempts, second.next_attempt_at) == (2, now + BACKOFF[1])
            assert second.last_error == "recipient refused: 451 4.3.0 Mailbox busy, try again later"
            assert mailbox.received == []

            # 3. Too early, nothing is tried; on time, the server accepts it.
            assert deliver_due(db, now=now + BACKOFF[1] - dt.timedelta(seconds=1)) == 0
            assert deliver_due(db, now=now + BACKOFF[1]) == 1
            # 4. Later runs send nothing more.
            assert deliver_due(db, now=now + dt.timedelta(days=1)) == 0
        finally:
            server.stop()

    ((sender, recipients, content),) = mailbox.received
    assert sender == "no-reply@example.org" and recipients == ["pat@example.org"]
    assert b"Subject: Your results are ready to read" in content
    assert b"Sign in to read." in content
    db.expire_all()
    sent = db.get(OutboxMessage, message.id)
    assert (sent.state, sent.attempts, sent.body) == ("sent", 3, "")
