"""A year and a half of care in Chromium, with the app's clock moved through three reviews:
Pat and Dr Shah agree a plan, Pat logs progress and marks goals achieved, stopped and
changed, both look back before each review, and they agree again. Walking is carried over
twice and never vanishes from the plan; every page is checked with axe on the way."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError
from sqlmodel import Session

from tests.browser.conftest import LiveServer, axe_violations, screenshot, wait_until
from tests.browser.test_accessibility import _sign_in_by_link
from tests.conftest import add_person
from webapp.accounts.models import Person, Practice, Role
from webapp.accounts.services import load_actor
from webapp.planning.models import Goal
from webapp.reviews import services as reviews

UTC = dt.UTC
R1 = dt.datetime(2027, 1, 15, 10, tzinfo=UTC)
R2 = dt.datetime(2027, 7, 15, 10, tzinfo=UTC)
R3 = dt.datetime(2028, 1, 14, 10, tzinfo=UTC)
WALK = "Walk to the shop every weekday"
SUGAR = "No sugar in my tea"
SLEEP = "In bed by eleven"
SWIM = "Swim once a week"
AQUA = "Aqua class on Tuesdays"


def _db(server: LiveServer) -> Session:
    return Session(server.app.extensions["db_engine"], expire_on_commit=False)


def _book(server: LiveServer, when: dt.datetime, *drafts: str) -> int:
    """Book Pat's review with Dr Shah, with goals Pat has drafted and shared for it."""
    with server.app.app_context(), _db(server) as db:
        priya = load_actor(db, db.get(Person, server.ctx["priya"]))
        review = reviews.create_review(
            db, priya, server.ctx["practice"], server.ctx["pat"], when, priya.id
        )
        for words in drafts:
            db.add(Goal(patient_id=server.ctx["pat"], review_id=review.id, text=words, shared=True))
        db.commit()
        return review.id


def _checked(page: Page, name: str) -> None:
    assert axe_violations(page) == [], name
    screenshot(page, name)


