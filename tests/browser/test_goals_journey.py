"""Goals in Chromium: a draft goal becomes the agreed plan with a clinician; progress logged
offline three times arrives exactly three times; the plan reads offline; sign-out clears it."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from tests.browser.conftest import LiveServer, axe_violations, screenshot, wait_until
from tests.browser.test_accessibility import _people, _sign_in_by_link
from webapp.goals.models import CarePlan, ProgressEntry
from webapp.planning.models import Goal


def _db(server: LiveServer) -> Session:
    return Session(server.app.extensions["db_engine"], expire_on_commit=False)


def test_a_draft_goal_becomes_the_agreed_plan_with_a_clinician(
    server: LiveServer, browser: Browser
):
    people = _people(server)
    pat = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    _sign_in_by_link(server, pat, "pat@example.org")
    pat.get_by_role("link", name="Goals", exact=True).click()
    pat.get_by_label("My goal, in my own words").fill("Walk to the park with my dog")
    pat.get_by_role("button", name="Save my goal").click()
    expect(pat.get_by_role("heading", name="Walk to the park with my dog")).to_be_visible()
    pat.goto(server.url + "/planning/summary")
    pat.get_by_role("button", name=re.compile("^Share with my care team.*Walk to the park")).click()
    expect(
        pat.get_by_role("button", name=re.compile("^Make private.*Walk to the park"))
    ).to_be_visible()

    priya = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _sign_in_by_link(server, priya, "priya@example.org")
    priya.goto(f"{server.url}/results/reviews/{people['review'].id}")
    priya.get_by_role("link", name="Agree the plan together").click()
    expect(priya.get_by_role("heading", name="Agree the plan with Pat Morgan")).to_be_visible()
    priya.get_by_text("Add a care team action").click()
    priya.get_by_label("What will the care team do?").fill("Tell Pat about the walking group")
    priya.get_by_label("When or how often (optional)").fill("This week")
    priya.get_by_role("button", name="Add the action").click()
    expect(priya.get_by_text("Care team action added.")).to_be_visible()
    priya.get_by_label(re.compile("^Your note")).fill("We look again in three months.")
    priya.get_by_role("button", name="Save the note").click()
    expect(priya.get_by_text("Note saved.")).to_be_visible()
    priya.get_by_role("button", name=re.compile("^Agree this goal")).click()
    expect(priya.get_by_text("You agreed this goal.")).to_be_visible()
    assert axe_violations(priya) == []
    screenshot(priya, "plan_review")

    pat.goto(server.url + "/goals")
    pat.get_by_role("link", name="My agreed plan").click()
    expect(pat.get_by_text("Priya Shah agreed it.")).to_be_visible()
    pat.get_by_role("button", name=re.compile("^I agree this goal")).click()
    expect(pat.get_by_text("Agreed. This goal is now part of your plan.")).to_be_visible()
    today = dt.date.today()
    expect(
        pat.get_by_text(re.compile(f"Agreed on .*{today.year} by Pat Morgan and Priya Shah"))
    ).to_be_visible()
    expect(pat.get_by_text("Tell Pat about the walking group")).to_be_visible()
    expect(pat.get_by_text("We look again in three months.")).to_be_visible()
    assert axe_violations(pat) == []
    screenshot(pat, "plan_mine")
    pat.get_by_role("link", name="Print view").click()
    expect(pat.get_by_role("heading", name="My care and support plan")).to_be_visible()
    with pat.expect_download() as download:
        pat.goto(server.url + "/plan")
        pat.get_by_role("link", name=re.compile("Download for another service")).click()
    assert download.value.suggested_filename == "my-care-plan.json"


def _agreed_goal(server: LiveServer, people: dict) -> int:
    now = dt.datetime.now(dt.UTC)
    with _db(server) as db:
        goal = Goal(
            patient_id=people["patient"].id,
            review_id=people["review"].id,
            text="Walk to the shop every weekday",
            shared=True,
            status="agreed",
            person_agreed_at=now,
            clinician_agreed_at=now,
            agreed_by_id=people["clinician"].id,
        )
        db.add(goal)
        db.add(
            CarePlan(
                review_id=people["review"].id,
                patient_id=people["patient"].id,
                clinician_id=people["clinician"].id,
                agreed_at=now,
            )
        )
        db.commit()
        return goal.id


def _controlled(page: Page) -> None:
    wait_until(page, "!!navigator.serviceWorker.controller")


def test_progress_logged_offline_arrives_once_and_sign_out_clears_the_phone(
    server: LiveServer, browser: Browser
):
    people = _people(server)
    goal_id = _agreed_goal(server, people)
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    _sign_in_by_link(server, page, "pat@example.org")
    _controlled(page)
    page.get_by_role("link", name="My plan").click()
    expect(page.get_by_role("heading", name="What we agreed")).to_be_visible()
    page.goto(f"{server.url}/goals/{goal_id}")
    expect(page.get_by_role("heading", name="How did it go?")).to_be_visible()

    context.set_offline(True)
    page.get_by_text("Add a note or a measurement (optional)").click()
    page.get_by_label("Note").fill("Rained, went anyway")
    page.get_by_role("button", name="Did it", exact=True).click()
    expect(page.get_by_text("1 entry is waiting to send.")).to_be_visible()
    expect(page.get_by_label("Note")).to_have_value("")
    page.get_by_role("button", name="Partly", exact=True).click()
    page.get_by_role("button", name="Not this time", exact=True).click()
    expect(page.get_by_text("3 entries are waiting to send.")).to_be_visible()
    expect(page.get_by_text(re.compile("Not this time \\(waiting to send\\)"))).to_be_visible()
    screenshot(page, "progress_offline")

    # Still offline: the plan page is read from the phone; the queue survives a reload.
    page.goto(server.url + "/plan")
    expect(page.get_by_role("heading", name="What we agreed")).to_be_visible()
    expect(page.get_by_text("Walk to the shop every weekday")).to_be_visible()
    page.goto(f"{server.url}/goals/{goal_id}")
    expect(page.get_by_text("3 entries are waiting to send.")).to_be_visible()

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_text("3 entries sent. Thank you.")).to_be_visible()
    expect(page.locator("#progress-entries li")).to_have_count(3)
    page.reload()
    expect(page.locator("#progress-entries li")).to_have_count(3)
    expect(page.get_by_text("Rained, went anyway")).to_be_visible()
    expect(
        page.get_by_text(re.compile("In the last 8 weeks you logged how it went 3 times"))
    ).to_be_visible()
    with _db(server) as db:
        entries = db.exec(select(ProgressEntry)).all()
    assert sorted(e.outcome for e in entries) == ["did", "not_this_time", "partly"]
    # Sending again (a replay) adds nothing.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    with _db(server) as db:
        assert len(db.exec(select(ProgressEntry)).all()) == 3

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    wait_until(page, "caches.has('personal-v1').then((kept) => !kept)")
    assert page.evaluate("localStorage.getItem('coproduce-outbox')") is None
    context.set_offline(True)
    page.goto(server.url + "/plan")
    expect(page.get_by_text("Walk to the shop every weekday")).to_have_count(0)
    context.close()


def test_did_it_on_the_home_page_keeps_the_place_and_the_focus(
    server: LiveServer, browser: Browser
):
    people = _people(server)
    goal_id = _agreed_goal(server, people)
    page = browser.new_context(viewport={"width": 360, "height": 640}).new_page()
    _sign_in_by_link(server, page, "pat@example.org")
    expect(page.get_by_role("heading", name="My goals: how did it go?")).to_be_visible()
    # By keyboard: focus the goal's "Did it" and press Enter.
    page.get_by_role("button", name="Did it", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/\?logged=[\w-]+#logged-{goal_id}$"))
    said = page.locator(f"#logged-{goal_id}")
    expect(said).to_have_text("Thank you. It is logged.")
    expect(said).to_be_focused()
    expect(said).to_be_in_viewport()
    with _db(server) as db:
        assert len(db.exec(select(ProgressEntry)).all()) == 1


def test_offline_the_home_page_reads_and_try_again_loads_the_page_wanted(
    server: LiveServer, browser: Browser
):
    people = _people(server)
    _agreed_goal(server, people)
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    _sign_in_by_link(server, page, "pat@example.org")
    _controlled(page)
    page.reload()  # the service worker keeps the person's home as it passes
    expect(page.get_by_role("heading", name="My goals: how did it go?")).to_be_visible()
    context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="My goals: how did it go?")).to_be_visible()
    # A link to a page never opened: the offline page, at the address the person wanted.
    page.get_by_role("link", name="Your account", exact=True).click()
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page).to_have_url(f"{server.url}/account")
    context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    expect(page).to_have_url(f"{server.url}/account")
