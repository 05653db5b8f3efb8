"""Asking the care team to get in touch, in Chromium: from a group's safety step (the post
kept as it was) and from the planning safety step, then the clinician's worklist showing the
name and nothing written, and acknowledging it. axe-clean on each page."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect
from sqlmodel import Session

from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.browser.test_accessibility import _people, _sign_in_by_link
from webapp.accounts.services import load_actor
from webapp.content import get_content
from webapp.groups import services as groups

WORDS = "Some days I want to end it all"
BUTTON = "I'd like my care team to know"


def test_a_person_asks_their_care_team_and_the_clinician_acknowledges(
    server: LiveServer, browser: Browser
):
    people = _people(server)
    with (
        server.app.test_request_context(),
        Session(server.app.extensions["db_engine"], expire_on_commit=False) as db,
    ):
        groups.sync_groups(db, get_content().groups)
        groups.set_display_name(db, load_actor(db, people["patient"]), "Pat M")
        groups.set_role(db, "living-with-diabetes", "pat@example.org", "member")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _sign_in_by_link(server, page, "pat@example.org")

    # In a group: the safety step before posting, with the choice; the post is kept.
    page.goto(server.url + "/groups/living-with-diabetes/threads/new")
    page.get_by_label("Title").fill("A hard week")
    page.get_by_label(re.compile("^Your post")).fill(WORDS)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("are you safe right now"))).to_be_visible()
    page.get_by_role("button", name=BUTTON).click()
    told = page.get_by_role("heading", name="We have told your care team")
    expect(told).to_be_visible()
    expect(told).to_be_focused()
    again = page.locator("#care-team-told")  # the help lines again, with the confirmation
    expect(again).to_contain_text("This is not an emergency route.")
    expect(again.get_by_role("link", name=re.compile("Samaritans"))).to_have_attribute(
        "href", "tel:116123"
    )
    expect(page.get_by_label(re.compile("^Your post"))).to_have_value(WORDS)
    assert axe_violations(page) == []
    screenshot(page, "care_team_told_groups")

    # In planning: the same choice on the safety step says it is already with the team.
    page.goto(server.url + "/planning")
    page.get_by_role("button", name=re.compile("^Start A quick check-in")).click()
    page.get_by_role("slider").focus()
    page.keyboard.press("Home")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#waiting-question")).to_contain_text("hardest")
    page.get_by_role("textbox", name=re.compile(".")).fill(WORDS)
    page.get_by_role("button", name="Send").click()
    page.get_by_role("button", name=BUTTON).click()
    already = page.get_by_role("heading", name="Your care team already knows")
    expect(already).to_be_focused()
    expect(page.get_by_text("You do not need to ask again")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "care_team_told_planning")

    # The clinician's worklist: the name, when, and nothing of what was written.
    page.context.clear_cookies()
    _sign_in_by_link(server, page, "priya@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews").click()
    worklist = page.get_by_role("region", name="Contact this person")
    expect(worklist).to_contain_text("Pat Morgan")
    expect(page.get_by_text(WORDS)).to_have_count(0)
    assert axe_violations(page) == []
    screenshot(page, "care_team_worklist")
    page.get_by_role("button", name=re.compile("^I.ve contacted them.*Pat Morgan")).click()
    expect(page.get_by_text("It is off the list.")).to_be_visible()
    expect(page.get_by_role("region", name="Contact this person")).to_have_count(0)
