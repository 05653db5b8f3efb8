"""Email: SMTP sending happens in the background and a failure is logged, never shown."""

from __future__ import annotations

import smtplib
import threading

from webapp import mail


class FakeSMTP:
    """Stands in for an SMTP server connection."""

    sent: list = []
    fail = False

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        if FakeSMTP.fail:
            raise smtplib.SMTPException("server said no")
        FakeSMTP.sent.append((message, threading.current_thread()))


def test_smtp_sends_in_the_background(app, monkeypatch):
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent, FakeSMTP.fail = [], False
    app.config.update(
        MAIL_BACKEND="smtp",
        SMTP_HOST="mail.test",
        SMTP_PORT=25,
        SMTP_STARTTLS=True,
        SMTP_USERNAME="",
        SMTP_PASSWORD="",
    )
    with app.app_context():
        mail.send_mail("pat@example.org", "Hello", "Body")
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and thread.daemon:
            thread.join(timeout=5)
    ((message, thread),) = FakeSMTP.sent
    assert message["To"] == "pat@example.org" and message["Subject"] == "Hello"
    assert thread is not threading.main_thread()


def test_smtp_failure_is_logged_not_raised(app, monkeypatch, caplog):
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent, FakeSMTP.fail = [], True
    message = mail.EmailMessage()
    message["Subject"] = "Hello"
    mail._send_smtp(
        message,
        {
            "SMTP_HOST": "x",
            "SMTP_PORT": 25,
            "SMTP_STARTTLS": False,
            "SMTP_USERNAME": "",
            "SMTP_PASSWORD": "",
        },
    )
    assert "sending mail failed" in caplog.text
