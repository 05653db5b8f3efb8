"""In-process measurements that do not depend on the machine: SQL queries per page and bytes.

Used by `make bench` and by the tests (tests/test_performance.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlmodel import Session, select

from webapp.accounts import services
from webapp.accounts.models import Person, Practice

ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')
FIRST_LOAD_BUDGET = 45 * 1024
REPEAT_VISIT_BUDGET = 10 * 1024


@dataclass
class Weight:
    """What a page costs to load, compressed: the HTML, and the HTML plus its CSS and JS."""

    queries: int
    html: int
    first_load: int
    repeat_visit: int


@contextmanager
def counting_queries(app: Flask) -> Iterator[list[str]]:
    """Collect every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def session_cookie(app: Flask, email: str) -> str:
    """Start a real session for a demo person and return the cookie value that carries it."""
    with app.app_context(), Session(app.extensions["db_engine"]) as db:
        person = db.exec(select(Person).where(Person.email == email)).one()
        token = services.start_session(db, person, "bench")
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        return serializer.dumps({"_user_id": token, "_fresh": True})


def practice_id(app: Flask) -> int:
    """Return the demo practice's id."""
    with Session(app.extensions["db_engine"]) as db:
        practice = db.exec(select(Practice).order_by(Practice.id)).first()
        assert practice is not None, "no demo practice: run `flask demo` first"
        return practice.id


def path_ids(app: Flask) -> dict[str, int]:
    """Return the ids page paths may name: {practice}, {conversation} (Pat's check-in),
    {goal} (Pat's first goal), and the long group thread's (bench/groups.py; made at small
    scale if the database has no group data yet)."""
    from bench.groups import thread_ids
    from bench.timebank import ensure as ensure_time_bank
    from webapp.accounts.models import Person
    from webapp.planning.models import Conversation, Goal

    with Session(app.extensions["db_engine"]) as db:
        pat = db.exec(select(Person).where(Person.email == "pat@example.org")).first()
        conversation = (
            db.exec(select(Conversation).where(Conversation.patient_id == pat.id)).first()
            if pat
            else None
        )
        goal = (
            db.exec(select(Goal).where(Goal.patient_id == pat.id).order_by(Goal.position)).first()
            if pat
            else None
        )
    ensure_time_bank(app)
    return {
        "practice": practice_id(app),
        "conversation": conversation.id if conversation and conversation.id else 0,
        "goal": goal.id if goal and goal.id else 0,
        **thread_ids(app),
    }


def signed_in_client(app: Flask, reader: str) -> FlaskClient:
    """Return a test client reading as the given demo person (or anonymously)."""
    client = app.test_client()
    if reader != "anonymous":
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], session_cookie(app, reader))
    return client


def weigh(
    app: Flask, client: FlaskClient, path: str, extra: tuple[tuple[str, str], ...] = ()
) -> Weight:
    """Fetch a page as a browser on a first and a repeat visit would, compressed with brotli.

    The third fetch is measured, so one-off work (a session touched once a minute, a thread's
    "new" marks) does not count; assets are fetched once each, as a first visit does, and not
    at all on a repeat.
    `extra` are more request headers (an htmx request's, for a fragment).
    """
    headers = {"Accept-Encoding": "br, gzip", **dict(extra)}
    # Twice: a page that marks what was read (a thread) is drawn again once on the next visit,
    # without its "new" marks, then kept.
    client.get(path, headers=headers)
    client.get(path, headers=headers)
    with counting_queries(app) as statements:
        page = client.get(path, headers=headers)
    assert page.status_code in (200, 204), (path, page.status_code)  # 204: a poll, nothing new
    html = len(page.get_data())
    text = page.get_data(as_text=False)
    plain = (
        client.get(path, headers=dict(extra)).get_data(as_text=True)
        if page.content_encoding
        else text.decode()
    )
    assets = 0
    for url in ASSET.findall(plain):
        asset = client.get(url, headers=headers)
        assets += len(asset.get_data())
        asset.close()
    return Weight(queries=len(statements), html=html, first_load=html + assets, repeat_visit=html)