def _signed_in(browser: Browser, server: LiveServer, email: str, width: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    _sign_in_by_link(server, page, email)
    # The offline worker takes the page over once; wait, so no navigation races it.
    wait_until(page, "!!navigator.serviceWorker.controller")
    return page


def _agree(server: LiveServer, priya: Page, pat: Page, review_id: int, *goals: str) -> None:
    _goto(priya, f"{server.url}/reviews/{review_id}/plan")
    for words in goals:
        _submit(priya, priya.get_by_role("button", name=re.compile(f"^Agree this goal.*{words}")))
        expect(priya.get_by_text("You agreed this goal.")).to_be_visible()
    _goto(pat, server.url + "/plan")
    for words in goals:
        _submit(pat, pat.get_by_role("button", name=re.compile(f"^I agree this goal.*{words}")))
        expect(pat.get_by_text("Agreed. This goal is now part of your plan.")).to_be_visible()


def _mark(server: LiveServer, pat: Page, words: str, status: str) -> None:
    _goto(pat, server.url + "/goals")
    pat.get_by_role("link", name=words).first.click()
    pat.get_by_label(status).check()
    _submit(
        pat,
        pat.get_by_role("region", name="How is this goal now?").get_by_role("button", name="Save"),
    )
    expect(pat.get_by_role("heading", name=words)).to_be_visible()


def _look_back(server: LiveServer, pat: Page, scores: dict[str, str]) -> None:
    _goto(pat, server.url + "/plan/look-back")
    for words, answer in scores.items():
        card = pat.get_by_role("region", name=words)
        card.get_by_label(answer).check()
        _submit(pat, card.get_by_role("button", name=re.compile("^Save")))
        expect(pat.get_by_text("Saved. Your care team sees it at your review.")).to_be_visible()


def _submit(page: Page, button) -> None:
    """Press a form's button and wait for the page it leads to (the page before may show the
    same confirmation, so waiting for the words alone is not enough)."""
    with page.expect_navigation():
        button.click()


def _goto(page: Page, url: str) -> None:
    """Go to a page once the one before has settled (a redirect after a form, followed by
    htmx, can still be finishing and would cancel a navigation started at that moment)."""
    page.wait_for_load_state("load")
    try:
        page.goto(url)
    except PlaywrightError as error:
        if "ERR_ABORTED" not in str(error):
            raise
        page.wait_for_load_state("load")
        page.goto(url)


def _plan_goals(server: LiveServer, pat: Page) -> list[str]:
    _goto(pat, server.url + "/plan")
    expect(pat.get_by_role("heading", name="What we agreed")).to_be_visible()
    return pat.locator(".plan-goal h3").all_inner_texts()


def test_three_reviews_in_a_year_and_a_half(server: LiveServer, browser: Browser):
    with time_machine.travel(dt.datetime(2027, 1, 5, 9, tzinfo=UTC), tick=True) as clock:
        with server.app.app_context(), _db(server) as db:
            practice = Practice(name="Riverside Health Centre")
            db.add(practice)
            db.commit()
            pat = add_person(db, "Pat Morgan", "pat@example.org", (practice, Role.PATIENT))
            priya = add_person(db, "Priya Shah", "priya@example.org", (practice, Role.CLINICIAN))
            server.ctx = {"practice": practice.id, "pat": pat.id, "priya": priya.id}
        first = _book(server, R1, WALK, SUGAR, SLEEP)

        # The first review: three goals agreed.
        clock.move_to(R1 + dt.timedelta(minutes=15))
        priya_page = _signed_in(browser, server, "priya@example.org", 1280)
        pat_page = _signed_in(browser, server, "pat@example.org", 360)
        _agree(server, priya_page, pat_page, first, WALK, SUGAR, SLEEP)
        assert _plan_goals(server, pat_page) == [WALK, SUGAR, SLEEP]
        _checked(pat_page, "year_plan_after_first_review")

        # Spring: "Did it" on the home page, sugar achieved, sleep stopped.
        clock.move_to(dt.datetime(2027, 3, 2, 8, tzinfo=UTC))
        pat_page = _signed_in(browser, server, "pat@example.org", 360)
        pat_page.get_by_role("button", name="Did it", exact=True).first.click()
        expect(pat_page.get_by_text("Thank you. It is logged.")).to_be_visible()
        _mark(server, pat_page, SUGAR, "I achieved it")
        clock.move_to(dt.datetime(2027, 5, 3, 8, tzinfo=UTC))
        pat_page = _signed_in(browser, server, "pat@example.org", 360)
        _mark(server, pat_page, SLEEP, "I stopped it")
        second = _book(server, R2, SWIM)

        # Before the second review: all three looked back on, the finished ones included.
        clock.move_to(dt.datetime(2027, 7, 1, 8, tzinfo=UTC))
        pat_page = _signed_in(browser, server, "pat@example.org", 360)
        _look_back(
            server,
            pat_page,
            {
                WALK: "A bit more than I expected",
                SUGAR: "Much more than I expected",
                SLEEP: "A bit less than I expected",
            },
        )
        _checked(pat_page, "year_look_back_before_second_review")

        # At the second review: Dr Shah sees what was carried over and what changed.
        clock.move_to(R2 + dt.timedelta(minutes=10))
        priya_page = _signed_in(browser, server, "priya@example.org", 1280)
        priya_page.goto(f"{server.url}/reviews/{second}/plan")
        carried = priya_page.get_by_role("region", name="Carried over from earlier reviews")
        expect(carried.get_by_text(WALK, exact=True)).to_be_visible()
        expect(carried.get_by_role("heading", name="Changed since the last review")).to_be_visible()
        expect(carried.get_by_text(SUGAR, exact=True)).to_be_visible()
        earlier = priya_page.get_by_role("region", name="Looking back at the last plan")
        expect(earlier.get_by_text("Pat: A bit more than I expected (+1).")).to_be_visible()
        scoring = earlier.locator("details").filter(has_text=WALK)
        scoring.locator("summary").click()
        scoring.get_by_label("A bit more than I expected").check()
        _submit(priya_page, scoring.get_by_role("button", name="Save your score"))
        expect(priya_page.get_by_text("Your look back is saved.")).to_be_visible()
        _checked(priya_page, "year_second_review_plan")
        pat_page = _signed_in(browser, server, "pat@example.org", 360)
        _agree(server, priya_page, pat_page, second, SWIM)
        # Until the review is behind Pat, the goals that ended since the last one still show,
        # marked as such; walking is carried over.
        assert _plan_goals(server, pat_page) == [WALK, SUGAR, SLEEP, SWIM]
        expect(pat_page.locator(".plan-goal").filter(has_text=SUGAR)).to_contain_text("Achieved")
        expect(pat_page.locator(".plan-goal").filter(has_text=SLEEP)).to_contain_text("Stopped")
        expect(
            pat_page.get_by_text(re.compile("carried over from the review on 15 January 2027"))
        ).to_be_visible()
        _checked(pat_page, "year_plan_after_second_review")

        # Autumn: the pool closes, so swimming is changed. The third review.
        clock.move_to(dt.datetime(2027, 10, 4, 8, tzinfo=UTC))
        pat_page = _signed_in(browser, server, "pat@example.org", 360)
        _mark(server, pat_page, SWIM, "I changed it")
        third = _book(server, R3, AQUA)
        clock.move_to(dt.datetime(2028, 1, 3, 8, tzinfo=UTC))
        pat_page = _signed_in(browser, server, "pat@example.org", 360)
        _look_back(
            server,
            pat_page,
            {WALK: "Much more than I expected", SWIM: "Much less than I expected"},
        )
        assert pat_page.locator("section.card h2.goal-words").all_inner_texts() == [WALK, SWIM]
        clock.move_to(R3 + dt.timedelta(minutes=10))
        priya_page = _signed_in(browser, server, "priya@example.org", 1280)
        priya_page.goto(f"{server.url}/reviews/{third}/plan")
        earlier = priya_page.get_by_role("region", name="Looking back at the last plan")
        expect(earlier.get_by_text("Pat: Much more than I expected (+2).")).to_be_visible()
        expect(earlier.get_by_text("Pat: Much less than I expected (-2).")).to_be_visible()
        _checked(priya_page, "year_third_review_plan")
        pat_page = _signed_in(browser, server, "pat@example.org", 360)
        _agree(server, priya_page, pat_page, third, AQUA)

        # After the third review: walking carried over twice, still in the plan.
        clock.move_to(dt.datetime(2028, 2, 1, 8, tzinfo=UTC))
        pat_page = _signed_in(browser, server, "pat@example.org", 360)
        assert _plan_goals(server, pat_page) == [WALK, AQUA]
        _checked(pat_page, "year_plan_after_third_review")
        # No fourth review yet: looking back says it waits for one, naming both goals.
        pat_page.goto(server.url + "/plan/look-back")
        waiting = pat_page.get_by_role("region", name="Waiting for your next review to be booked")
        assert waiting.locator("li").all_inner_texts() == [WALK, AQUA]
        _checked(pat_page, "year_look_back_after_third_review")
        _book(server, dt.datetime(2028, 7, 14, 10, tzinfo=UTC))
        pat_page.goto(server.url + "/plan/look-back")
        assert pat_page.locator("section.card h2.goal-words").all_inner_texts() == [WALK, AQUA]
