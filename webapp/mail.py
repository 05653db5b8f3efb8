"""Sending email: printed in development, kept in memory in tests, sent by SMTP in production."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text email through the configured backend."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    backend = config["MAIL_BACKEND"]
    if backend == "memory":
        current_app.extensions.setdefault("outbox", []).append(message)
    elif backend == "console":
        # Development only: the message, links included, goes to the console.
        print(f"\n--- email to {to}: {subject} ---\n{body}\n--- end of email ---\n", flush=True)
    elif backend == "smtp":
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")
    log.info("mail sent to a recipient: %s", subject)
