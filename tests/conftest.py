"""Shared fixtures: one migrated database per test process, an app and client per test, people."""

from __future__ import annotations

import copy
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel

import webapp.models  # noqa: F401  (every table)
from tests.softauthn import SoftAuthenticator
from webapp import content, create_app
from webapp.accounts import services
from webapp.accounts.models import Person, Practice, PracticeRole, Role
from webapp.config import config_for_tests
from webapp.content import Content
from webapp.extensions import limiter

_TMP = tempfile.mkdtemp(prefix="coproduce-tests-")


def database_url() -> str:
    """The database this test process uses: TEST_DATABASE_URL (PostgreSQL) or a new SQLite
    file. Each pytest-xdist worker has its own: on PostgreSQL the worker's name is added to
    the database's name (`.ci/postgres-database create --workers N` makes them)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{_TMP}/test.db"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


DATABASE_URL = database_url()
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client(FlaskClient):
    """A test client that sends a valid CSRF token with every form and JSON post, like a page."""

    def csrf_token(self) -> str:
        """Fetch a page and return the CSRF token it carries."""
        # A light page first: signed in, its header's sign-out form carries the token.
        page = self.get("/pages/about").get_data(as_text=True)
        if "csrf_token" not in page:
            page = self.get("/account/signin").get_data(as_text=True)
        if "csrf_token" not in page:
            page = self.get("/").get_data(as_text=True)
        match = CSRF_FIELD.search(page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def form(self, url: str, data: dict | None = None, **kwargs) -> object:
        """Post a form as a browser would, with the page's CSRF token."""
        data = dict(data or {})
        if "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token()
        return self.post(url, data=data, **kwargs)

    def json(self, url: str, body: dict | None = None, **kwargs) -> object:
        """Post JSON as the passkey script does, with the CSRF header."""
        headers = kwargs.pop("headers", {})
        if "X-CSRFToken" not in headers:
            headers["X-CSRFToken"] = self.csrf_token()
        return self.post(url, json=body or {}, headers=headers, **kwargs)


_made: list[Flask] = []
_content: Content | None = None
_load_content = content.load


def _content_once(root: Path) -> tuple[Content, list]:
    """Read content/ once per process (it is read-only); every app gets its own copy, so a
    test that changes its app's content changes no other. Other folders are read each time."""
    global _content
    if Path(root).resolve() != content.CONTENT_DIR:
        return _load_content(root)
    if _content is None:
        loaded, errors = _load_content(root)
        if errors:
            return loaded, errors
        _content = loaded
    return copy.deepcopy(_content), []


content.load = _content_once


def make_app(keep: bool = False, **overrides) -> Flask:
    """Create an app on the run's database with test settings.

    Its connections are closed after the test, unless `keep` (for apps that outlive one test).
    """
    overrides.setdefault("DATABASE_URL", DATABASE_URL)
    app = create_app(config_for_tests(**overrides))
    app.test_client_class = Client
    if not keep:
        _made.append(app)
    return app


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    """Close the database connections of every app a test made."""
    yield
    while _made:
        _made.pop().extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def migrated() -> str:
    """Apply every migration to the run's database once."""
    app = make_app(keep=True)
    try:
        app.extensions["db_engine"].connect().close()
    except OperationalError as error:
        pytest.exit(
            f"cannot open the test database {DATABASE_URL.rsplit('/', 1)[-1]!r} ({error.orig}). "
            "With several workers (-n), each needs its own: "
            "make them with `.ci/postgres-database create --workers N`.",
            returncode=1,
        )
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    app.extensions["db_engine"].dispose()
    return DATABASE_URL


_emptied = 0
_world_in_tables = False


def empty_tables(app: Flask) -> None:
    """Delete every row, children first, so each test starts clean."""
    global _emptied, _world_in_tables
    engine = app.extensions["db_engine"]
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    _emptied += 1
    _world_in_tables = False
    forget_kept_pages(app)


def holding_world() -> None:
    """Say the tables hold a matrix world (tests/worlds.py): the next test that asks for an
    app empties them first."""
    global _world_in_tables
    _world_in_tables = True


def tables_emptied() -> int:
    """How many times this process has emptied the tables (a world kept in them is gone)."""
    return _emptied


def forget_kept_pages(app: Flask) -> None:
    """Forget the pages an app keeps per worker. Ids may start again in emptied or restored
    tables: no page kept for the last test may answer."""
    app.extensions.pop("kept_html", None)


@pytest.fixture
def app(migrated: str) -> Iterator[Flask]:
    """An app for one test, with an empty database and fresh rate limits."""
    app = make_app()
    if _world_in_tables:
        empty_tables(app)
    limiter.reset()
    yield app
    empty_tables(app)


@pytest.fixture
def client(app: Flask) -> Client:
    """A test client with CSRF helpers."""
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A database session for arranging and checking rows (no app context is left pushed,
    so each request still gets its own)."""
    with Session(app.extensions["db_engine"], expire_on_commit=False) as s:
        yield s


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    """A software passkey authenticator for the test origin."""
    return SoftAuthenticator(origin="http://localhost")


@pytest.fixture
def practice(db: Session) -> Practice:
    """A practice."""
    practice = Practice(name="Riverside Health Centre")
    db.add(practice)
    db.commit()
    return practice


def add_person(db: Session, name: str, email: str | None, *roles: tuple[Practice, str]) -> Person:
    """Add a person with roles in practices."""
    person = Person(name=name, email=email, user_handle=secrets.token_bytes(32))
    db.add(person)
    db.flush()
    for practice, role in roles:
        db.add(PracticeRole(person_id=person.id, practice_id=practice.id, role=role))
    db.commit()
    return person


@pytest.fixture
def patient(db: Session, practice: Practice) -> Person:
    """A patient of the practice, with an email address."""
    return add_person(db, "Pat Morgan", "pat@example.org", (practice, Role.PATIENT))


@pytest.fixture
def clinician(db: Session, practice: Practice) -> Person:
    """A clinician in the practice."""
    return add_person(db, "Priya Shah", "priya@example.org", (practice, Role.CLINICIAN))


def sign_in(app: Flask, client: Client, person: Person) -> None:
    """Start a real session for the person and give its cookie to the client."""
    with app.app_context(), Session(app.extensions["db_engine"], expire_on_commit=False) as s:
        token = services.start_session(s, person, "test")
    with client.session_transaction() as browser:
        browser["_user_id"] = token
        browser["_fresh"] = True


def together(app: Flask, count: int, work: Callable[[Session, int], object]) -> list[object]:
    """Run work(session, n) in `count` threads released at the same moment, each with its own
    session and request context; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(n: int) -> None:
        with (
            app.test_request_context(),
            Session(app.extensions["db_engine"], expire_on_commit=False) as session,
        ):
            barrier.wait()
            try:
                results[n] = work(session, n)
            except Exception as error:
                results[n] = error

    workers = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return results


def outbox(app: Flask) -> list:
    """Return the emails the app has sent."""
    return app.extensions.setdefault("outbox", [])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out tests marked postgres on SQLite (deselected, not skipped): they need writes
    that really run side by side, and the PostgreSQL leg of CI runs them."""
    if DATABASE_URL.startswith("postgresql"):
        return
    left_out = [item for item in items if item.get_closest_marker("postgres")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test fails the run: a test that did not run proves nothing."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped:
        reporter.write_line(f"CI: {skipped} test(s) skipped; failing the run.", red=True)
        session.exitstatus = 1
