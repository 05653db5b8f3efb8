"""The time bank in Chromium: Cal asks to join and a coordinator welcomes him with a private
note; Ann offers help; Ben finds it, proposes an hour and a half, Ann accepts, both confirm
and the hours move. Cal's exchange with Ann ends with different hours; the coordinator
settles it with a reason. Ann's statement, the CSV and the coordinator's report agree."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.browser.test_accessibility import _sign_in_by_link
from tests.conftest import add_person
from webapp.accounts import services
from webapp.content import get_content
from webapp.timebank import services as timebank

BANK = "/timebank/riverside"


def _world(server: LiveServer) -> None:
    engine = server.app.extensions["db_engine"]
    with server.app.test_request_context(), Session(engine, expire_on_commit=False) as db:
        timebank.sync_banks(db, get_content().banks)
        cora = add_person(db, "Cora Lee", "cora@example.org")
        timebank.set_role(db, "riverside", cora.id, "Cora", "coordinator")
        bank = get_content().banks["riverside"]
        for name, email in (("Ann Jones", "ann@example.org"), ("Ben Ode", "ben@example.org")):
            actor = services.load_actor(db, add_person(db, name, email))
            asked = timebank.ask_to_join(
                db, actor, "riverside", {"display_name": name.split()[0], "area": "Riverside"}, bank
            )
            timebank.decide_request(
                db, services.load_actor(db, cora), "riverside", asked.id, True, asked.version
            )
        add_person(db, "Cal Moss", "cal@example.org")


def _page(browser: Browser, server: LiveServer, email: str, width: int = 360) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
    _sign_in_by_link(server, page, email)
    return page


def _open_exchange(page: Page, server: LiveServer, title: str) -> None:
    page.goto(f"{server.url}{BANK}/exchanges")
    page.get_by_role("link", name=title).first.click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def _confirm(page: Page, hours: str) -> None:
    page.get_by_label("Hours actually given").fill(hours)
    page.get_by_role("button", name="Confirm hours").click()


def test_two_members_trade_a_third_disagrees_and_a_coordinator_settles(
    server: LiveServer, browser: Browser
):
    _world(server)

    # Cal asks to join; Cora welcomes him with a private note.
    cal = _page(browser, server, "cal@example.org")
    cal.goto(server.url + "/timebank")
    cal.get_by_role("link", name="Riverside time bank").click()
    cal.get_by_label("The name other members know you by").fill("Cal")
    cal.get_by_role("button", name="Ask to join").click()
    expect(cal.get_by_text("Choose your area from the list").first).to_be_visible()
    expect(cal.get_by_label("The name other members know you by")).to_have_value("Cal")
    cal.get_by_label("Your area").select_option("Northfield")
    cal.get_by_label("What you could offer (optional)").fill("Help with computers")
    cal.get_by_role("button", name="Ask to join").click()
    expect(cal.get_by_text("A coordinator will look at your request soon").first).to_be_visible()

    cora = _page(browser, server, "cora@example.org", 1280)
    cora.goto(f"{server.url}{BANK}/coordinate")
    expect(cora.get_by_role("heading", name="Cal")).to_be_visible()
    assert axe_violations(cora) == []
    cora.get_by_label("Private note for coordinators (optional)").fill("Met at the library")
    cora.get_by_role("button", name="Approve Cal").click()
    expect(cora.get_by_text("Cal is now a member.")).to_be_visible()

    # Ann offers help.
    ann = _page(browser, server, "ann@example.org")
    ann.goto(server.url + BANK)
    ann.get_by_role("link", name="Offer help").click()
    ann.get_by_label("Title").fill("A chat and a cuppa")
    ann.get_by_label("Description").fill("Weekday afternoons, at yours or by phone.")
    ann.get_by_label("Category").select_option(label="Company and a chat")
    ann.get_by_label("Area", exact=True).select_option("Riverside")
    ann.get_by_role("button", name="List it").click()
    expect(ann.get_by_text("It is listed.")).to_be_visible()
    assert axe_violations(ann) == []

    # Ben finds it and proposes an hour and a half; a bad number first.
    ben = _page(browser, server, "ben@example.org", 1280)
    ben.goto(f"{server.url}{BANK}/listings")
    ben.get_by_label("Words").fill("cuppa")
    ben.get_by_role("button", name="Search").click()
    expect(ben).to_have_url(re.compile(r"q=cuppa"))
    assert axe_violations(ben) == []
    screenshot(ben, "timebank_listings")
    ben.get_by_role("link", name="A chat and a cuppa").click()
    ben.get_by_label("About how many hours").fill("1.3")
    ben.get_by_role("button", name="Propose").click()
    expect(ben.get_by_text("Hours go in quarter hours").first).to_be_visible()
    assert axe_violations(ben) == []
    ben.get_by_label("About how many hours").fill("1.5")
    ben.get_by_role("button", name="Propose").click()
    expect(
        ben.get_by_text("Proposed. You will hear when the other member answers.")
    ).to_be_visible()

    # Ann accepts from her bank page; both confirm; the hours move.
    ann.goto(server.url + BANK)
    expect(ann.get_by_role("heading", name="Waiting for you")).to_be_visible()
    ann.get_by_role("link", name="A chat and a cuppa").click()
    expect(ann).to_have_url(re.compile(r"/exchanges/\d+$"))
    ann.get_by_role("button", name="Accept").click()
    expect(ann.get_by_text("Accepted. After it has happened")).to_be_visible()
    _confirm(ann, "1.5")
    expect(ann.get_by_text("It waits for the other member to confirm.")).to_be_visible()
    assert axe_violations(ann) == []
    screenshot(ann, "timebank_exchange")
    _open_exchange(ben, server, "A chat and a cuppa")
    _confirm(ben, "1:30")
    expect(ben.get_by_text("You both agree, so 1½ hours moved.")).to_be_visible()

    # Cal takes up the same offer; they disagree about the hours.
    cal.goto(f"{server.url}{BANK}/listings")
    cal.get_by_role("link", name="A chat and a cuppa").click()
    cal.get_by_label("About how many hours").fill("1")
    cal.get_by_role("button", name="Propose").click()
    expect(cal.get_by_text("Proposed.")).to_be_visible()
    cal_exchange = cal.url
    ann.goto(cal_exchange)
    ann.get_by_role("button", name="Accept").click()
    expect(ann.get_by_text("Accepted.")).to_be_visible()
    _confirm(ann, "2")
    cal.goto(cal_exchange)
    _confirm(cal, "1")
    expect(cal.get_by_text("The hours you each gave differ")).to_be_visible()

    # Cora settles it: a reason is needed.
    cora.goto(f"{server.url}{BANK}/coordinate")
    cora.get_by_role("link", name="A chat and a cuppa").click()
    expect(cora).to_have_url(re.compile(r"/exchanges/\d+$"))
    cora.get_by_label("Hours to move (0 if it did not happen)").fill("1.5")
    cora.get_by_role("button", name="Settle").click()
    expect(cora.get_by_text("Say why, in a few words").first).to_be_visible()
    assert axe_violations(cora) == []
    cora.get_by_label("Your decision and why (both members see it)").fill(
        "Spoke to both: an hour and a half."
    )
    cora.get_by_role("button", name="Settle").click()
    expect(cora.get_by_text("Settled. Both members have been told.")).to_be_visible()

    # Ann's statement: two movements, 3 hours; the CSV and the report agree.
    ann.goto(f"{server.url}{BANK}/statement")
    expect(ann.get_by_text("Balance: 3 hours")).to_be_visible()
    rows = ann.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Cal")
    expect(rows.first).to_contain_text("settled by a coordinator")
    expect(rows.nth(1)).to_contain_text("Ben")
    assert axe_violations(ann) == []
    screenshot(ann, "timebank_statement")
    statement = ann.request.get(f"{server.url}{BANK}/statement.csv").text()
    lines = list(csv.reader(io.StringIO(statement)))
    assert [line[5:7] for line in lines[1:]] == [["1.50", "1.50"], ["1.50", "3.00"]]

    cora.goto(f"{server.url}{BANK}/report")
    company = cora.get_by_role("row", name=re.compile("Company and a chat"))
    expect(company).to_contain_text("3.00")
    expect(cora.get_by_text("Members: 4")).to_be_visible()
    assert axe_violations(cora) == []
    screenshot(cora, "timebank_report")
    report = cora.request.get(f"{server.url}{BANK}/report.csv").text()
    company_row = next(
        r for r in csv.reader(io.StringIO(report)) if r[:1] == ["Company and a chat"]
    )
    assert company_row[-1] == "3.00"


def test_a_coordinator_without_javascript_adds_a_member_and_records_their_help(
    browser: Browser, server: LiveServer
) -> None:
    """The coordinators' pages work as plain forms with JavaScript off, by keyboard: a member
    who does not use the app is added and their help recorded. Each page then passes axe
    and is looked at, at 360 and 1280 px."""
    _world(server)
    context = browser.new_context(viewport={"width": 360, "height": 800}, java_script_enabled=False)
    plain = context.new_page()
    _sign_in_by_link(server, plain, "cora@example.org")

    plain.goto(f"{server.url}{BANK}/coordinate")
    plain.get_by_role("link", name="Members and balances").click()
    plain.get_by_role("link", name="Add a member who does not use the app").click()
    plain.get_by_label("The name other members know them by").fill("Nan")
    plain.get_by_role("button", name="Add the member").click()  # no area yet
    expect(plain.get_by_role("link", name=re.compile("Choose their area"))).to_be_visible()
    expect(plain.get_by_label("The name other members know them by")).to_have_value("Nan")
    plain.get_by_label("Their area").select_option("Riverside")
    plain.get_by_role("button", name="Add the member").click()
    expect(plain.get_by_text("Nan is a member. Record their exchanges for them.")).to_be_visible()
    expect(plain.get_by_role("heading", name="Nan", level=1)).to_be_visible()

    plain.goto(f"{server.url}{BANK}/record")
    form = plain.locator("main form")
    form.get_by_label("Who gave the help").select_option(label="Nan (Riverside)")
    form.get_by_label("Who received it").select_option(label="Ann (Riverside)")
    form.get_by_label("What the help was").fill("Shopping run")
    form.get_by_label("Category").select_option(index=1)
    form.get_by_label("When").fill("2026-11-20")
    form.get_by_label("Hours given").fill("30")
    form.get_by_label("Hours given").press("Enter")  # sent by the keyboard
    expect(plain.get_by_role("link", name=re.compile("24 hours"))).to_be_visible()
    expect(form.get_by_label("What the help was")).to_have_value("Shopping run")
    form.get_by_label("Hours given").fill("2")
    form.get_by_label("Hours given").press("Enter")
    expect(plain.get_by_role("heading", name="Shopping run", level=1)).to_be_visible()
    expect(plain.get_by_text("Recorded by a coordinator").first).to_be_visible()
    context.close()

    cora = _page(browser, server, "cora@example.org")
    shots = [
        ("coordinate", "/coordinate", "Coordinating Riverside time bank"),
        ("members", "/members", "Members of Riverside time bank"),
        ("member_new", "/members/new", "Add a member who does not use the app"),
        ("record", "/record", "Record an exchange"),
    ]
    for name, path, heading in shots:
        cora.goto(f"{server.url}{BANK}{path}")
        expect(cora.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert axe_violations(cora) == [], name
        screenshot(cora, f"timebank_{name}")
    cora.goto(f"{server.url}{BANK}/members")
    cora.get_by_role("link", name="Nan").click()
    expect(cora.get_by_role("heading", name="Nan", level=1)).to_be_visible()
    rows = cora.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ann")
    expect(rows.first).to_contain_text("+2")
    assert axe_violations(cora) == []
    screenshot(cora, "timebank_member")
