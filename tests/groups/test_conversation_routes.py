"""Group conversations and moderation through HTTP: reading and replying (with the safety
step for crisis words, and the typed words kept when a post is refused), new replies for the
page's polling, the first unread post, reporting, hiding with a reason the author sees, the
queue, members, the log and second looks."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.conftest import add_person, sign_in
from webapp.accounts.services import load_actor
from webapp.content import get_content
from webapp.groups import moderation, threads
from webapp.groups import services as groups
from webapp.groups.models import Membership, ModAction, Post, Report

SLUG = "living-with-diabetes"


@pytest.fixture
def world(app, db):
    with app.test_request_context():
        groups.sync_groups(db, get_content().groups)
        people = {}
        for key, name, display, role in (
            ("pat", "Pat Morgan", "Pat M", "member"),
            ("sam", "Sam Lee", "Sam L", "member"),
            ("ali", "Ali Rao", "Ali R", "supporter"),
            ("kim", "Kim Ode", "Kim O", "admin"),
        ):
            person = add_person(db, name, f"{key}@example.org")
            actor = load_actor(db, person)
            groups.set_display_name(db, actor, display)
            groups.set_role(db, SLUG, f"{key}@example.org", role)
            row = db.exec(select(Membership).where(Membership.person_id == person.id)).one()
            row.posts_approved = threads.NEW_MEMBER_POSTS
            db.add(row)
            db.commit()
            people[key] = person
        post = threads.start_thread(
            db, load_actor(db, people["pat"]), SLUG, "After meals", "A walk helps me.", "k"
        )
        return people, post


def _client(app, person):
    client = app.test_client()
    sign_in(app, client, person)
    return client


def test_a_member_reads_a_thread_and_replies_once(app, db, world):
    people, post = world
    sam = _client(app, people["sam"])
    page = sam.get(f"/groups/{SLUG}/threads/{post.thread_id}").get_data(as_text=True)
    assert "After meals" in page and "A walk helps me." in page and "Pat M" in page
    assert "Pat Morgan" not in page  # never the real name
    assert 'hx-trigger="every 10s"' in page
    form = {"body": "Same here", "key": "r1"}
    first = sam.form(f"/groups/{SLUG}/threads/{post.thread_id}/reply", form)
    again = sam.form(f"/groups/{SLUG}/threads/{post.thread_id}/reply", form)
    assert first.status_code == again.status_code == 303
    assert "/posts/" in first.headers["Location"]
    opened = sam.get(first.headers["Location"])
    assert opened.status_code == 302 and "#post-" in opened.headers["Location"]
    assert len(db.exec(select(Post)).all()) == 2


def test_a_refused_reply_keeps_what_was_typed_and_says_when(app, db, world):
    people, post = world
    group = groups.get_group(db, SLUG)
    group.slow_mode_minutes = 30
    db.add(group)
    db.commit()
    sam = _client(app, people["sam"])
    sam.form(f"/groups/{SLUG}/threads/{post.thread_id}/reply", {"body": "One", "key": "a"})
    refused = sam.form(
        f"/groups/{SLUG}/threads/{post.thread_id}/reply", {"body": "Two, longer words", "key": "b"}
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "slow mode" in text and "You can post again at" in text
    assert "Two, longer words" in text
    empty = _client(app, people["pat"]).form(
        f"/groups/{SLUG}/threads/{post.thread_id}/reply", {"body": "  ", "key": "c"}
    )
    assert empty.status_code == 422 and "Write something" in empty.get_data(as_text=True)


def test_crisis_words_bring_the_safety_step_and_can_still_be_posted(app, db, world):
    people, post = world
    sam = _client(app, people["sam"])
    words = {"body": "Some days I want to end my life", "key": "s1"}
    step = sam.form(f"/groups/{SLUG}/threads/{post.thread_id}/reply", words)
    text = step.get_data(as_text=True)
    assert step.status_code == 200 and "are you safe right now?" in text and "999" in text
    assert db.exec(select(Post).where(Post.key == "s1")).first() is None  # not yet
    posted = sam.form(
        f"/groups/{SLUG}/threads/{post.thread_id}/reply", {**words, "confirmed": "yes"}
    )
    assert posted.status_code == 303
    made = db.exec(select(Post).where(Post.key == "s1")).one()
    assert made.crisis and made.status == "shown"
    queue = _client(app, people["ali"]).get(f"/groups/{SLUG}/queue").get_data(as_text=True)
    assert "May not be safe" in queue and "Some days I want to end my life" in queue


def test_polling_answers_new_replies_only(app, db, world):
    people, post = world
    pat = _client(app, people["pat"])
    path = f"/groups/{SLUG}/threads/{post.thread_id}/since?after={post.id}"
    assert pat.get(path, headers={"HX-Request": "true"}).status_code == 204
    with app.test_request_context():
        reply = threads.reply(db, load_actor(db, people["sam"]), post.thread_id, "Hi <b>x</b>", "z")
    fresh = pat.get(path, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'id="post-{reply.id}"' in fresh and "<b>" not in fresh
    assert f"after={reply.id}" in fresh and 'hx-swap-oob="outerHTML"' in fresh
    jump = pat.get(f"/groups/{SLUG}/threads/{post.thread_id}/unread")
    assert jump.status_code == 302


def test_report_hide_and_the_author_sees_the_reason_and_can_ask_again(app, db, world):
    people, post = world
    sam = _client(app, people["sam"])
    form = sam.get(f"/groups/{SLUG}/posts/{post.id}/report").get_data(as_text=True)
    assert "What is wrong with it?" in form
    missing = sam.form(f"/groups/{SLUG}/posts/{post.id}/report", {"reason": ""})
    assert missing.status_code == 422 and "Choose what is wrong" in missing.get_data(as_text=True)
    sent = sam.form(
        f"/groups/{SLUG}/posts/{post.id}/report", {"reason": "spam"}, follow_redirects=True
    )
    assert "A peer supporter will look at it soon" in sent.get_data(as_text=True)
    ali = _client(app, people["ali"])
    assert _client(app, people["pat"]).get(f"/groups/{SLUG}/queue").status_code == 404
    report = db.exec(select(Report)).one()
    no_reason = ali.form(
        f"/groups/{SLUG}/queue/{report.id}", {"decision": "hide", "version": "1", "reason": ""}
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.get_data(as_text=True)
    hidden = ali.form(
        f"/groups/{SLUG}/queue/{report.id}",
        {"decision": "hide", "version": "1", "reason": "Looks like an advert"},
    )
    assert hidden.status_code == 303
    late = _client(app, people["kim"]).form(
        f"/groups/{SLUG}/queue/{report.id}", {"decision": "keep", "version": "1", "reason": "ok"}
    )
    assert late.status_code == 422 and "hid the post" in late.get_data(as_text=True)
    pat = _client(app, people["pat"])
    page = pat.get(f"/groups/{SLUG}/threads/{post.thread_id}").get_data(as_text=True)
    assert "Hidden by a peer supporter:" in page and "Looks like an advert" in page
    assert "Ask for a second look" in page and "A walk helps me." in page  # the author's own
    others = sam.get(f"/groups/{SLUG}/threads/{post.thread_id}").get_data(as_text=True)
    assert "Looks like an advert" in others and "A walk helps me." not in others
    entry = db.exec(select(ModAction)).one()
    asked = pat.form(
        f"/groups/{SLUG}/appeal/{entry.id}", {"words": "It is what I do"}, follow_redirects=True
    )
    assert "The group’s administrator will look again" in asked.get_data(as_text=True)
    kim = _client(app, people["kim"])
    assert "It is what I do" in kim.get(f"/groups/{SLUG}/appeals").get_data(as_text=True)
    log = ali.get(f"/groups/{SLUG}/log").get_data(as_text=True)
    assert "Ali R" in log and "hid a post" in log and "Looks like an advert" in log


def test_supporter_pages_answer_only_the_groups_peer_supporters(app, db, world):
    people, post = world
    for path in ("queue", "members", "log", "appeals", f"posts/{post.id}/hide"):
        assert _client(app, people["sam"]).get(f"/groups/{SLUG}/{path}").status_code == 404
    ali = _client(app, people["ali"])
    for path in ("queue", "members", "log", f"posts/{post.id}/hide"):
        assert ali.get(f"/groups/{SLUG}/{path}").status_code == 200, path
    sam_row = db.exec(select(Membership).where(Membership.person_id == people["sam"].id)).one()
    paused = ali.form(
        f"/groups/{SLUG}/members/{sam_row.id}/mute", {"length": "1d", "reason": "Cool off"}
    )
    assert paused.status_code == 303
    sam_page = _client(app, people["sam"]).get(f"/groups/{SLUG}/threads/{post.thread_id}")
    assert "paused your posting in this group until" in sam_page.get_data(as_text=True)
    slow = ali.form(f"/groups/{SLUG}/slow-mode", {"minutes": "3", "reason": "x"})
    assert slow.status_code == 422 and "lengths offered" in slow.get_data(as_text=True)


def test_script_and_markup_in_posts_and_titles_never_run(app, db, world):
    people, _post = world
    sam = _client(app, people["sam"])
    made = sam.form(
        f"/groups/{SLUG}/threads",
        {
            "title": "<script>alert(1)</script>",
            "body": "<img src=x onerror=alert(1)> [x](javascript:alert(1))",
            "key": "t1",
        },
    )
    assert made.status_code == 303
    page = sam.get(made.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in page and "onerror" not in page.replace("onerror=alert(1)&gt;", "")
    assert 'href="javascript' not in page


def test_the_group_page_lists_conversations_for_members_only(app, db, world):
    people, post = world
    page = _client(app, people["sam"]).get(f"/groups/{SLUG}").get_data(as_text=True)
    assert "After meals" in page and "Start a conversation" in page
    outsider = add_person(db, "Jo Doe", "jo@example.org")
    other = _client(app, outsider).get(f"/groups/{SLUG}").get_data(as_text=True)
    assert "After meals" not in other
    assert _client(app, outsider).get(f"/groups/{SLUG}/threads/{post.thread_id}").status_code == 404
    new = _client(app, people["sam"]).get(f"/groups/{SLUG}/threads/new")
    assert new.status_code == 200 and "Start a conversation" in new.get_data(as_text=True)
    assert moderation.REPORT_REASONS


def test_overlong_utf8_never_becomes_markup_in_posts_or_names(app, db, world):
    people, post = world
    sam = _client(app, people["sam"])
    token = sam.csrf_token()
    # "<script>" with its angle brackets as overlong two-byte sequences (C0 BC, C0 BE).
    sneaky = b"%C0%BCscript%C0%BEalert(1)%C0%BC/script%C0%BE"
    sent = sam.post(
        f"/groups/{SLUG}/threads/{post.thread_id}/reply",
        data=b"csrf_token=" + token.encode() + b"&key=o1&body=" + sneaky,
        content_type="application/x-www-form-urlencoded",
    )
    assert sent.status_code == 303
    page = sam.get(f"/groups/{SLUG}/threads/{post.thread_id}").get_data(as_text=True)
    assert "<script>alert" not in page and "alert(1)" in page
    named = sam.post(
        "/groups/profile",
        data=b"csrf_token=" + token.encode() + b"&display_name=Sam%C0%BCb%C0%BE",
        content_type="application/x-www-form-urlencoded",
    )
    assert named.status_code == 422 and "<b>" not in named.get_data(as_text=True)


def test_a_kept_thread_page_shows_every_change_at_the_next_visit(app, db, world):
    people, post = world
    sam = _client(app, people["sam"])
    path = f"/groups/{SLUG}/threads/{post.thread_id}"
    for _ in range(2):
        assert "A walk helps me." in sam.get(path).get_data(as_text=True)
    with app.test_request_context():
        pat = load_actor(db, people["pat"])
        threads.reply(db, pat, post.thread_id, "Tea after, too", "t")
        assert "Tea after, too" in sam.get(path).get_data(as_text=True)
        sam.form(f"/groups/{SLUG}/posts/{post.id}/thanks", {"thanked": "yes"})
        assert "Thanked" in sam.get(path).get_data(as_text=True)
        groups.set_display_name(db, pat, "Patricia M")
        assert "Patricia M" in sam.get(path).get_data(as_text=True)
        moderation.hide_post(db, load_actor(db, people["ali"]), SLUG, post.id, "Off topic here")
        assert "Off topic here" in sam.get(path).get_data(as_text=True)
        moderation.lock_thread(
            db, load_actor(db, people["ali"]), SLUG, post.thread_id, True, "Done"
        )
        page = sam.get(path).get_data(as_text=True)
        assert "Locked by a peer supporter:" in page and "Post reply" not in page


def test_a_kept_thread_page_carries_each_visitors_own_form_token(app, world):
    import re

    people, post = world
    phone, laptop = _client(app, people["sam"]), _client(app, people["sam"])
    path = f"/groups/{SLUG}/threads/{post.thread_id}"
    for _ in range(3):  # kept by now
        phone.get(path)
    page = laptop.get(path).get_data(as_text=True)
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    assert len(tokens) == 1 and "kept:" not in page
    (token,) = tokens
    for form, data in (
        ("reply", {"body": "From the laptop", "key": "l1"}),
        ("mute", {"muted": "yes"}),
    ):
        sent = laptop.post(f"{path}/{form}", data={"csrf_token": token, **data})
        assert sent.status_code == 303, form
