"""A sign-in link request does the same work for an address that is someone's and one that
is nobody's: the same SQL statements, and about the same time, so neither tells them apart.
Whether the address is someone's is found out when the clock sends the message."""

from __future__ import annotations

import re
import statistics
import threading
import time

import pytest
from sqlalchemy import event
from sqlmodel import select

from tests.conftest import outbox
from webapp.accounts import services
from webapp.accounts.models import SignInLink
from webapp.db import get_session
from webapp.mail import OutboxMessage, deliver_due

LINK = re.compile(r"http://localhost(/account/signin/link/\S+)")


@pytest.fixture
def production_app(app):
    """The app configured as in production: mail goes by SMTP, sent only by the clock."""
    app.config.update(MAIL_BACKEND="smtp", RATELIMIT_ENABLED=False)
    return app


class Statements:
    """Records the SQL statements this thread sends to the database."""

    def __init__(self, engine) -> None:
        self.engine, self.seen = engine, []
        self.thread = threading.get_ident()

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.record)
        return self.seen

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self.record)

    def record(self, conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == self.thread:
            self.seen.append(" ".join(statement.split()))


def kinds(statements: list[str]) -> list[str]:
    """The first word of each statement (SELECT, INSERT...)."""
    return [s.split()[0].upper() for s in statements]


def test_known_and_unknown_addresses_send_the_same_statements(production_app, client, patient):
    app = production_app
    token = client.csrf_token()
    engine = app.extensions["db_engine"]

    def ask(email: str) -> list[str]:
        with Statements(engine) as seen:
            page = client.post("/account/signin/link", data={"email": email, "csrf_token": token})
        assert page.status_code == 200
        return list(seen)

    known, unknown = ask("pat@example.org"), ask("nobody@example.org")
    assert kinds(known) == kinds(unknown)
    assert "INSERT" in kinds(known)
    # The very same statements, only the address differs in the parameters.
    assert known == unknown

    # The clock finds out who the address belongs to: Pat gets a link, nobody else anything.
    app.config["MAIL_BACKEND"] = "memory"
    with app.app_context(), app.test_request_context():
        assert deliver_due(get_session()) == 1
    (mail,) = outbox(app)
    assert mail["To"] == "pat@example.org"
    path = LINK.search(mail.get_content()).group(1)
    assert client.post(path, data={"csrf_token": token}).status_code == 303
    with app.app_context():
        session = get_session()
        assert session.exec(select(OutboxMessage.state)).all() == ["sent"]
        assert session.exec(select(SignInLink.used_at)).one() is not None


def test_known_and_unknown_addresses_take_about_as_long(production_app, patient):
    """Many in-process requests, in turn (known first, then unknown first, and so on), compared
    by their lower quartile: time stolen by other processes on a busy machine only ever adds
    time, so the quicker runs show the work itself (on a loaded 2-core machine the medians
    wandered by up to 1.9 times, the lower quartiles by 1.07). Before the outbox, a known
    address wrote a link and an audit event and committed: about 5 times a lookup that
    found nobody, by either measure."""
    app = production_app
    known, unknown = "pat@example.org", "nobody@example.org"
    times: dict[str, list[float]] = {known: [], unknown: []}
    for turn in range(61):
        for email in (known, unknown) if turn % 2 else (unknown, known):
            with app.test_request_context():
                started = time.perf_counter()
                services.request_sign_in_link(get_session(), email)
                times[email].append(time.perf_counter() - started)
    quick_known, quick_unknown = (statistics.quantiles(times[e], n=4)[0] for e in (known, unknown))
    assert 1 / 1.5 < quick_known / quick_unknown < 1.5, (quick_known, quick_unknown)


def test_the_development_console_still_prints_the_link_at_once(app, db, patient, capsys):
    """`make run` runs no clock: the console backend sends right after the commit."""
    app.config["MAIL_BACKEND"] = "console"
    with app.test_request_context():
        services.request_sign_in_link(db, "pat@example.org")
        services.request_sign_in_link(db, "nobody@example.org")
    printed = capsys.readouterr().out
    assert "--- email to pat@example.org: Your Coproduce sign-in link ---" in printed
    assert LINK.search(printed)
    assert "nobody@example.org" not in printed
