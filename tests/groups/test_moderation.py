"""Moderation without HTTP: reports keep a snapshot, the queue puts crisis words first, every
action has a reason and is logged, two peer supporters at once (one wins, the other is told),
pauses, removals, locks, pins, slow mode, second looks by the administrator, and who hears
of what."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.groups.test_threads import ctx, member  # noqa: F401 - the fixture is used
from webapp.db import utcnow
from webapp.groups import moderation, notices, threads
from webapp.groups.models import Membership, ModAction, PeerGroup, Post, Report, Thread
from webapp.groups.services import GroupError
from webapp.notifications.models import Notification

SLUG = "living-with-diabetes"


@pytest.fixture
def people(ctx, db):  # noqa: F811
    return {
        "pat": member(db, "Pat Morgan", "pat@example.org", "Pat M"),
        "sam": member(db, "Sam Lee", "sam@example.org", "Sam L"),
        "ali": member(db, "Ali Rao", "ali@example.org", "Ali R", role="supporter"),
        "bo": member(db, "Bo Chan", "bo@example.org", "Bo C", role="supporter"),
        "kim": member(db, "Kim Ode", "kim@example.org", "Kim O", role="admin"),
        # A peer supporter of another group only.
        "oli": member(db, "Oli Ray", "oli@example.org", "Oli R", "breathing-space", "supporter"),
    }


def _post(db, who, words="Walking after meals helps me.", key="k"):
    return threads.start_thread(db, who, SLUG, "After meals", words, key)


def _membership(db, actor, slug=SLUG):
    group = db.exec(select(PeerGroup).where(PeerGroup.slug == slug)).one()
    return db.exec(
        select(Membership).where(Membership.person_id == actor.id, Membership.group_id == group.id)
    ).one()


def test_a_report_keeps_the_post_as_it_was_and_is_made_once(db, people):
    post = _post(db, people["pat"])
    said = moderation.report(db, people["sam"], post.id, "unkind", "It upset me")
    assert "peer supporter will look" in said
    moderation.report(db, people["sam"], post.id, "unkind", "")  # twice: one report
    threads.edit_post(db, people["pat"], post.id, "Something else entirely", post.version)
    (found,) = db.exec(select(Report).where(Report.kind == "report")).all()
    assert found.snapshot == "Walking after meals helps me." and found.note == "It upset me"
    with pytest.raises(GroupError, match="Choose what is wrong"):
        moderation.report(db, people["sam"], post.id, "nonsense", "")
    with pytest.raises(GroupError, match="what is wrong"):
        moderation.report(db, people["sam"], post.id, "other", "   ")
    with pytest.raises(GroupError, match="your own post"):
        moderation.report(db, people["pat"], post.id, "spam", "")
    with pytest.raises(NotFound):  # not a member of this group
        moderation.report(db, people["oli"], post.id, "spam", "")


def test_reporting_a_post_already_hidden_says_so_and_adds_nothing(db, people):
    post = _post(db, people["pat"])
    moderation.hide_post(db, people["ali"], SLUG, post.id, "Off topic")
    said = moderation.report(db, people["sam"], post.id, "spam", "")
    assert "already hidden" in said
    assert db.exec(select(Report).where(Report.kind == "report")).all() == []


def test_the_queue_puts_crisis_words_first_then_the_oldest(db, people):
    calm = _post(db, people["pat"], "A calm post", "a")
    moderation.report(db, people["sam"], calm.id, "spam", "")
    worried = _post(db, people["sam"], "I want to end my life", "b")
    group, items = moderation.queue(db, people["ali"], SLUG)
    assert [item.post.id for item in items] == [worried.id, calm.id]
    assert items[0].report.crisis and items[0].report.kind == "crisis"
    assert moderation.queue_count(db, group) == 2
    with pytest.raises(NotFound):
        moderation.queue(db, people["pat"], SLUG)  # a member
    with pytest.raises(NotFound):
        moderation.queue(db, people["oli"], SLUG)  # a peer supporter of another group


def test_hiding_keeps_the_post_in_place_with_the_reason_and_tells_its_author(db, people):
    post = _post(db, people["pat"])
    reply = threads.reply(db, people["sam"], post.thread_id, "Me too", "r")
    moderation.report(db, people["sam"], post.id, "advice", "")
    with pytest.raises(GroupError, match="reason"):
        moderation.hide_post(db, people["ali"], SLUG, post.id, "  ")
    moderation.hide_post(db, people["ali"], SLUG, post.id, "Medicine advice: ask your team")
    db.refresh(post)
    assert post.status == "hidden" and post.hidden_reason == "Medicine advice: ask your team"
    # The thread still reads: the hidden post is in its place, without its words for others.
    shown = threads.read_page(db, people["sam"], post.thread_id).posts
    assert [s.post.id for s in shown] == [post.id, reply.id] and shown[0].html == ""
    assert threads.read_page(db, people["pat"], post.thread_id).posts[0].html != ""
    told = db.exec(select(Notification).where(Notification.person_id == people["pat"].id)).all()
    assert any("hid one of your posts" in n.message for n in told)
    assert db.exec(select(Report).where(Report.status == "open")).all() == []
    (logged,) = db.exec(select(ModAction)).all()
    assert logged.action == "hide" and logged.reason == "Medicine advice: ask your team"
    with pytest.raises(GroupError, match="already hidden"):
        moderation.hide_post(db, people["bo"], SLUG, post.id, "Again")


def test_two_peer_supporters_on_one_report_one_wins_and_the_other_is_told(db, people):
    post = _post(db, people["pat"])
    moderation.report(db, people["sam"], post.id, "unkind", "")
    _group, (item,) = moderation.queue(db, people["ali"], SLUG)
    version = item.report.version
    moderation.decide(db, people["ali"], SLUG, item.report.id, "keep", "Kind enough", version)
    with pytest.raises(GroupError, match=r"Another peer supporter .* kept the post"):
        moderation.decide(db, people["bo"], SLUG, item.report.id, "hide", "Unkind", version)
    db.refresh(post)
    assert post.status == "shown"
    assert [a.action for a in db.exec(select(ModAction)).all()] == ["keep"]


def test_a_held_post_goes_up_when_a_peer_supporter_lets_it(db, people):
    newcomer = member(db, "Nia Bell", "nia@example.org", "Nia B")
    row = _membership(db, newcomer)
    row.posts_approved = 0
    db.add(row)
    db.commit()
    post = _post(db, people["pat"])
    held = threads.reply(db, newcomer, post.thread_id, "See https://example.org", "h")
    assert held.status == "held"
    _group, items = moderation.queue(db, people["ali"], SLUG)
    (item,) = [i for i in items if i.post.id == held.id]
    said = moderation.decide(db, people["ali"], SLUG, item.report.id, "approve", "", 1)
    assert said == "It has gone up."
    db.refresh(held)
    thread = db.get(Thread, post.thread_id)
    assert held.status == "shown" and thread.post_count == 2 and thread.last_post_id == held.id


def test_locks_pins_and_slow_mode_need_reasons_and_are_logged(db, people):
    post = _post(db, people["pat"])
    with pytest.raises(GroupError, match="reason"):
        moderation.lock_thread(db, people["ali"], SLUG, post.thread_id, True, "")
    moderation.lock_thread(db, people["ali"], SLUG, post.thread_id, True, "Heated")
    with pytest.raises(GroupError, match=r"locked this conversation.*Heated"):
        threads.reply(db, people["sam"], post.thread_id, "But", "x")
    with pytest.raises(GroupError, match="already locked"):
        moderation.lock_thread(db, people["bo"], SLUG, post.thread_id, True, "Heated")
    with pytest.raises(GroupError, match="a date"):
        moderation.pin_thread(db, people["ali"], SLUG, post.thread_id, True, "soon", "Useful")
    last = (utcnow().date() + dt.timedelta(days=7)).isoformat()
    moderation.pin_thread(db, people["ali"], SLUG, post.thread_id, True, last, "Useful")
    thread = db.get(Thread, post.thread_id)
    assert thread.pinned and thread.pinned_until is not None
    with pytest.raises(GroupError, match="lengths offered"):
        moderation.set_slow_mode(db, people["ali"], SLUG, 7, "Busy")
    moderation.set_slow_mode(db, people["ali"], SLUG, 10, "Busy day")
    actions = [a.action for a in db.exec(select(ModAction).order_by(ModAction.id)).all()]
    assert actions == ["lock", "pin", "slow_mode"]
    with pytest.raises(NotFound):
        moderation.set_slow_mode(db, people["oli"], SLUG, 10, "Not mine")


def test_a_paused_member_is_told_until_when_and_a_removed_one_loses_the_group(db, people):
    post = _post(db, people["pat"])
    sam_row = _membership(db, people["sam"])
    moderation.mute_member(db, people["ali"], SLUG, sam_row.id, "1d", "Cool off")
    with pytest.raises(GroupError, match="paused your posting in this group until"):
        threads.reply(db, people["sam"], post.thread_id, "Hello", "m")
    ali_row = _membership(db, people["ali"])
    with pytest.raises(GroupError, match="Only the group's administrator"):
        moderation.mute_member(db, people["bo"], SLUG, ali_row.id, "1h", "Hm")
    with pytest.raises(GroupError, match="yourself"):
        moderation.mute_member(db, people["ali"], SLUG, ali_row.id, "1h", "Hm")
    moderation.remove_member(db, people["ali"], SLUG, sam_row.id, "Repeated unkindness")
    with pytest.raises(NotFound):
        threads.read_page(db, people["sam"], post.thread_id)
    with pytest.raises(GroupError, match="no longer a member"):
        moderation.remove_member(db, people["bo"], SLUG, sam_row.id, "Again")


def test_a_second_look_by_the_administrator_can_undo_a_hide(db, people):
    post = _post(db, people["pat"])
    moderation.hide_post(db, people["ali"], SLUG, post.id, "Looked like an advert")
    entry = db.exec(select(ModAction)).one()
    with pytest.raises(NotFound):  # not about Sam, and Sam is no peer supporter
        moderation.appeal(db, people["sam"], SLUG, entry.id, "Please")
    with pytest.raises(GroupError, match="why"):
        moderation.appeal(db, people["pat"], SLUG, entry.id, " ")
    made = moderation.appeal(db, people["pat"], SLUG, entry.id, "It was my own experience")
    with pytest.raises(GroupError, match="already been asked"):
        moderation.appeal(db, people["ali"], SLUG, entry.id, "I am unsure too")
    with pytest.raises(NotFound):
        moderation.appeals(db, people["ali"], SLUG)  # peer supporters do not answer appeals
    _group, (row,) = moderation.appeals(db, people["kim"], SLUG)
    assert row.by == "Pat M" and row.snapshot == post.body
    moderation.decide_appeal(db, people["kim"], SLUG, made.id, True, "Fair: it is lived advice", 1)
    db.refresh(post)
    assert post.status == "shown" and post.hidden_reason == ""
    with pytest.raises(GroupError, match="Another administrator"):
        moderation.decide_appeal(db, people["kim"], SLUG, made.id, False, "No", 1)
    _group, entries, _more = moderation.log(db, people["ali"], SLUG)
    assert [e.entry.action for e in entries] == ["appeal_overturned", "hide"]
    assert entries[1].appeal is not None and entries[1].appeal.status == "overturned"


def test_replies_and_mentions_are_told_once_per_thread_and_never_to_the_muted(db, people):
    post = _post(db, people["pat"])
    threads.reply(db, people["sam"], post.thread_id, "First", "1")
    threads.reply(db, people["sam"], post.thread_id, "Second", "2")
    pat_notes = db.exec(select(Notification).where(Notification.person_id == people["pat"].id))
    assert [n.kind for n in pat_notes] == ["groups.reply"]  # one unread per thread
    threads.reply(db, people["pat"], post.thread_id, "Thanks @Ali R, and @Oli R", "3")
    ali_notes = db.exec(select(Notification).where(Notification.person_id == people["ali"].id))
    assert [n.kind for n in ali_notes] == ["groups.mention"]
    # Oli is not in this group: not told. Words never say what the thread is about.
    assert (
        db.exec(select(Notification).where(Notification.person_id == people["oli"].id)).all() == []
    )
    assert all("After meals" not in n.message for n in db.exec(select(Notification)))
    threads.mute_thread(db, people["sam"], post.thread_id, True)
    db.exec(select(Notification)).all()
    for note in db.exec(select(Notification)).all():
        db.delete(note)
    db.commit()
    threads.reply(db, people["pat"], post.thread_id, "Anyone?", "4")
    assert (
        db.exec(select(Notification).where(Notification.person_id == people["sam"].id)).all() == []
    )


def test_mentions_read_display_names_by_their_look(db, people):
    assert notices.mentioned_keys("hi @Pat M!") >= {"pat", "patm"}
    assert notices.mentioned_keys("mail pat@example.org") == set()


def test_replies_wait_for_the_clock_to_go_to_devices_when_asked(db, people, monkeypatch):
    from webapp.groups.models import PeerProfile

    profile = db.exec(select(PeerProfile).where(PeerProfile.person_id == people["pat"].id)).one()
    profile.push_replies = True
    db.add(profile)
    db.commit()
    post = _post(db, people["pat"])
    threads.reply(db, people["sam"], post.thread_id, "Hello", "1")
    sent = []
    monkeypatch.setattr(notices.push, "send", lambda s, person, message: sent.append(person))
    assert notices.push_pending(db) == 1 and sent == [people["pat"].id]
    assert notices.push_pending(db) == 0  # sent once


def test_jump_to_first_unread_finds_the_page(db, people, monkeypatch):
    monkeypatch.setattr(threads, "POSTS_PER_PAGE", 3)
    post = _post(db, people["pat"])
    for n in range(4):
        threads.reply(db, people["sam"], post.thread_id, f"Reply {n}", f"k{n}")
    threads.read_page(db, people["pat"], post.thread_id, 1)  # read posts 1 to 3
    page, first = threads.first_unread(db, people["pat"], post.thread_id)
    replies = db.exec(select(Post).where(Post.thread_id == post.thread_id).order_by(Post.id)).all()
    assert page == 2 and first == replies[3].id
    view = threads.read_page(db, people["pat"], post.thread_id, 2)
    assert [s.new for s in view.posts] == [True, True]
    assert threads.first_unread(db, people["pat"], post.thread_id) == (2, None)
    later = threads.reply(db, people["sam"], post.thread_id, "Later", "k9")
    assert [s.post.id for s in threads.since(db, people["pat"], post.thread_id, view.last_id)] == [
        later.id
    ]


def _newcomer(db):
    newcomer = member(db, "Nia Bell", "nia@example.org", "Nia B")
    row = _membership(db, newcomer)
    row.posts_approved = 0
    db.add(row)
    db.commit()
    return newcomer


def test_a_new_members_edit_that_adds_a_link_waits_in_the_queue_with_its_new_words(db, people):
    post = _post(db, people["pat"])
    newcomer = _newcomer(db)
    reply = threads.reply(db, newcomer, post.thread_id, "Hello all", "n1")
    assert reply.status == "shown" and db.get(Thread, post.thread_id).post_count == 2
    threads.edit_post(db, newcomer, reply.id, "See https://example.org", reply.version)
    db.refresh(reply)
    assert reply.status == "held" and db.get(Thread, post.thread_id).post_count == 1
    _group, items = moderation.queue(db, people["ali"], SLUG)
    (item,) = [i for i in items if i.post.id == reply.id]
    assert item.report.kind == "held" and item.report.snapshot == "See https://example.org"
    with pytest.raises(GroupError, match="waiting to go up"):
        moderation.decide(db, people["ali"], SLUG, item.report.id, "keep", "Fine", 1)
    # Changed again while waiting: the peer supporter reads the words as they are now.
    threads.edit_post(db, newcomer, reply.id, "See https://example.org/rude", reply.version)
    _group, items = moderation.queue(db, people["ali"], SLUG)
    (item,) = [i for i in items if i.post.id == reply.id]
    assert item.report.snapshot == "See https://example.org/rude"
    moderation.decide(db, people["ali"], SLUG, item.report.id, "approve", "", item.report.version)
    assert db.get(Thread, post.thread_id).post_count == 2
    assert _membership(db, newcomer).posts_approved == 1


def test_an_edit_that_adds_crisis_words_reaches_the_queue(db, people):
    post = _post(db, people["pat"])
    threads.edit_post(db, people["pat"], post.id, "Honestly I want to end my life", post.version)
    _group, (item,) = moderation.queue(db, people["ali"], SLUG)
    assert item.report.kind == "crisis" and item.report.crisis


def test_undoing_a_hide_of_a_waiting_post_counts_it_as_gone_up(db, people):
    post = _post(db, people["pat"])
    newcomer = _newcomer(db)
    held = threads.reply(db, newcomer, post.thread_id, "Visit https://example.org", "h")
    _group, items = moderation.queue(db, people["ali"], SLUG)
    (item,) = [i for i in items if i.post.id == held.id]
    moderation.decide(db, people["ali"], SLUG, item.report.id, "hide", "Looks like spam", 1)
    entry = db.exec(select(ModAction).where(ModAction.action == "hide")).one()
    made = moderation.appeal(db, newcomer, SLUG, entry.id, "It is the charity's site")
    moderation.decide_appeal(db, people["kim"], SLUG, made.id, True, "Right: a charity", 1)
    db.refresh(held)
    thread = db.get(Thread, post.thread_id)
    assert held.status == "shown" and thread.post_count == 2 and thread.last_post_id == held.id
    assert _membership(db, newcomer).posts_approved == 1


def test_undoing_a_pause_or_removal_undoes_only_that_one(db, people):
    sam_row = _membership(db, people["sam"])
    moderation.mute_member(db, people["ali"], SLUG, sam_row.id, "1d", "First")
    first = db.exec(select(ModAction).where(ModAction.action == "mute")).one()
    moderation.mute_member(db, people["ali"], SLUG, sam_row.id, "7d", "Second, another thing")
    made = moderation.appeal(db, people["sam"], SLUG, first.id, "The first was unfair")
    moderation.decide_appeal(db, people["kim"], SLUG, made.id, True, "Agreed", 1)
    db.refresh(sam_row)
    assert sam_row.muted_until is not None  # the later, longer pause stands
    bo_row = _membership(db, people["bo"])
    moderation.remove_member(db, people["kim"], SLUG, bo_row.id, "Mistaken")
    removal = db.exec(select(ModAction).where(ModAction.action == "remove")).one()
    again = moderation.appeal(db, people["bo"], SLUG, removal.id, "Please")
    moderation.decide_appeal(db, people["kim"], SLUG, again.id, True, "Sorry", 1)
    db.refresh(bo_row)
    assert bo_row.status == "active" and bo_row.role == "supporter"


def test_the_starter_of_a_locked_conversation_may_ask_for_a_second_look(db, people):
    post = _post(db, people["pat"])
    moderation.lock_thread(db, people["ali"], SLUG, post.thread_id, True, "Heated")
    entry = db.exec(select(ModAction).where(ModAction.action == "lock")).one()
    assert moderation.appeal(db, people["pat"], SLUG, entry.id, "It calmed down").id
    with pytest.raises(NotFound):
        moderation.appealable(db, people["sam"], SLUG, entry.id)


def test_someone_removed_hears_nothing_more_of_the_groups_threads(db, people):
    post = _post(db, people["pat"])
    threads.reply(db, people["sam"], post.thread_id, "Me too", "s")
    moderation.remove_member(db, people["ali"], SLUG, _membership(db, people["sam"]).id, "Rude")
    before = len(
        db.exec(select(Notification).where(Notification.person_id == people["sam"].id)).all()
    )
    threads.reply(db, people["pat"], post.thread_id, "Hello @Sam L", "p")
    after = db.exec(select(Notification).where(Notification.person_id == people["sam"].id)).all()
    assert len(after) == before


def test_every_page_of_a_thread_holds_its_own_posts_in_order(db, people, monkeypatch):
    monkeypatch.setattr(threads, "POSTS_PER_PAGE", 3)
    post = _post(db, people["pat"])
    for n in range(6):
        threads.reply(db, people["sam"], post.thread_id, f"Reply {n}", f"k{n}")
    ids = [
        p.id
        for p in db.exec(select(Post).where(Post.thread_id == post.thread_id).order_by(Post.id))
    ]
    pages = [
        [s.post.id for s in threads.read_page(db, people["ali"], post.thread_id, n).posts]
        for n in (1, 2, 3, 9)
    ]
    assert pages == [ids[0:3], ids[3:6], ids[6:7], ids[6:7]]


def test_pinned_conversations_head_the_first_page_only(db, people):
    older = _post(db, people["pat"], "First", "a")
    threads.start_thread(db, people["sam"], SLUG, "Newer", "Second", "b")
    moderation.pin_thread(db, people["ali"], SLUG, older.thread_id, True, "", "Useful")
    group = db.exec(select(PeerGroup).where(PeerGroup.slug == SLUG)).one()
    listed, more = threads.list_threads(db, people["sam"], group)
    assert [(row.thread.title, row.pinned) for row in listed] == [
        ("After meals", True),
        ("Newer", False),
    ]
    assert not more and threads.list_threads(db, people["sam"], group, 2) == ([], False)


def test_a_peer_supporter_invites_by_display_name_and_it_is_logged(db, people):
    from webapp.groups import services as groups

    nia = member(db, "Nia Bell", "nia@example.org", "Nia B", role="")  # in no group yet
    with pytest.raises(GroupError, match="Nobody in groups uses that display name"):
        groups.invite(db, people["oli"], "breathing-space", "No Such Name")
    with pytest.raises(GroupError, match="already a member"):
        groups.invite(db, people["ali"], SLUG, "Sam L")
    with pytest.raises(NotFound):  # a peer supporter of another group
        groups.invite(db, people["oli"], SLUG, "Nia B")
    assert groups.invite(db, people["oli"], "breathing-space", "nia b") == "Nia B"
    told = db.exec(select(Notification).where(Notification.person_id == nia.id)).all()
    assert [n.kind for n in told] == ["groups.invite"]
    # Accepting makes them a member at once, even where others ask and wait.
    joined = groups.join(db, nia, "breathing-space")
    assert joined.status == "active"
    _group, entries, _more = moderation.log(db, people["oli"], "breathing-space")
    assert [e.entry.action for e in entries] == ["invite"]
    assert entries[0].words == "invited someone to join" and entries[0].about == "Nia B"


def test_answers_to_requests_to_join_are_in_the_log(db, people):
    from webapp.groups import services as groups

    nia = member(db, "Nia Bell", "nia@example.org", "Nia B", role="")
    asked = groups.join(db, nia, "breathing-space")
    groups.decide(db, people["oli"], "breathing-space", asked.id, False, asked.version, "Full")
    _group, entries, _more = moderation.log(db, people["oli"], "breathing-space")
    assert [(e.entry.action, e.entry.reason) for e in entries] == [("decline", "Full")]
