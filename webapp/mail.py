"""Email through an outbox: written with the change that causes it, sent by the clock.

`send_mail` adds a message to the caller's session, so it is committed, or rolled back, with
the change it tells someone about. `deliver_due` (run by `flask clock`) claims due messages
with a guarded update, sends them, and on failure tries again later (1, 5 and 30 minutes,
2, 6 and 12 hours) before marking them failed for `flask mail status` to show. The memory
(tests) and console (development) backends also deliver right after the commit, so mail is
seen at once without a clock.

A message of a kind (such as "signin") is written without its words: they are composed when
it is sent, so a sign-in request does the same work whether or not the address is someone's,
and a sign-in link is never kept in the outbox.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app, has_app_context
from sqlalchemy import Column, Index, Text, delete, event, func, inspect, or_, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Field, Session, SQLModel, col, select

from webapp.db import utcnow

log = logging.getLogger(__name__)

WAITING, SENT, FAILED = "waiting", "sent", "failed"
# Waits after the 1st, 2nd... failed attempt; after the last attempt a message is failed.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=6),
    dt.timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A claimed message is left alone this long: if its sender stops mid-way, it goes again then.
LEASE = dt.timedelta(minutes=10)
BATCH = 20
KEEP_SENT = dt.timedelta(days=7)
KEEP_FAILED = dt.timedelta(days=30)
_JUST_WRITTEN = "mail_just_written"


class OutboxMessage(SQLModel, table=True):
    """One email to send: waiting (maybe after failed attempts), sent, or failed for good.

    `next_attempt_at` is moved on in one guarded update before the message is sent, so two
    clocks never send it twice. The body is cleared once it is sent.
    """

    __table_args__ = (Index("ix_outboxmessage_state_next", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # Empty for a message written in full; otherwise its words are composed when it is sent.
    kind: str = Field(default="", max_length=20)
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    state: str = Field(default=WAITING, max_length=10)
    created_at: dt.datetime = Field(default_factory=utcnow)
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    # What went wrong last time, from the server or the network: never the message's words.
    last_error: str | None = Field(default=None, max_length=200)


def send_mail(session: Session, to: str, subject: str, body: str = "", kind: str = "") -> None:
    """Add a plain-text email to the session's outbox; it goes when the caller commits.

    `to` is the address, `subject` and `body` the words; `kind` names a composer that writes
    the words when the message is sent (the body is then left empty).
    """
    message = OutboxMessage(recipient=to, subject=subject[:200], body=body, kind=kind)
    session.add(message)
    if current_app.config["MAIL_BACKEND"] in {"memory", "console"}:
        session.info.setdefault(_JUST_WRITTEN, []).append(message)
    log.info("mail written to the outbox: %s", subject)


@event.listens_for(OrmSession, "after_commit")
def _deliver_after_commit(session: OrmSession) -> None:
    """Deliver what a commit just wrote to the outbox, for the memory and console backends."""
    written = session.info.pop(_JUST_WRITTEN, None)
    if not written or not has_app_context():
        return
    # Read ids from the identity map: the session may not load anything after its commit.
    ids = [inspect(m).identity[0] for m in written if inspect(m).persistent]
    if ids:
        with Session(session.get_bind(), expire_on_commit=False) as other:
            deliver_due(other, ids=ids)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_after_rollback(session: OrmSession, previous: SessionTransaction) -> None:
    """Forget messages of a rolled-back transaction: they were never written. (Those of a
    rolled-back savepoint are left out at the commit: they are no longer in the session.)"""
    if previous.parent is None:
        session.info.pop(_JUST_WRITTEN, None)


# --- delivery -----------------------------------------------------------------


def _composers() -> dict[str, Callable[[Session, str], tuple[str, str] | None]]:
    """Return the functions that write the words of each kind of message."""
    from webapp.accounts.services import compose_sign_in_link

    return {"signin": compose_sign_in_link}


def _stale_after() -> dict[str, dt.timedelta]:
    """Return how long after it was asked for each kind of message is still worth sending:
    a sign-in link asked for longer ago than a link lives is dropped, not sent late."""
    from webapp.accounts.services import SIGN_IN_LINK_MINUTES

    return {"signin": dt.timedelta(minutes=SIGN_IN_LINK_MINUTES)}


class _Sender:
    """Hands messages to the configured backend, keeping one SMTP connection for a run."""

    def __init__(self) -> None:
        """Read the settings once."""
        self.config = current_app.config
        self.backend = self.config["MAIL_BACKEND"]
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: Exception | None = None

    def send(self, to: str, subject: str, body: str) -> None:
        """Send one message, or raise what went wrong."""
        message = EmailMessage()
        message["From"] = self.config["MAIL_FROM"]
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        if self.backend == "memory":
            current_app.extensions.setdefault("outbox", []).append(message)
        elif self.backend == "console":
            # Development only: the message, links included, goes to the console.
            print(f"\n--- email to {to}: {subject} ---\n{body}\n--- end of email ---\n", flush=True)
        elif self.backend == "smtp":
            self._smtp().send_message(message)
        else:
            raise ValueError(f"unknown MAIL_BACKEND {self.backend!r}")

    def _smtp(self) -> smtplib.SMTP:
        """Return the open connection, opening it (once a run) if need be."""
        if self.unreachable is not None:
            # A server that did not answer is not asked again in this run: the rest wait too.
            raise self.unreachable
        if self.smtp is None:
            try:
                smtp = smtplib.SMTP(self.config["SMTP_HOST"], self.config["SMTP_PORT"], timeout=10)
                if self.config["SMTP_STARTTLS"]:
                    smtp.starttls()
                if self.config["SMTP_USERNAME"]:
                    smtp.login(self.config["SMTP_USERNAME"], self.config["SMTP_PASSWORD"])
            except (OSError, smtplib.SMTPException) as error:
                self.unreachable = error
                raise
            self.smtp = smtp
        return self.smtp

    def drop(self) -> None:
        """Close the connection (after a failure, the next message opens a new one)."""
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.smtp.quit()
            self.smtp = None


def describe(error: BaseException) -> str:
    """Say in one short line what went wrong sending, from the server's answer if any."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, answer = next(iter(error.recipients.values()))
        if isinstance(answer, bytes):
            answer = answer.decode("utf-8", "replace")
        text = f"recipient refused: {code} {answer}"
    elif isinstance(error, smtplib.SMTPResponseException):
        answer = error.smtp_error
        if isinstance(answer, bytes):
            answer = answer.decode("utf-8", "replace")
        text = f"{error.smtp_code} {answer}"
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:200]


