"""Progress logged with no connection, in Chromium: sent when the connection returns without
the person going anywhere, retried on a timer after a failed send, and counted alike in
every open tab."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlmodel import select
from werkzeug.exceptions import ServiceUnavailable

from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import _people, _sign_in_by_link
from tests.browser.test_goals_journey import _agreed_goal, _controlled, _db
from webapp.goals import services as goal_services
from webapp.goals.models import ProgressEntry

ONE_WAITING = "1 entry is waiting to send. It goes when you are back online."
RETRY_FIRST_MS = 10_000  # app.js: the first retry, then twice as long each time


def _entries(server: LiveServer) -> list[ProgressEntry]:
    with _db(server) as db:
        return list(db.exec(select(ProgressEntry)).all())


def _signed_in(server: LiveServer, browser: Browser) -> tuple[BrowserContext, Page, int]:
    """Pat, signed in on a phone with the app's service worker, on their goal's page."""
    people = _people(server)
    goal_id = _agreed_goal(server, people)
    context = browser.new_context(viewport={"width": 360, "height": 800})
    context.clock.install()  # real time flows; a test may jump it forward
    page = context.new_page()
    page.set_default_timeout(10_000)
    _sign_in_by_link(server, page, "pat@example.org")
    _controlled(page)
    page.goto(f"{server.url}/goals/{goal_id}")
    expect(page.get_by_role("heading", name="How did it go?")).to_be_visible()
    return context, page, goal_id


def test_an_entry_made_offline_goes_when_the_connection_returns_and_every_tab_counts_it(
    server: LiveServer, browser: Browser
):
    context, page, _goal = _signed_in(server, browser)
    other = context.new_page()  # a second tab, on a page without the list
    other.goto(server.url + "/plan")
    expect(other.get_by_role("heading", name="What we agreed")).to_be_visible()
    expect(other.get_by_text(ONE_WAITING)).to_have_count(0)

    sends: list[str] = []
    context.on(
        "request",
        lambda request: sends.append(request.url) if request.method == "POST" else None,
    )
    context.set_offline(True)
    page.get_by_role("button", name="Did it", exact=True).click()
    expect(page.get_by_text(ONE_WAITING)).to_be_visible()
    expect(other.get_by_role("status").filter(has_text=ONE_WAITING)).to_be_visible()
    page.get_by_role("button", name="Partly", exact=True).click()
    many = "2 entries are waiting to send. They go when you are back online."
    expect(page.get_by_text(many)).to_be_visible()
    expect(other.get_by_text(many)).to_be_visible()
    assert _entries(server) == []

    # Back online, nobody goes anywhere: the entries go, and both tabs say none wait.
    context.set_offline(False)
    # Whichever tab takes the lock first sends both and says so (in its list, or in the line
    # under the header on a page without one); the other just counts none.
    sent = "2 entries sent. Thank you."
    for _ in range(100):
        if page.get_by_text(sent).count() or other.get_by_text(sent).count():
            break
        page.wait_for_timeout(100)
    assert page.get_by_text(sent).count() + other.get_by_text(sent).count() == 1
    page.reload()
    expect(page.locator("#progress-entries li")).to_have_count(2)
    expect(page.get_by_text(re.compile("waiting to send"))).to_have_count(0)
    expect(other.get_by_text(re.compile("waiting to send"))).to_have_count(0)
    assert sorted(e.outcome for e in _entries(server)) == ["did", "partly"]
    # Both tabs heard the connection return; one sent, each entry once.
    assert [url.rsplit("/", 1)[-1] for url in sends] == ["progress", "progress"]
    assert page.evaluate("JSON.parse(localStorage.getItem('coproduce-outbox'))") == []
    context.close()


def test_an_entry_the_server_failed_to_take_is_sent_again_on_the_timer(
    server: LiveServer, browser: Browser, monkeypatch: pytest.MonkeyPatch
):
    context, page, _goal = _signed_in(server, browser)
    real = goal_services.log_progress
    tries: list[str] = []

    def unavailable(*args, **kwargs):
        tries.append("refused")
        raise ServiceUnavailable()

    monkeypatch.setattr(goal_services, "log_progress", unavailable)
    context.set_offline(True)
    page.get_by_role("button", name="Did it", exact=True).click()
    expect(page.get_by_text(ONE_WAITING)).to_be_visible()
    context.set_offline(False)  # the send is tried at once, and the server fails
    for _ in range(50):
        if tries:
            break
        page.wait_for_timeout(100)
    assert tries == ["refused"]
    expect(page.get_by_text(ONE_WAITING)).to_be_visible()

    # Later, with no event and no navigation: the timer tries again, and again, backing off.
    page.clock.run_for(RETRY_FIRST_MS + 500)
    _wait_for(page, lambda: len(tries) == 2)
    page.clock.run_for(RETRY_FIRST_MS + 500)  # the second wait is twice as long: not yet
    page.wait_for_timeout(300)
    assert len(tries) == 2
    monkeypatch.setattr(goal_services, "log_progress", real)  # the server is back
    page.clock.run_for(RETRY_FIRST_MS)
    expect(page.get_by_text("1 entry sent. Thank you.")).to_be_visible()
    assert [e.outcome for e in _entries(server)] == ["did"]
    assert len(tries) == 2
    # Nothing waits: the timer has stopped (no request however long the page stays open).
    page.clock.run_for(20 * 60 * 1000)
    page.wait_for_timeout(300)
    assert len(_entries(server)) == 1
    context.close()


def test_an_entry_whose_send_dropped_on_the_way_is_queued_and_sent_on_the_timer(
    server: LiveServer, browser: Browser
):
    context, page, goal_id = _signed_in(server, browser)
    dropped: list[str] = []

    def drop(route: Route) -> None:
        dropped.append(route.request.url)
        route.abort("connectionreset")

    context.route(re.compile(rf"/goals/{goal_id}/progress$"), drop)
    # The phone thinks it is online; the signal drops while "Did it" is on its way.
    page.get_by_role("button", name="Did it", exact=True).click()
    expect(page.get_by_text(ONE_WAITING)).to_be_visible()
    assert len(dropped) == 1
    assert _entries(server) == []

    context.unroute(re.compile(rf"/goals/{goal_id}/progress$"))
    page.clock.run_for(RETRY_FIRST_MS + 500)
    expect(page.get_by_text("1 entry sent. Thank you.")).to_be_visible()
    expect(page.get_by_text(re.compile("waiting to send"))).to_have_count(0)
    assert [e.outcome for e in _entries(server)] == ["did"]
    context.close()


def _wait_for(page: Page, done, seconds: float = 10.0) -> None:
    """Wait (in real time) until done() is true."""
    for _ in range(int(seconds * 10)):
        if done():
            return
        page.wait_for_timeout(100)
    raise AssertionError("timed out")


def test_a_page_without_the_list_says_the_entries_went(server: LiveServer, browser: Browser):
    context, page, _goal = _signed_in(server, browser)
    page.goto(server.url + "/plan")  # kept on the phone for reading offline
    expect(page.get_by_role("heading", name="What we agreed")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="How did it go?")).to_be_visible()
    context.set_offline(True)
    page.get_by_role("button", name="Did it", exact=True).click()
    expect(page.get_by_text(ONE_WAITING)).to_be_visible()
    # Still offline, Pat opens the plan (the copy kept on the phone): the line under the
    # header counts the entry; back online, the same line says it went.
    page.goto(server.url + "/plan")
    note = page.get_by_role("status").filter(has_text=ONE_WAITING)
    expect(note).to_be_visible()
    context.set_offline(False)
    expect(page.get_by_role("status").filter(has_text="1 entry sent. Thank you.")).to_be_visible()
    assert [e.outcome for e in _entries(server)] == ["did"]
    context.close()
