"""Peer support in Chromium: Pat posts; Sam reports it; Ali, a peer supporter, hides it with a
reason from the review queue; Pat sees the reason in place and can ask for a second look;
the thread still reads well. Slow mode and a pause on posting are enforced, with the time
shown. A new reply appears on Sam's open page while Sam is typing, and the typing is kept."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect
from sqlalchemy import update
from sqlmodel import Session

from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.browser.test_accessibility import _people, _sign_in_by_link
from tests.conftest import add_person
from webapp.accounts import services
from webapp.content import get_content
from webapp.groups import services as groups
from webapp.groups import threads
from webapp.groups.models import Membership

SLUG = "living-with-diabetes"


def _world(server: LiveServer) -> dict:
    people = _people(server)
    engine = server.app.extensions["db_engine"]
    with server.app.test_request_context(), Session(engine, expire_on_commit=False) as db:
        groups.sync_groups(db, get_content().groups)
        sam = add_person(db, "Sam Lee", "sam@example.org")
        ali = add_person(db, "Ali Rao", "ali@example.org")
        for person, name in ((people["patient"], "Pat M"), (sam, "Sam L"), (ali, "Ali R")):
            groups.set_display_name(db, services.load_actor(db, person), name)
        groups.set_role(db, SLUG, "pat@example.org", "member")
        groups.set_role(db, SLUG, "sam@example.org", "member")
        groups.set_role(db, SLUG, "ali@example.org", "supporter")
        db.exec(update(Membership).values(posts_approved=threads.NEW_MEMBER_POSTS))
        db.commit()
        return {"pat": people["patient"], "sam": sam, "ali": ali}


def test_a_post_is_reported_hidden_with_a_reason_and_the_thread_reads_on(
    server: LiveServer, browser: Browser
):
    _world(server)
    pat = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    _sign_in_by_link(server, pat, "pat@example.org")
    pat.goto(f"{server.url}/groups/{SLUG}")
    pat.get_by_role("link", name="Start a conversation").click()
    pat.get_by_label("Title").fill("Walking after meals")
    pat.get_by_label("Your post").fill("A *short* walk after tea helps my levels.")
    pat.get_by_role("button", name="Post", exact=True).click()
    expect(pat.get_by_role("heading", name="Walking after meals")).to_be_visible()
    thread_url = pat.url.split("#")[0]

    # Sam opens the thread and starts typing; Pat's reply appears without losing Sam's words.
    sam = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _sign_in_by_link(server, sam, "sam@example.org")
    sam.goto(thread_url)
    sam.get_by_label("Your reply").fill("I was about to say")
    pat.get_by_label("Your reply").fill("Also: try my shop at https://example.com/shop")
    pat.get_by_role("button", name="Post reply").click()
    expect(pat.get_by_text("Posted.")).to_be_visible()
    expect(sam.get_by_text("Also: try my shop")).to_be_visible(timeout=15_000)
    expect(sam.get_by_label("Your reply")).to_have_value("I was about to say")
    assert axe_violations(sam) == []
    screenshot(sam, "group_thread")

    # Sam reports Pat's second post.
    sam.get_by_role("link", name="Report the post by Pat M").last.click()
    expect(sam.get_by_role("heading", name="Report a post")).to_be_visible()
    sam.get_by_role("button", name="Send the report").click()
    expect(sam.get_by_text("Choose what is wrong with the post.").first).to_be_visible()
    assert axe_violations(sam) == []
    sam.get_by_label("Advertising or spam").check()
    sam.get_by_role("button", name="Send the report").click()
    expect(sam.get_by_text("A peer supporter will look at it soon")).to_be_visible()

    # Ali hides it from the review queue, with a reason.
    ali = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    _sign_in_by_link(server, ali, "ali@example.org")
    ali.goto(f"{server.url}/groups/{SLUG}")
    ali.get_by_role("link", name="Review queue").click()
    expect(ali.get_by_role("heading", name="Reported by 1 member")).to_be_visible()
    expect(ali.get_by_text("Advertising or spam")).to_be_visible()
    assert axe_violations(ali) == []
    screenshot(ali, "group_queue")
    ali.get_by_role("button", name="Hide it").click()
    expect(ali.get_by_text(re.compile("Write the reason in a few words"))).to_be_visible()
    ali.get_by_label("Your reason").fill("Selling is not allowed here (guideline 4).")
    ali.get_by_role("button", name="Hide it").click()
    expect(ali.get_by_text("Hidden, with your reason. Its author has been told.")).to_be_visible()
    ali.get_by_role("link", name="Moderation log").click()
    expect(ali.get_by_text("Selling is not allowed here (guideline 4).")).to_be_visible()
    assert axe_violations(ali) == []

    # Pat is told, sees the reason in place, and can ask for a second look.
    pat.goto(f"{server.url}/notifications")
    pat.get_by_role("link", name=re.compile("hid one of your posts")).click()
    hidden = pat.locator(".post-hidden")
    expect(hidden).to_contain_text("Hidden by a peer supporter:")
    expect(hidden).to_contain_text("Selling is not allowed here (guideline 4).")
    expect(pat.get_by_role("link", name="Ask for a second look")).to_be_visible()
    assert axe_violations(pat) == []
    screenshot(pat, "group_hidden_for_author")

    # The thread still reads well for Sam: the first post, then the note in its place.
    sam.goto(thread_url)
    expect(sam.get_by_text("A short walk after tea helps my levels.")).to_be_visible()
    expect(sam.get_by_text("Selling is not allowed here (guideline 4).")).to_be_visible()
    expect(sam.get_by_text("try my shop")).to_have_count(0)


def test_slow_mode_and_a_pause_say_when_one_can_post_again(server: LiveServer, browser: Browser):
    _world(server)
    ali = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _sign_in_by_link(server, ali, "ali@example.org")
    ali.goto(f"{server.url}/groups/{SLUG}/members")
    ali.get_by_label("One post per member every").select_option("30")
    ali.get_by_label("Reason", exact=True).fill("A busy week: time to read each other")
    ali.get_by_role("button", name="Set slow mode").click()
    expect(ali.get_by_text("On: one post per member every 30 minutes.")).to_be_visible()

    sam = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    _sign_in_by_link(server, sam, "sam@example.org")
    sam.goto(f"{server.url}/groups/{SLUG}/threads/new")
    sam.get_by_label("Title").fill("Hello all")
    sam.get_by_label("Your post").fill("New here.")
    sam.get_by_role("button", name="Post", exact=True).click()
    expect(sam.get_by_role("heading", name="Hello all")).to_be_visible()
    thread_url = sam.url.split("#")[0]
    expect(
        sam.get_by_text(re.compile("slow mode: one post every 30 minutes. You can post again at"))
    ).to_be_visible()
    # The form stays, so a reply can be written meanwhile; sent too soon, it is kept.
    sam.get_by_label("Your reply").fill("And one more thing")
    sam.get_by_role("button", name="Post reply").click()
    expect(sam.get_by_text(re.compile("What you wrote is still here")).first).to_be_visible()
    expect(sam.get_by_label("Your reply")).to_have_value("And one more thing")
    assert axe_violations(sam) == []
    screenshot(sam, "group_slow_mode")

    # Ali pauses Sam's posting for a day; Sam sees until when.
    ali.goto(f"{server.url}/groups/{SLUG}/members")
    ali.get_by_text("Pause or remove Sam L").click()
    ali.get_by_label("Pause posting by Sam L for").select_option("1d")
    ali.get_by_label("Why pause Sam L (they see it)").fill("Let us talk first")
    ali.get_by_role("button", name="Pause posting by Sam L").click()
    expect(ali.get_by_text("Posting paused until")).to_be_visible()
    assert axe_violations(ali) == []
    sam.goto(thread_url)
    expect(sam.get_by_text(re.compile("paused your posting in this group until"))).to_be_visible()
    expect(sam.get_by_label("Your reply")).to_have_count(0)


def test_without_javascript_a_member_replies_thanks_and_reports(
    server: LiveServer, browser: Browser
):
    _world(server)
    pat = browser.new_context(java_script_enabled=False).new_page()
    _sign_in_by_link(server, pat, "pat@example.org")
    pat.goto(f"{server.url}/groups/{SLUG}/threads/new")
    pat.get_by_label("Title").fill("Feet")
    pat.get_by_label("Your post").fill("My foot check is next week.")
    pat.get_by_role("button", name="Post", exact=True).click()
    expect(pat.get_by_role("heading", name="Feet")).to_be_visible()

    sam = browser.new_context(java_script_enabled=False).new_page()
    _sign_in_by_link(server, sam, "sam@example.org")
    sam.goto(f"{server.url}/groups/{SLUG}")
    sam.get_by_role("link", name="Feet").click()
    expect(sam.get_by_text("New since you last read")).to_be_visible()
    sam.get_by_role("button", name="Thank you").click()
    expect(sam.get_by_role("button", name="Thanked")).to_be_visible()
    sam.get_by_label("Your reply").fill("Good luck, @Pat M")
    sam.get_by_role("button", name="Post reply").click()
    expect(sam.get_by_text("Good luck, @Pat M")).to_be_visible()
    sam.get_by_role("link", name="Report the post by Pat M").click()
    sam.get_by_label("Something else").check()
    sam.get_by_role("button", name="Send the report").click()
    expect(sam.get_by_text("Say in a few words what is wrong with the post.").first).to_be_visible()
    sam.get_by_label(re.compile("^Anything else")).fill("Testing the report form")
    sam.get_by_role("button", name="Send the report").click()
    expect(sam.get_by_text("A peer supporter will look at it soon")).to_be_visible()

    # Pat hears of the mention and lands on the first post not yet read.
    pat.goto(f"{server.url}/notifications")
    pat.get_by_role("link", name=re.compile("mentioned you")).click()
    expect(pat).to_have_url(re.compile(r"#post-\d+$"))
    expect(pat.get_by_text("Good luck, @Pat M")).to_be_visible()


def test_a_peer_supporter_sees_what_needs_a_look_and_checks_in_privately(
    server: LiveServer, browser: Browser
):
    people = _world(server)
    engine = server.app.extensions["db_engine"]
    with server.app.test_request_context(), Session(engine) as db:
        pat = services.load_actor(db, people["pat"])
        threads.start_thread(db, pat, SLUG, "Tonight", "i cant go on, i want to end it all", "k")

    # Ali sees the count on every page, opens what needs a look, then the queue.
    ali = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    _sign_in_by_link(server, ali, "ali@example.org")
    ali.set_viewport_size({"width": 320, "height": 640})  # the longer header still fits
    assert ali.evaluate("document.documentElement.scrollWidth <= 320")
    ali.set_viewport_size({"width": 360, "height": 800})
    ali.get_by_role("link", name="Needs a look, 1").click()
    expect(ali.get_by_role("heading", name="Needs a look", exact=True)).to_be_visible()
    expect(ali.get_by_text("1 may be about someone’s safety.")).to_be_visible()
    assert axe_violations(ali) == []
    ali.get_by_role("link", name="Living with diabetes: review queue").click()
    expect(ali.get_by_role("heading", name="May not be safe: Crisis words")).to_be_visible()

    # Ali sends Pat a private check-in: kind words to start from, the help lines added.
    ali.get_by_role("link", name="Send Pat M a private check-in").click()
    message = ali.get_by_label("Your message")
    expect(message).to_have_value(re.compile("^Hello Pat M. I am one of the peer supporters"))
    expect(ali.get_by_role("link", name="Samaritans, 116 123")).to_have_attribute(
        "href", "tel:116123"
    )
    assert axe_violations(ali) == []
    screenshot(ali, "group_check_in")
    message.fill("")
    ali.get_by_role("button", name="Send the check-in").click()
    expect(
        ali.get_by_text("Write a few kind words to go with the help lines.").first
    ).to_be_visible()
    assert axe_violations(ali) == []
    message.fill("Hello Pat M. I read your post and I am thinking of you tonight.")
    ali.get_by_role("button", name="Send the check-in").click()
    expect(ali.get_by_text("Sent. Only they can read it, with the help lines.")).to_be_visible()
    expect(ali.get_by_role("heading", name=re.compile("^You sent this on"))).to_be_visible()

    # Pat reads it in private, from the notification, with the help lines to tap.
    pat_page = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    _sign_in_by_link(server, pat_page, "pat@example.org")
    expect(pat_page.get_by_role("link", name="Needs a look", exact=False)).to_have_count(0)
    pat_page.goto(f"{server.url}/notifications")
    pat_page.get_by_role(
        "link", name=re.compile("A peer supporter sent you a private message")
    ).click()
    expect(
        pat_page.get_by_role("heading", name="A private message from a peer supporter")
    ).to_be_visible()
    expect(pat_page.get_by_text(re.compile("^From Ali R, a peer supporter in"))).to_be_visible()
    expect(pat_page.get_by_text("I am thinking of you tonight.")).to_be_visible()
    expect(pat_page.get_by_role("link", name="Shout, text SHOUT to 85258")).to_have_attribute(
        "href", re.compile("^sms:85258")
    )
    assert axe_violations(pat_page) == []
    screenshot(pat_page, "group_check_in_read")

    # Ali takes a look: the count goes, the link stays.
    ali.get_by_role("link", name="Review queue").first.click()
    expect(ali.get_by_text(re.compile("^You sent them a private check-in on"))).to_be_visible()
    ali.get_by_label("Your reason").fill("Checked in privately; the post can stay.")
    ali.get_by_role("button", name="Keep it").click()
    expect(ali.get_by_text("Kept. It is noted in the log.")).to_be_visible()
    expect(ali.get_by_role("link", name="Needs a look, nothing waiting")).to_be_visible()
    assert axe_violations(ali) == []