def _permanent(error: BaseException) -> bool:
    """Whether trying again cannot help: the server refused the address itself for good."""
    return isinstance(error, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _ in error.recipients.values()
    )


def deliver_due(
    session: Session,
    now: dt.datetime | None = None,
    ids: Sequence[int] | None = None,
    limit: int = BATCH,
) -> int:
    """Send the messages that are due (only those in `ids`, if given); return how many went.

    Each is claimed first by moving its next attempt on by LEASE in one guarded update, so of
    two clocks at once only one sends it. A failure schedules the next attempt (BACKOFF) or,
    after MAX_ATTEMPTS or a permanent refusal, marks it failed.
    """
    now = now or utcnow()
    due = select(OutboxMessage.id).where(
        col(OutboxMessage.state) == WAITING, col(OutboxMessage.next_attempt_at) <= now
    )
    if ids is not None:
        due = due.where(col(OutboxMessage.id).in_(ids))
    else:
        due = due.order_by(col(OutboxMessage.next_attempt_at)).limit(limit)
    candidates = session.exec(due).all()
    if not candidates:
        session.rollback()
        return 0
    claimed = session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(candidates),
            col(OutboxMessage.state) == WAITING,
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .values(attempts=col(OutboxMessage.attempts) + 1, next_attempt_at=now + LEASE)
        .returning(
            col(OutboxMessage.id),
            col(OutboxMessage.kind),
            col(OutboxMessage.recipient),
            col(OutboxMessage.subject),
            col(OutboxMessage.body),
            col(OutboxMessage.attempts),
            col(OutboxMessage.created_at),
        )
    ).all()
    session.commit()
    sender = _Sender()
    sent = 0
    stale_after = _stale_after()
    try:
        for message_id, kind, recipient, subject, body, attempts, created_at in claimed:
            if kind in stale_after and now - created_at > stale_after[kind]:
                # Asked for so long ago that a link now would surprise, and could be misused.
                log.warning("mail %s (%s) dropped: asked for too long ago", message_id, kind)
                _drop(session, message_id)
                continue
            try:
                if kind:
                    composed = _composers()[kind](session, recipient)
                    if composed is None:  # nobody to write to: the message is dropped
                        _drop(session, message_id)
                        continue
                    subject, body = composed
                    session.commit()  # what the words refer to (a link) exists before they go
                sender.send(recipient, subject, body)
            except Exception as error:  # any failure is retried later; the others still go
                session.rollback()
                sender.drop()
                _record_failure(session, message_id, attempts, error, now)
                continue
            _settle(session, message_id, attempts, state=SENT, sent_at=now, body="")
            sent += 1
    finally:
        sender.drop()
    return sent


