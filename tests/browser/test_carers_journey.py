"""A carer in Chromium: Pat invites Sam with two scopes; Sam accepts, acts for Pat under a
banner, logs progress (said as Sam's, for Pat) and cannot open what is outside the scopes;
Pat stops it and Sam's next click is refused; Pat sees what Sam did."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect
from sqlmodel import Session, select

from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.browser.test_accessibility import _people, _sign_in_by_link
from tests.conftest import add_person
from webapp.goals.models import ProgressEntry
from webapp.planning.models import Goal


def _db(server: LiveServer) -> Session:
    return Session(server.app.extensions["db_engine"], expire_on_commit=False)


def test_a_carer_helps_with_two_scopes_until_the_person_stops_it(
    server: LiveServer, browser: Browser
):
    people = _people(server)
    with _db(server) as db:
        shared = Goal(patient_id=people["patient"].id, text="Walk to the park", shared=True)
        private = Goal(patient_id=people["patient"].id, text="Talk to my sister")
        db.add_all([shared, private])
        db.commit()
        sam = add_person(db, "Sam Lee", "sam@example.org")

    # Pat invites Sam to help with results and goals.
    pat = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    _sign_in_by_link(server, pat, "pat@example.org")
    pat.get_by_role("link", name="Carers", exact=True).click()
    pat.get_by_label("Their name").fill("Sam Lee")
    pat.get_by_label("Test results").check()
    pat.get_by_label(re.compile("^Goals and progress")).check()
    pat.get_by_role("button", name="Create the invitation").click()
    expect(pat.get_by_role("heading", name="Invitation for Sam Lee")).to_be_visible()
    expect(pat.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    link = pat.get_by_role("link", name=re.compile("carers.accept")).get_attribute("href")
    assert axe_violations(pat) == []
    screenshot(pat, "carers_invitation")

    # Sam accepts with their own account and starts helping.
    page = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    _sign_in_by_link(server, page, "sam@example.org")
    page.goto(link)
    expect(page.get_by_role("heading", name="Help Pat Morgan")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Accept as Sam Lee").click()
    expect(page.get_by_text("You can now help Pat Morgan.")).to_be_visible()
    page.get_by_role("button", name="Help Pat Morgan").click()
    banner = page.get_by_role("region", name="Whose record")
    expect(banner).to_contain_text("You are helping Pat Morgan")
    expect(page.get_by_role("heading", name="Helping Pat Morgan")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "carers_acting_home")

    # Only what Pat allowed: results and shared goals; never the private goal, nor groups.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Prepare")).to_have_count(0)
    expect(nav.get_by_role("link", name="Groups")).to_have_count(0)
    nav.get_by_role("link", name="Goals", exact=True).click()
    # The home page links the same goal: wait for each page before acting on it.
    expect(page).to_have_url(re.compile(r"/goals$"))
    expect(page.get_by_role("link", name="Walk to the park")).to_be_visible()
    expect(page.get_by_text("Talk to my sister")).to_have_count(0)
    page.get_by_role("link", name="Walk to the park").click()
    expect(page).to_have_url(re.compile(rf"/goals/{shared.id}$"))
    page.get_by_role("button", name="Did it").first.click()
    expect(page.get_by_text(re.compile("logged by you, for Pat Morgan"))).to_be_visible()
    expect(banner).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "carers_acting_goal")
    for outside in ("/planning", "/groups", f"/goals/{private.id}"):
        response = page.goto(server.url + outside)
        assert response is not None and response.status == 404, outside
    with _db(server) as db:
        entry = db.exec(select(ProgressEntry)).one()
        assert entry.patient_id == people["patient"].id and entry.typed_by_id == sam.id
    page.goto(server.url + "/goals")

    # Pat sees the entry as Sam's for Pat, and stops Sam's access.
    pat.goto(f"{server.url}/goals/{shared.id}")
    expect(pat.get_by_text(re.compile("logged by Sam Lee for Pat Morgan"))).to_be_visible()
    pat.goto(server.url + "/account")
    pat.get_by_role("main").get_by_role("link", name="Carers", exact=True).click()
    assert axe_violations(pat) == []
    screenshot(pat, "carers_index")
    pat.get_by_role("button", name=re.compile("^Stop access.*Sam Lee")).click()
    expect(pat.get_by_text("Sam Lee can no longer see or change your record.")).to_be_visible()

    # Sam's next click is refused, and Sam is back in their own account.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Results").click()
    expect(
        page.get_by_text(re.compile("Your permission to help with that record has ended"))
    ).to_be_visible()
    expect(page.get_by_role("region", name="Whose record")).to_have_count(0)
    expect(page.get_by_role("button", name="Help Pat Morgan")).to_have_count(0)

    # Pat sees what Sam did in "who has seen my record".
    pat.goto(server.url + "/account/my-data")
    activity = pat.get_by_role("main")
    expect(activity).to_contain_text("Sam Lee")
    expect(activity).to_contain_text("your carer")
    expect(activity).to_contain_text("changed your goals or logged progress")
    expect(activity).to_contain_text("looked at your goals and progress")
    assert axe_violations(pat) == []


def test_a_carer_helps_without_javascript(server: LiveServer, browser: Browser):
    people = _people(server)
    with _db(server) as db:
        goal = Goal(patient_id=people["patient"].id, text="Walk to the park", shared=True)
        db.add(goal)
        db.commit()
        add_person(db, "Sam Lee", "sam@example.org")
    pat = browser.new_context(java_script_enabled=False).new_page()
    _sign_in_by_link(server, pat, "pat@example.org")
    pat.goto(server.url + "/carers")
    pat.get_by_label("Their name").fill("Sam Lee")
    pat.get_by_label(re.compile("^Goals and progress")).check()
    pat.get_by_role("button", name="Create the invitation").click()
    code = pat.locator("code.big-code").inner_text()

    sam = browser.new_context(java_script_enabled=False).new_page()
    _sign_in_by_link(server, sam, "sam@example.org")
    sam.goto(server.url + "/carers/code")
    sam.get_by_label("Code").fill(code.lower())
    sam.get_by_role("button", name="Continue").click()
    sam.get_by_role("button", name="Accept as Sam Lee").click()
    sam.get_by_role("button", name="Help Pat Morgan").click()
    expect(sam.get_by_role("region", name="Whose record")).to_contain_text("Pat Morgan")
    sam.get_by_role("link", name="Walk to the park").click()
    expect(sam).to_have_url(re.compile(r"/goals/\d+$"))
    sam.get_by_role("button", name="Did it").first.click()
    expect(sam.get_by_text(re.compile("logged by you, for Pat Morgan"))).to_be_visible()
    sam.get_by_role("button", name="Stop helping Pat Morgan").click()
    expect(sam.get_by_text("You are using your own account again.")).to_be_visible()
    expect(sam.get_by_role("heading", name="Hello, Sam")).to_be_visible()
