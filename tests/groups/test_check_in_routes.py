"""'Needs a look' and private check-ins through HTTP: the header's count for peer supporters on
every page (in the link's accessible name, at no extra query, fresh after a look is taken),
the page of waiting posts by group, and a check-in sent from the queue with kind words and the
help lines, read by its author alone; a double submit sends once."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from bench.measure import counting_queries
from tests.conftest import add_person, sign_in
from webapp.accounts.services import load_actor
from webapp.content import get_content
from webapp.groups import moderation, threads
from webapp.groups import services as groups
from webapp.groups.models import CheckIn, Membership
from webapp.notifications.models import Notification

LIVING, BREATHING = "living-with-diabetes", "breathing-space"
WORRIED = "i cant go on, i want to end it all"


@pytest.fixture
def world(app):
    """Pat and Sam are members of Living with diabetes; Ali supports it and Breathing space;
    Pat's post there has crisis words, and Sam has written in Breathing space too."""
    with (
        app.test_request_context(),
        Session(app.extensions["db_engine"], expire_on_commit=False) as db,
    ):
        groups.sync_groups(db, get_content().groups)
        people = {}
        for key, name, display in (
            ("pat", "Pat Morgan", "Pat M"),
            ("sam", "Sam Lee", "Sam L"),
            ("ali", "Ali Rao", "Ali R"),
        ):
            people[key] = add_person(db, name, f"{key}@example.org")
            groups.set_display_name(db, load_actor(db, people[key]), display)
        groups.set_role(db, LIVING, "pat@example.org", "member")
        groups.set_role(db, LIVING, "sam@example.org", "member")
        groups.set_role(db, BREATHING, "sam@example.org", "member")
        groups.set_role(db, LIVING, "ali@example.org", "supporter")
        groups.set_role(db, BREATHING, "ali@example.org", "admin")
        for row in db.exec(select(Membership)).all():
            row.posts_approved = threads.NEW_MEMBER_POSTS
            db.add(row)
        db.commit()
        pat, sam = load_actor(db, people["pat"]), load_actor(db, people["sam"])
        worried = threads.start_thread(db, pat, LIVING, "Tonight", WORRIED, "a")
        reported = threads.start_thread(db, sam, BREATHING, "Pacing", "Buy my book", "b")
        return {**people, "worried": worried.id, "reported": reported.id}


def _report(app, world):
    """Pat joins Breathing space and reports Sam's post there: a second post waits for Ali,
    in Ali's other group."""
    with (
        app.test_request_context(),
        Session(app.extensions["db_engine"], expire_on_commit=False) as db,
    ):
        groups.set_role(db, BREATHING, "pat@example.org", "member")
        moderation.report(db, load_actor(db, world["pat"]), world["reported"], "spam", "")


def _header(page: str) -> str:
    return page.split("</header>")[0]


def test_a_peer_supporter_sees_what_needs_a_look_on_every_page(app, client, world):
    sign_in(app, client, world["ali"])
    header = _header(client.get("/notifications").get_data(as_text=True))
    # "Needs a look, 1": the count is in the link's accessible name.
    assert (
        '<a href="/groups/needs-a-look" class="needs-look" aria-label="Needs a look, 1" >'
        'Needs a look <span class="badge">1</span></a>'
    ) in header, header
    _report(app, world)
    header = _header(client.get("/account").get_data(as_text=True))
    assert '<span class="badge">2</span>' in header
    # A thread page is kept between visits: kept with the count, so never stale.
    thread = f"/groups/{LIVING}/threads/{_thread_of(app, world['worried'])}"
    for _visit in range(2):  # the second visit is answered from the kept page
        page = client.get(thread).get_data(as_text=True)
        assert '<span class="badge">2</span>' in _header(page)
    page = client.get("/groups/needs-a-look").get_data(as_text=True)
    assert "Living with diabetes: review queue" in page and "Breathing space: review queue" in page
    assert "1 post is waiting." in page and "1 may be about someone’s safety." in page
    # A look taken: the count is fresh on the next page.
    queue = client.get(f"/groups/{BREATHING}/queue").get_data(as_text=True)
    report_id = re.search(rf"/groups/{BREATHING}/queue/(\d+)", queue).group(1)
    client.form(
        f"/groups/{BREATHING}/queue/{report_id}",
        {"decision": "hide", "reason": "Ad", "version": "1"},
    )
    header = _header(client.get("/notifications").get_data(as_text=True))
    assert '<span class="badge">1</span>' in header
    assert '<span class="badge">1</span>' in _header(client.get(thread).get_data(as_text=True))
    client.form(
        f"/groups/{LIVING}/queue/{_open_item(app, world)}",
        {"decision": "keep", "reason": "Checked in", "version": "1"},
    )
    header = _header(client.get("/notifications").get_data(as_text=True))
    assert "nothing waiting" in _header(client.get(thread).get_data(as_text=True))
    # Nothing waiting: the link stays, calm, with no number.
    assert 'aria-label="Needs a look, nothing waiting" >Needs a look</a>' in header