def _drop(session: Session, message_id: int) -> None:
    """Delete a message that has nobody to go to."""
    session.exec(delete(OutboxMessage).where(col(OutboxMessage.id) == message_id))
    session.commit()


def _record_failure(
    session: Session, message_id: int, attempts: int, error: Exception, now: dt.datetime
) -> None:
    """Schedule the next attempt after a failure, or mark the message failed after the last."""
    reason = describe(error)
    if attempts >= MAX_ATTEMPTS or _permanent(error):
        log.error("mail %s failed for good after %d attempts: %s", message_id, attempts, reason)
        _settle(session, message_id, attempts, state=FAILED, last_error=reason)
    else:
        wait = BACKOFF[attempts - 1]
        log.warning("mail %s not sent (%s); trying again in %s", message_id, reason, wait)
        _settle(session, message_id, attempts, next_attempt_at=now + wait, last_error=reason)


def _settle(session: Session, message_id: int, attempts: int, **values: object) -> None:
    """Write how an attempt went, if the message is still this run's (not claimed again)."""
    session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.attempts) == attempts,
            col(OutboxMessage.state) == WAITING,
        )
        .values(**values)
    )
    session.commit()


# --- operations ---------------------------------------------------------------


@dataclass
class Failure:
    """A message that was not sent, as an operator sees it (never its words)."""

    id: int
    recipient: str
    subject: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime


@dataclass
class MailStatus:
    """How many messages wait, went and failed, the oldest waiting, and each failure."""

    waiting: int = 0
    sent: int = 0
    failed: int = 0
    oldest_waiting: dt.datetime | None = None
    failures: list[Failure] = field(default_factory=list)


def mail_status(session: Session) -> MailStatus:
    """Count the outbox's messages by state and list the failed ones."""
    status = MailStatus()
    for state, count, oldest in session.exec(
        select(OutboxMessage.state, func.count(), func.min(OutboxMessage.created_at)).group_by(
            OutboxMessage.state
        )
    ).all():
        setattr(status, state, count)
        if state == WAITING:
            status.oldest_waiting = oldest
    rows = session.exec(
        select(
            OutboxMessage.id,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.created_at,
        )
        .where(col(OutboxMessage.state) == FAILED)
        .order_by(col(OutboxMessage.created_at))
    ).all()
    status.failures = [Failure(*row) for row in rows]
    return status


def retry_failed(session: Session, now: dt.datetime | None = None) -> int:
    """Put every failed message back in the queue with a fresh set of attempts."""
    moved = session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.state) == FAILED)
        .values(state=WAITING, attempts=0, next_attempt_at=now or utcnow())
    )
    session.commit()
    return moved.rowcount


def purge(session: Session, now: dt.datetime | None = None) -> int:
    """Delete sent messages after KEEP_SENT and failed ones after KEEP_FAILED (the caller
    commits); return how many went."""
    now = now or utcnow()
    return session.exec(
        delete(OutboxMessage).where(
            or_(
                (col(OutboxMessage.state) == SENT) & (col(OutboxMessage.sent_at) < now - KEEP_SENT),
                (col(OutboxMessage.state) == FAILED)
                & (col(OutboxMessage.created_at) < now - KEEP_FAILED),
            )
        )
    ).rowcount
