"""Worlds for the route-by-role matrices: built once, put back after anything changes them.

A matrix case needs a whole world of records (a practice, people in every role, reviews,
results, goals, groups, a time bank...) and one request against it. Building that world
through the services takes hundreds of statements, so each world is built once per process
and role, and its rows are kept. Before each case the world is made exactly as it was built:

- if the last case wrote anything (the app's engine saw an INSERT, UPDATE or DELETE, even
  from a GET or a request that was refused), or another test emptied the tables, or the
  case before was for another role, the kept rows are put back, table by table;
- the client is new, with the cookie the world's client had when the world was built;
- rate limits start again, and the pages the app keeps per worker and the mail it sent are
  forgotten, as they were when every case had an app of its own (ids may repeat after a
  restore, so a page kept after a change must never answer for the world as it was built);
- a world is built again when it is ten minutes old or the day has changed since.

Writes are watched on every engine of the process, not only the world's own.

Restoring deletes every row (children first) and inserts the kept rows (parents first), so
it works the same on SQLite and PostgreSQL, and needs no rights beyond the tables' own.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Table, event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from tests import conftest
from webapp.db import utcnow
from webapp.extensions import limiter
from webapp.formatting import local_date

# A world older than this is built again: its signed-in sessions would near their idle limit.
WORLD_LIFETIME_SECONDS = 10 * 60
# Statements that only read, or only steer a transaction. Anything else counts as a write.
_READS = re.compile(
    r"^\s*(?:SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|SHOW|SET\s+(?:LOCAL\s+)?"
    r"(?:TRANSACTION|SESSION\s+CHARACTERISTICS|statement_timeout|lock_timeout))\b",
    re.IGNORECASE,
)
_WRITES_INSIDE = re.compile(r"\b(?:INSERT|UPDATE|DELETE)\b(?!\s+(?:NOWAIT|SKIP))", re.IGNORECASE)
_FOR_UPDATE = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b", re.IGNORECASE)
SESSION_COOKIE = "coproduce_session"

Build = Callable[[Flask, str], tuple[dict, FlaskClient]]


def writes(statement: str) -> bool:
    """Whether a SQL statement may change what is stored (unknown statements count)."""
    if not _READS.match(statement):
        return True
    # A SELECT that locks rows changes nothing; a CTE that inserts, updates or deletes does.
    return bool(_WRITES_INSIDE.search(_FOR_UPDATE.sub("", statement)))


@dataclass
class _Kept:
    rows: list[tuple[Table, list[dict[str, Any]]]]
    ctx: dict
    cookie: str | None
    built_at: float
    built_on: dt.date

    def stale(self, today: dt.date) -> bool:
        """Too old to serve: sessions near their idle limit, or dates built for another day."""
        too_old = time.monotonic() - self.built_at > WORLD_LIFETIME_SECONDS
        return too_old or today != self.built_on


def _today(app: Flask) -> dt.date:
    """The app's day (in its own time zone), as the worlds' dates are written."""
    with app.app_context():
        return local_date(utcnow())


@dataclass
class Worlds:
    """The worlds of one matrix module, kept for the whole test process."""

    build: Build
    app: Flask | None = None
    kept: dict[str, _Kept] = field(default_factory=dict)
    current: str | None = None
    dirty: bool = True
    emptied_seen: int = 0
    restores: int = 0
    builds: int = 0

    def open(self) -> Worlds:
        """Start the module: an app of its own on the run's database (empty at this point)."""
        if self.app is None:
            self.app = conftest.make_app(keep=True)
            event.listen(Engine, "before_cursor_execute", self._saw)
        self.current, self.dirty = None, True
        return self

    def close(self) -> None:
        """End the module: leave the database empty for the tests that follow."""
        assert self.app is not None
        conftest.empty_tables(self.app)
        self.app.extensions["db_engine"].dispose()
        self.current, self.dirty = None, True

    def _saw(self, _conn, _cursor, statement: str, *_args) -> None:
        if not self.dirty and writes(statement):
            self.dirty = True

    def enter(self, key: str) -> tuple[dict, FlaskClient]:
        """Make the database hold the world for `key` as it was built, and return the world's
        records and a client signed in as it was."""
        app = self.app
        assert app is not None, "open() the worlds first"
        kept = self.kept.get(key)
        if kept is not None and kept.stale(_today(app)):
            kept = None
        emptied = conftest.tables_emptied()
        if kept is None:
            conftest.empty_tables(app)
            kept = self._build(key)
        elif self.dirty or self.current != key or emptied != self.emptied_seen:
            self._restore(kept)
        self.current, self.emptied_seen = key, conftest.tables_emptied()
        conftest.holding_world()
        conftest.forget_kept_pages(app)
        app.extensions.pop("outbox", None)
        limiter.reset()
        client = app.test_client()
        if kept.cookie is not None:
            client.set_cookie(SESSION_COOKIE, kept.cookie)
        self.dirty = False
        return dict(kept.ctx), client

    def _build(self, key: str) -> _Kept:
        app = self.app
        assert app is not None
        built_on = _today(app)
        ctx, client = self.build(app, key)
        cookie = client.get_cookie(SESSION_COOKIE)
        kept = _Kept(
            rows=list(_rows(app.extensions["db_engine"])),
            ctx=ctx,
            cookie=cookie.value if cookie else None,
            built_at=time.monotonic(),
            built_on=built_on,
        )
        self.kept[key] = kept
        self.builds += 1
        return kept

    def _restore(self, kept: _Kept) -> None:
        app = self.app
        assert app is not None
        engine: Engine = app.extensions["db_engine"]
        with engine.begin() as connection:
            for table in reversed(SQLModel.metadata.sorted_tables):
                connection.execute(table.delete())
            for table, rows in kept.rows:
                if rows:
                    connection.execute(table.insert(), rows)
        self.restores += 1


def _rows(engine: Engine) -> Iterator[tuple[Table, list[dict[str, Any]]]]:
    """Every row of every table, parents first, each table in key order."""
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            query = table.select().order_by(*table.primary_key.columns)
            yield table, [dict(row._mapping) for row in connection.execute(query)]


def module_fixture(worlds: Worlds, doc: str):
    """A module-scoped `worlds` fixture: the worlds open for the module's cases, and the
    tables are left empty for the tests that follow."""

    @pytest.fixture(scope="module", name="worlds")
    def fixture(migrated: str) -> Iterator[Worlds]:
        yield worlds.open()
        worlds.close()

    fixture.__doc__ = doc
    return fixture
