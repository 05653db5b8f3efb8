"""Preparing for a review in Chromium: the conversation, the safety step, a changed answer,
sharing two of three things, and the care team seeing the review as prepared."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.browser.test_accessibility import _people, _sign_in_by_link


def _send(page: Page, words: str | None = None) -> None:
    if words is not None:
        page.get_by_role("textbox", name=re.compile(".")).fill(words)
    page.get_by_role("button", name="Send").click()


def _skip(page: Page, question: str) -> None:
    _question(page, question)
    page.get_by_role("button", name="Skip", exact=True).click()


def _question(page: Page, words: str) -> None:
    expect(page.locator("#waiting-question")).to_contain_text(words)


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_a_patient_prepares_for_their_review(server: LiveServer, browser: Browser, javascript):
    _people(server)  # Pat, with a review in 9 days and released results (HbA1c among them)
    context = browser.new_context(
        java_script_enabled=javascript,
        viewport={"width": 1280 if javascript else 360, "height": 900},
    )
    page = context.new_page()
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name="Prepare", exact=True).click()
    screenshot(page, "planning_index")
    page.get_by_role("button", name="Start Preparing for my review").click()
    expect(page.get_by_text("Your review is on")).to_be_visible()
    if javascript:
        page.evaluate("window.stillHere = true")  # gone if any turn reloads the page

    _question(page, "what matters most to you")
    _send(page, "My grandchildren")
    _question(page, "how are things going")
    ruler = page.get_by_role("slider")
    if javascript:
        expect(ruler).to_be_focused()
    ruler.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # from the middle (5) to 3, by keyboard
    if javascript:
        expect(page.locator(".ruler-value")).to_have_text("3")  # the number shown as it moves
        screenshot(page, "planning_ruler")
    _send(page)
    expect(page.get_by_text("3 / 10")).to_be_visible()

    # Free text with crisis language: the safety step, which one tap cannot dismiss.
    _question(page, "the hardest part?")
    _send(page, "Some days I want to end it all")
    safety = page.get_by_role("region", name="Before we go on: are you safe right now?")
    expect(safety).to_be_visible()
    expect(safety).to_contain_text("Samaritans, 116 123")
    expect(page.get_by_role("button", name="Send")).to_have_count(0)
    if javascript:
        expect(page.get_by_role("heading", name=re.compile("are you safe"))).to_be_focused()
        expect(page.locator("#chat-announce")).to_have_text(re.compile("are you safe right now"))
    assert axe_violations(page) == [] if javascript else True
    screenshot(page, f"planning_safety_{'js' if javascript else 'no_js'}")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Choose one of the answers, then Confirm.")).to_be_visible()
    page.get_by_label("I am safe right now, and I would like to carry on").check()
    page.get_by_role("button", name="Confirm").click()

    # Results, a quick reply, and a goal with the MI follow-ups.
    _question(page, "Your HbA1c was")
    page.get_by_role("button", name="Not this time").click()
    _question(page, "something you would like to change")
    page.get_by_role("button", name="Yes, there is").click()
    _question(page, "In your own words, what would you like to do?")
    _send(page, "Walk to the shop every weekday")
    _question(page, "Why does that matter to you?")
    _send(page, "To keep up with the grandchildren")
    _question(page, "How important")
    _send(page)  # 5
    _question(page, "You chose 5, not a lower number.")
    _skip(page, "What makes it that important?")
    _question(page, "How confident")
    _send(page)
    _skip(page, "up to one more?")
    _skip(page, "If ..., then I will ...")
    _skip(page, "support that would help you?")
    _question(page, "ask your care team?")
    _send(page, "Can I see the dietitian?")
    expect(page.get_by_text("That is the end of this conversation.")).to_be_visible()

    # Change an earlier answer: the conversation re-runs from there, keeping what still fits.
    page.get_by_role("button", name="Change my answer: Not this time").click()
    page.get_by_role("button", name="Yes, I'd like to").click()
    _question(page, "What would you like to ask or say about your HbA1c?")
    _send(page, "Why has it gone up?")
    expect(page.get_by_role("region", name="Changes to food and activity")).to_contain_text(
        "What it involves"
    )
    page.get_by_role("button", name="Not sure yet").click()
    _skip(page, "what matters most to you?")
    expect(page.get_by_text("That is the end of this conversation.")).to_be_visible()
    expect(page.get_by_text("Can I see the dietitian?")).to_be_visible()  # kept
    if javascript:
        assert page.evaluate("window.stillHere") is True
        assert axe_violations(page) == []
    screenshot(page, f"planning_conversation_{'js' if javascript else 'no_js'}")

    # The summary: share two of three things, keep one private, say "ready".
    page.get_by_role("link", name="See what you will take to your review").click()
    expect(page.get_by_text("Everything here is private until you share it.")).to_be_visible()
    page.get_by_role(
        "button", name=re.compile(r"^Share with my care team\W+My grandchildren")
    ).click()
    expect(page.get_by_text("Shared with your care team.")).to_be_visible()
    page.get_by_role(
        "button", name=re.compile(r"^Share with my care team\W+Walk to the shop")
    ).click()
    expect(page.get_by_role("button", name=re.compile("^Make private"))).to_have_count(2)
    expect(
        page.get_by_role(
            "button", name=re.compile(r"^Share with my care team\W+Why has it gone up")
        )
    ).to_be_visible()
    if javascript:
        assert axe_violations(page) == []
    screenshot(page, f"planning_summary_{'js' if javascript else 'no_js'}")
    page.get_by_role("button", name="I am ready for my review").click()
    expect(page.get_by_text("Your review is marked as prepared.")).to_be_visible()
    expect(page.get_by_text("Your care team will see the 2 things you shared")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile("/account/signin"))

    # The care team sees the review as prepared, and only what was shared.
    _sign_in_by_link(server, page, "priya@example.org")
    page.get_by_role("link", name="Reviews").first.click()
    row = page.get_by_role("row", name=re.compile("Pat Morgan"))
    expect(row).to_contain_text("Prepared")
    row.get_by_role("link", name="Results for Pat Morgan").click()
    shared = page.get_by_role("region", name="What Pat shared for this review")
    expect(shared).to_contain_text("My grandchildren")
    expect(shared).to_contain_text("Walk to the shop every weekday")
    expect(shared).not_to_contain_text("Why has it gone up?")
    context.close()
