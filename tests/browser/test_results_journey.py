"""The results journey in Chromium: staff import, hold back and release; the person reads."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.browser.test_accessibility import _sign_in_by_link
from tests.conftest import add_person
from tests.results.helpers import EXAMPLES
from webapp.accounts.models import Practice, Role


def test_staff_release_results_and_the_person_reads_and_asks(server: LiveServer, page: Page):
    with Session(server.app.extensions["db_engine"], expire_on_commit=False) as db:
        practice = Practice(name="Riverside Health Centre")
        db.add(practice)
        db.commit()
        add_person(db, "Pat Morgan", "pat@example.org", (practice, Role.PATIENT))
        add_person(db, "Priya Shah", "priya@example.org", (practice, Role.CLINICIAN))

    # Staff plan a review.
    _sign_in_by_link(server, page, "priya@example.org")
    page.get_by_role("link", name="Reviews").first.click()
    page.get_by_label("Find a patient").fill("pat")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Plan a review for Pat Morgan").click()
    day = dt.date.today() + dt.timedelta(days=12)
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Time").fill("10:30")
    page.get_by_role("button", name="Plan the review").click()
    expect(page.get_by_text("Review planned.")).to_be_visible()

    # Import the lipid panel bundle for Pat, hold LDL back, and release.
    page.get_by_role("link", name="Results for Pat Morgan").click()
    page.get_by_label("File to import").set_input_files(
        str(EXAMPLES / "diagnosticreport-example-lipids.json")
    )
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported 4 results for 1 person.")).to_be_visible()
    page.get_by_text(re.compile("^Hold back LDL cholesterol")).click()
    page.get_by_label(
        "Note about LDL cholesterol for the care team (the person never sees it)"
    ).fill("Talk about statins first")
    page.get_by_role("button", name="Hold back this result").click()
    expect(page.get_by_text("That result is held back.")).to_be_visible()
    expect(page.get_by_text("3 results are ready to send.")).to_be_visible()
    page.get_by_role("button", name="Release results now").click()
    expect(page.get_by_text("Released 3 results. The person has been told.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile("/account/signin"))

    # The person signs in, sees the notification and reads their results.
    _sign_in_by_link(server, page, "pat@example.org")
    news = page.get_by_role("region", name="New for you")
    expect(news).to_contain_text(f"Your results for your review on {day.day}")
    news.get_by_role("link").click()
    expect(page.get_by_role("heading", name="My results")).to_be_visible()
    expect(page.get_by_role("heading", name="Total cholesterol")).to_be_visible()
    card = page.get_by_role("region", name="Total cholesterol")
    expect(card.get_by_text("6.3 mmol/L")).to_be_visible()
    expect(card).to_contain_text("This is your first reading of this test here.")
    expect(page.get_by_text("LDL cholesterol")).to_have_count(0)  # held back: not even named
    assert axe_violations(page) == []
    screenshot(page, "journey_results")

    page.get_by_role("link", name="What Total cholesterol means").click()
    expect(page.get_by_role("heading", name="What your number means")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name=re.compile("^Ask about this at my review")).click()
    added = page.get_by_text("Added to your list for your review")
    expect(added).to_be_visible()
    expect(added).to_be_focused()  # the button it replaced had focus; the answer takes it
    screenshot(page, "journey_explanation")
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_text("My Total cholesterol result")).to_be_visible()


def test_reading_and_asking_with_javascript_off(server: LiveServer, browser):
    from tests.browser.test_accessibility import _people

    _people(server)  # Pat with five years of released results
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name="My results").first.click()
    card = page.get_by_role("region", name="HbA1c", exact=True)
    expect(card).to_contain_text("Compared with last time:")
    card.get_by_text("Latest 5 readings").click()  # <details> opens without script
    expect(card.get_by_role("table")).to_be_visible()
    card.get_by_role("button", name=re.compile("^Ask about this at my review")).click()
    expect(page.get_by_text("Added to your list for your review.")).to_be_visible()
    expect(page.get_by_role("region", name="HbA1c", exact=True)).to_contain_text(
        "On your list for your review"
    )
    page.get_by_role("link", name="My results letter (to print)").click()
    expect(page.get_by_role("heading", name="Your results before your review")).to_be_visible()
    expect(page.get_by_role("button", name="Print this letter")).to_be_hidden()
    context.close()


def _no_sideways_scroll(page: Page) -> None:
    """The page fits the 360 px screen: nothing scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_import_page_fits_a_360_px_screen(server: LiveServer, page: Page, tmp_path):
    with Session(server.app.extensions["db_engine"], expire_on_commit=False) as db:
        practice = Practice(name="Riverside Health Centre")
        db.add(practice)
        db.commit()
        add_person(db, "Priya Shah", "priya@example.org", (practice, Role.CLINICIAN))
    _sign_in_by_link(server, page, "priya@example.org")
    page.get_by_role("link", name="Reviews").first.click()
    page.get_by_role("link", name="Import results from a file").click()
    expect(page.get_by_role("heading", name="Import results", exact=True)).to_be_visible()
    assert page.viewport_size["width"] == 360
    _no_sideways_scroll(page)
    screenshot(page, "results_import")

    # A file with long unbroken words in it: the problems listed fit too.
    bad = tmp_path / "results-from-the-laboratory-information-system-2026-11-02.csv"
    bad.write_text(
        "nhs_number,test,value,unit,date_taken,reference_range\n"
        f"9434765919,HbA1c,48,{'millimolespermole' * 6},2026-11-02,\n"
    )
    page.get_by_label("File to import").set_input_files(str(bad))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Nothing was imported")).to_be_visible()
    expect(page.get_by_text("millimolespermole" * 6)).to_be_visible()
    _no_sideways_scroll(page)
    assert axe_violations(page) == []
    screenshot(page, "results_import_problems")
