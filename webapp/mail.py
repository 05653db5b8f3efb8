"""Sending email: printed in development, kept in memory in tests, sent by SMTP in production."""

from __future__ import annotations

import logging
import smtplib
import threading
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def _send_smtp(message: EmailMessage, settings: dict) -> None:
    """Send one message by SMTP, logging (not raising) a failure."""
    try:
        with smtplib.SMTP(settings["SMTP_HOST"], settings["SMTP_PORT"], timeout=10) as smtp:
            if settings["SMTP_STARTTLS"]:
                smtp.starttls()
            if settings["SMTP_USERNAME"]:
                smtp.login(settings["SMTP_USERNAME"], settings["SMTP_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("sending mail failed: %s", message["Subject"])


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
        # Sent in the background: the answer to a sign-in request must not take longer, or
        # fail, only when the address belongs to someone.
        settings = {
            k: config[k]
            for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_USERNAME", "SMTP_PASSWORD")
        }
        threading.Thread(target=_send_smtp, args=(message, settings), daemon=True).start()
    else:
        raise ValueError(f"unknown MAIL_BACKEND {backend!r}")
    log.info("mail handed to the %s backend: %s", backend, subject)
