"""Threads and posts without HTTP: members only, posted once per key, locks, mutes and slow
mode with the time they can post again, new members' links held, editing within a window,
thank-yous counted once, and authors shown by display name ("a former member" once gone)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from webapp.accounts.services import load_actor
from webapp.content import get_content
from webapp.db import utcnow
from webapp.groups import services as groups
from webapp.groups import threads
from webapp.groups.models import Membership, PeerGroup, Post, Thanks, Thread
from webapp.groups.services import GroupError


@pytest.fixture
def ctx(app, db):
    with app.test_request_context():
        groups.sync_groups(db, get_content().groups)
        yield


def member(db, name, email, display, slug="living-with-diabetes", role="member"):
    actor = load_actor(db, add_person(db, name, email))
    groups.set_display_name(db, actor, display)
    if role:  # no role: in no group
        groups.set_role(db, slug, email, role)
    if role == "member":  # an established member, not a new one
        row = db.exec(select(Membership).where(Membership.person_id == actor.id)).one()
        row.posts_approved = threads.NEW_MEMBER_POSTS
        db.add(row)
        db.commit()
    return actor


@pytest.fixture
def pat(ctx, db):
    return member(db, "Pat Morgan", "pat@example.org", "Pat M")


@pytest.fixture
def sam(ctx, db):
    return member(db, "Sam Lee", "sam@example.org", "Sam L")


def _membership(db, actor):
    return db.exec(select(Membership).where(Membership.person_id == actor.id)).one()


def test_a_conversation_starts_and_replies_follow_once_each(db, pat, sam):
    first = threads.start_thread(db, pat, "living-with-diabetes", "Snacks", "What *works*?", "k1")
    again = threads.start_thread(db, pat, "living-with-diabetes", "Snacks", "What *works*?", "k1")
    assert again.id == first.id and len(db.exec(select(Thread)).all()) == 1
    reply = threads.reply(db, sam, first.thread_id, "Nuts and an apple", "r1")
    assert threads.reply(db, sam, first.thread_id, "Nuts and an apple", "r1").id == reply.id
    view = threads.read_page(db, pat, first.thread_id)
    thread, shown, more = view.thread, view.posts, view.page < view.pages
    assert thread.post_count == 2 and not more
    assert [(s.author, s.post.html) for s in shown] == [
        ("Pat M", "<p>What <em>works</em>?</p>\n"),
        ("Sam L", "<p>Nuts and an apple</p>\n"),
    ]


def test_only_active_members_read_or_post(db, pat, ctx):
    post = threads.start_thread(db, pat, "living-with-diabetes", "Hi", "Hello all", "k")
    outsider = load_actor(db, add_person(db, "Eve Ng", "eve@example.org"))
    groups.set_display_name(db, outsider, "Eve N")
    elsewhere = member(
        db, "Ali Rao", "ali@example.org", "Ali R", slug="breathing-space", role="supporter"
    )
    for who in (outsider, elsewhere):
        with pytest.raises(NotFound):
            threads.read_page(db, who, post.thread_id)
        with pytest.raises(NotFound):
            threads.reply(db, who, post.thread_id, "hi", "x")


def test_empty_huge_and_untitled_posts_say_what_to_change(db, pat):
    with pytest.raises(GroupError, match="short title"):
        threads.start_thread(db, pat, "living-with-diabetes", "  ", "words", "k")
    with pytest.raises(GroupError, match="Write something"):
        threads.start_thread(db, pat, "living-with-diabetes", "Title", " \u200b ", "k")
    with pytest.raises(GroupError, match="at most 10000 characters"):
        threads.start_thread(db, pat, "living-with-diabetes", "Title", "x" * 10_001, "k")
    assert db.exec(select(Post)).all() == []


def test_locked_muted_and_slow_mode_say_when_they_can_post(db, pat, sam):
    post = threads.start_thread(db, pat, "living-with-diabetes", "Walks", "Who walks?", "k")
    thread = db.get(Thread, post.thread_id)
    group = db.exec(select(PeerGroup).where(PeerGroup.slug == "living-with-diabetes")).one()
    group.slow_mode_minutes = 10
    db.add(group)
    db.commit()
    threads.reply(db, sam, thread.id, "Me", "a")
    with pytest.raises(GroupError, match="slow mode: one post every 10 minutes") as error:
        threads.reply(db, sam, thread.id, "Me again", "b")
    assert "You can post again at" in error.value.message
    row = _membership(db, sam)
    row.last_posted_at = utcnow() - dt.timedelta(minutes=11)
    row.muted_until = utcnow() + dt.timedelta(hours=2)
    db.add(row)
    db.commit()
    with pytest.raises(GroupError, match="paused your posting in this group until"):
        threads.reply(db, sam, thread.id, "Me again", "b")
    thread.locked_at, thread.locked_reason = utcnow(), "This has run its course."
    db.add(thread)
    db.commit()
    with pytest.raises(GroupError, match=r"locked this conversation.*run its course"):
        threads.reply(db, pat, thread.id, "One more", "c")
    assert len(db.exec(select(Post)).all()) == 2


def test_a_new_members_links_wait_for_a_peer_supporter(db, pat, ctx):
    newcomer = load_actor(db, add_person(db, "Noa Bell", "noa@example.org"))
    groups.set_display_name(db, newcomer, "Noa B")
    groups.join(db, newcomer, "living-with-diabetes")
    post = threads.start_thread(db, pat, "living-with-diabetes", "Links", "Share links", "k")
    plain = threads.reply(db, newcomer, post.thread_id, "Hello, I am new", "n1")
    linked = threads.reply(db, newcomer, post.thread_id, "Try https://example.org", "n2")
    assert plain.status == "shown" and linked.status == "held"
    # Others do not see it yet; its author sees it waiting.
    assert [s.post.id for s in threads.read_page(db, pat, post.thread_id).posts] == [
        post.id,
        plain.id,
    ]
    assert linked.id in [s.post.id for s in threads.read_page(db, newcomer, post.thread_id).posts]


def test_groups_that_ask_hold_a_new_members_first_posts(db, ctx):
    supporter = member(db, "Ali Rao", "ali@example.org", "Ali R", "breathing-space", "supporter")
    newcomer = member(db, "Noa Bell", "noa@example.org", "Noa B", "breathing-space")
    row = _membership(db, newcomer)
    row.posts_approved = 0
    db.add(row)
    db.commit()
    first = threads.start_thread(db, supporter, "breathing-space", "Hello", "Welcome all", "k")
    assert first.status == "shown"  # peer supporters are never held
    held = threads.reply(db, newcomer, first.thread_id, "Hi everyone", "n1")
    assert held.status == "held"


def test_edits_within_the_window_are_marked_and_later_ones_refused(db, pat, sam):
    post = threads.start_thread(db, pat, "living-with-diabetes", "Sleep", "I sleep badly", "k")
    edited = threads.edit_post(db, pat, post.id, "I sleep *badly*", post.version)
    assert edited.edited_at is not None and edited.html == "<p>I sleep <em>badly</em></p>\n"
    with pytest.raises(GroupError, match="changed since you opened it"):
        threads.edit_post(db, pat, post.id, "again", 1)
    with pytest.raises(NotFound):
        threads.edit_post(db, sam, post.id, "not mine", edited.version)
    edited.created_at = utcnow() - dt.timedelta(minutes=31)
    db.add(edited)
    db.commit()
    with pytest.raises(GroupError, match="for 30 minutes after posting"):
        threads.edit_post(db, pat, post.id, "late", edited.version)


def test_thanks_count_once_and_can_be_taken_back(db, pat, sam):
    post = threads.start_thread(db, pat, "living-with-diabetes", "Tip", "Drink water", "k")
    threads.thank(db, sam, post.id, True)
    threads.thank(db, sam, post.id, True)
    assert len(db.exec(select(Thanks)).all()) == 1
    assert threads.read_page(db, sam, post.thread_id).posts[0].thanked
    threads.thank(db, sam, post.id, False)
    assert db.exec(select(Thanks)).all() == []


def test_a_closed_accounts_posts_read_as_a_former_members(db, pat, sam):
    from webapp.rights.services import delete_account

    post = threads.start_thread(db, pat, "living-with-diabetes", "Feet", "Check your feet", "k")
    threads.reply(db, sam, post.thread_id, "Good tip", "r")
    delete_account(db, pat, pat.id)
    shown = threads.read_page(db, sam, post.thread_id).posts
    assert [(s.author, s.post.body) for s in shown] == [
        ("a former member", "Check your feet"),
        ("Sam L", "Good tip"),
    ]


def test_the_persons_download_holds_their_groups_and_posts(db, pat):
    from webapp.rights.services import everything

    threads.start_thread(db, pat, "living-with-diabetes", "Feet", "Check your feet", "k")
    data = everything(db, pat, pat.id)
    assert data["group_display_name"][0]["display_name"] == "Pat M"
    assert [m["status"] for m in data["group_memberships"]] == ["active"]
    assert [p["body"] for p in data["group_posts"]] == ["Check your feet"]


def test_a_double_submit_in_slow_mode_returns_the_thread_already_made(db, pat):
    group = db.exec(select(PeerGroup).where(PeerGroup.slug == "living-with-diabetes")).one()
    group.slow_mode_minutes = 10
    db.add(group)
    db.commit()
    first = threads.start_thread(db, pat, "living-with-diabetes", "Hi", "Hello", "same")
    again = threads.start_thread(db, pat, "living-with-diabetes", "Hi", "Hello", "same")
    assert again.id == first.id and len(db.exec(select(Thread)).all()) == 1


def test_the_same_key_from_two_people_posts_both(db, pat, sam):
    post = threads.start_thread(db, pat, "living-with-diabetes", "Hi", "Hello", "k")
    mine = threads.reply(db, pat, post.thread_id, "Pat again", "r")
    theirs = threads.reply(db, sam, post.thread_id, "Sam here", "r")
    assert mine.id != theirs.id and theirs.author_id == sam.id and theirs.body == "Sam here"
    blank = threads.reply(db, sam, post.thread_id, "No key", "")
    assert blank.key and blank.key != "r"


def test_a_hidden_posts_words_are_not_handed_to_other_readers(db, pat, sam):
    post = threads.start_thread(db, pat, "living-with-diabetes", "Hi", "Nasty words", "k")
    post.status, post.hidden_reason = "hidden", "Unkind"
    db.add(post)
    db.commit()
    (theirs,) = threads.read_page(db, sam, post.thread_id).posts
    (own,) = threads.read_page(db, pat, post.thread_id).posts
    assert theirs.html == "" and own.html == "<p>Nasty words</p>\n"


def test_an_edit_is_held_to_what_a_new_post_is(db, pat, ctx):
    newcomer = load_actor(db, add_person(db, "Noa Bell", "noa@example.org"))
    groups.set_display_name(db, newcomer, "Noa B")
    groups.join(db, newcomer, "living-with-diabetes")
    start = threads.start_thread(db, pat, "living-with-diabetes", "Hi", "Hello", "k")
    post = threads.reply(db, newcomer, start.thread_id, "Hello", "n")
    edited = threads.edit_post(db, newcomer, post.id, "See https://evil.example", post.version)
    assert edited.status == "held"
    flagged = threads.edit_post(db, pat, start.id, "I want to kill myself", start.version)
    assert flagged.crisis
    thread = db.get(Thread, start.thread_id)
    thread.locked_at = utcnow()
    db.add(thread)
    db.commit()
    with pytest.raises(GroupError, match="locked"):
        threads.edit_post(db, pat, start.id, "Later words", flagged.version)


def test_a_crisis_word_in_a_title_is_flagged(db, pat):
    post = threads.start_thread(
        db, pat, "living-with-diabetes", "I want to end my life", "Just that", "k"
    )
    assert post.crisis
    assert threads.start_thread(
        db, pat, "living-with-diabetes", "Ti\u202etle\x00", "Words", "k2"
    ).thread_id
    assert db.exec(select(Thread).where(Thread.key == "k2")).one().title == "Title"


def test_peer_supporters_are_told_at_once_when_a_post_needs_a_look(db, pat, sam, ctx):
    from webapp.notifications.models import Notification

    ali = member(db, "Ali Rao", "ali@example.org", "Ali R", role="supporter")
    kim = member(db, "Kim Ode", "kim@example.org", "Kim O", role="admin")
    member(db, "Oli Reed", "oli@example.org", "Oli R", "breathing-space", "supporter")

    def needs_look():
        return db.exec(select(Notification).where(Notification.kind == "groups.needs_look")).all()

    first = threads.start_thread(db, pat, "living-with-diabetes", "Tonight", "Lovely walk", "k1")
    assert needs_look() == []  # ordinary words: nobody is called
    threads.reply(db, pat, first.thread_id, "i cant go on, i want to end it all", "k2")
    told = needs_look()
    # This group's supporters and admin, not another group's, not the writer, not members.
    assert sorted(n.person_id for n in told) == sorted([ali.id, kim.id])
    for note in told:
        assert note.push_pending and note.link == "/groups/living-with-diabetes/queue"
        assert "end it" not in note.message and "Pat" not in note.message
        assert "diabetes" not in note.message.lower()
    # Another such post while the first notice is unread adds none; an edit that brings the
    # words in tells them too, once they have read the first.
    threads.reply(db, sam, first.thread_id, "i feel the same, i want to die", "k3")
    assert len(needs_look()) == 2
    for note in told:
        note.read_at = utcnow()
        db.add(note)
    db.commit()
    later = threads.reply(db, sam, first.thread_id, "Walked to the shop today", "k4")
    threads.edit_post(db, sam, later.id, "honestly i want to kill myself", later.version)
    assert len(needs_look()) == 4