def _thread_of(app, post_id: int) -> int:
    from webapp.groups.models import Post

    with Session(app.extensions["db_engine"]) as db:
        return db.get(Post, post_id).thread_id


def _open_item(app, world) -> int:
    from webapp.groups.models import Report

    with Session(app.extensions["db_engine"]) as db:
        return db.exec(
            select(Report.id).where(Report.post_id == world["worried"], Report.status == "open")
        ).one()


def test_members_see_no_such_link_and_its_page_is_not_there_for_them(app, client, world):
    sign_in(app, client, world["sam"])
    header = _header(client.get("/notifications").get_data(as_text=True))
    assert "Needs a look" not in header and "needs-a-look" not in header
    assert client.get("/groups/needs-a-look").status_code == 404


def test_the_count_costs_no_query_of_its_own(app, client, world):
    """A peer supporter's page makes as many queries as a member's: the count comes with the
    session, in the one query every signed-in page already makes."""
    counts = {}
    for who in ("sam", "ali"):
        sign_in(app, client, world[who])
        client.get("/notifications")  # the session's once-a-minute touch, out of the way
        with counting_queries(app) as statements:
            page = client.get("/notifications").get_data(as_text=True)
        counts[who] = len(statements)
        assert ("Needs a look" in page) == (who == "ali")
    assert counts["ali"] == counts["sam"], counts


def test_a_check_in_from_the_queue_reaches_the_author_with_the_help_lines(app, client, world):
    sign_in(app, client, world["ali"])
    queue = client.get(f"/groups/{LIVING}/queue").get_data(as_text=True)
    form_url = f"/groups/{LIVING}/posts/{world['worried']}/check-in"
    assert f'href="{form_url}">Send Pat M a private check-in</a>' in queue
    form = client.get(form_url).get_data(as_text=True)
    assert "Hello Pat M. I am one of the peer supporters in the group." in form
    assert 'maxlength="600"' in form and 'href="tel:116123"' in form
    assert WORRIED not in form  # nothing of the post goes in it (it is linked to)
    empty = client.form(form_url, {"words": "   "})
    assert empty.status_code == 422
    assert "Write a few kind words to go with the help lines." in empty.get_data(as_text=True)
    sent = client.form(form_url, {"words": "Hello Pat M. Thinking of you tonight."})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(form_url)
    again = client.form(form_url, {"words": "Hello again"}, follow_redirects=True)
    shown = again.get_data(as_text=True)
    assert "It was not sent again." in shown and "You sent this on" in shown
    assert "Thinking of you tonight." in shown and "Hello again" not in shown
    queue = client.get(f"/groups/{LIVING}/queue").get_data(as_text=True)
    assert "You sent them a private check-in on" in queue
    assert "Send Pat M a private check-in" not in queue
    with Session(app.extensions["db_engine"]) as db:
        (check_in,) = db.exec(select(CheckIn)).all()
        note = db.exec(select(Notification).where(Notification.kind == "groups.check_in")).one()
    assert note.person_id == world["pat"].id and "Thinking" not in note.message

    # Ali cannot open it; Pat reads it, with the help lines to tap.
    address = f"/groups/check-ins/{check_in.id}"
    assert client.get(address).status_code == 404
    sign_in(app, client, world["pat"])
    listed = client.get("/notifications").get_data(as_text=True)
    assert f'href="{address}"' in listed and "sent you a private message" in listed
    page = client.get(address).get_data(as_text=True)
    assert "From Ali R, a peer supporter in Living with diabetes" in page
    assert "Hello Pat M. Thinking of you tonight." in page
    for link in ('href="tel:999"', 'href="tel:111"', 'href="tel:116123"', 'href="sms:85258'):
        assert link in page
    assert "Ali Rao" not in page  # the display name, never the account's name
    sign_in(app, client, world["sam"])
    assert client.get(address).status_code == 404
    assert client.get(form_url).status_code == 404
    assert client.form(form_url, {"words": "Hi"}).status_code == 404


def test_a_supporter_is_offered_a_check_in_on_a_crisis_post_in_its_thread(app, client, world):
    sign_in(app, client, world["ali"])
    thread = client.get(f"/groups/{LIVING}/posts/{world['worried']}", follow_redirects=True)
    page = thread.get_data(as_text=True)
    assert f"/groups/{LIVING}/posts/{world['worried']}/check-in" in page
    assert "Check in privately" in page
    sign_in(app, client, world["sam"])
    thread = client.get(f"/groups/{LIVING}/posts/{world['worried']}", follow_redirects=True)
    assert "Check in privately" not in thread.get_data(as_text=True)
