"""What needs a look, and private check-ins, without HTTP: the count across the groups a person
supports (and nobody else's), a check-in that reaches the post's author alone with a
notification that says nothing of the post, who may send one, once per peer supporter per
post (also when sent twice at once), words checked, and a daily limit."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlmodel import Session, select
from werkzeug.exceptions import NotFound

from tests.conftest import together
from tests.groups.test_threads import ctx, member  # noqa: F401 - the fixture is used
from webapp.access import Acting
from webapp.accounts.services import load_actor
from webapp.audit import AuditEvent
from webapp.db import utcnow
from webapp.groups import checkins, looks, moderation, threads
from webapp.groups.models import CheckIn, PeerProfile, Post
from webapp.groups.services import GroupError
from webapp.notifications.models import Notification

LIVING, BREATHING = "living-with-diabetes", "breathing-space"
WORRIED = "i cant go on, i want to end it all"


@pytest.fixture
def people(ctx, db):  # noqa: F811
    pat = member(db, "Pat Morgan", "pat@example.org", "Pat M")
    ali = member(db, "Ali Rao", "ali@example.org", "Ali R", role="supporter")
    # Ali supports Breathing space too, where Pat is a member.
    from webapp.groups import services as groups

    groups.set_role(db, BREATHING, "ali@example.org", "supporter")
    groups.set_role(db, BREATHING, "pat@example.org", "member")
    return {
        "pat": pat,
        "ali": ali,
        "sam": member(db, "Sam Lee", "sam@example.org", "Sam L"),
        "kim": member(db, "Kim Ode", "kim@example.org", "Kim O", role="admin"),
        "oli": member(db, "Oli Ray", "oli@example.org", "Oli R", BREATHING, "supporter"),
    }


def _thread(db, who, slug, words, key):
    return threads.start_thread(db, who, slug, "Tonight", words, key)


def test_the_count_is_of_posts_waiting_in_every_group_one_supports(db, people):
    pat, ali, sam, kim, oli = (people[k] for k in ("pat", "ali", "sam", "kim", "oli"))
    assert looks.header_counts(db, ali) == (True, 0)
    assert looks.header_counts(db, pat) == (False, 0)
    worried = _thread(db, pat, LIVING, WORRIED, "a")  # crisis words: in the queue
    calm = _thread(db, pat, LIVING, "A calm walk", "b")
    moderation.report(db, sam, calm.id, "spam", "")
    moderation.report(db, kim, calm.id, "unkind", "")  # two reports, one post
    _thread(db, pat, BREATHING, "i want to die", "c")
    # Ali supports both groups: three posts. Kim only this one, Oli only the other.
    assert looks.header_counts(db, ali) == (True, 3)
    assert looks.header_counts(db, kim) == (True, 2)
    assert looks.header_counts(db, oli) == (True, 1)
    assert looks.header_counts(db, sam) == (False, 0)  # a member: no link at all
    by_group = looks.waiting_by_group(db, ali)
    assert [(w.group.slug, w.posts, w.crisis) for w in by_group] == [
        (LIVING, 2, 1),
        (BREATHING, 1, 1),
    ]
    assert looks.waiting_by_group(db, sam) == []
    # A look taken: the count goes down for everyone who supports that group.
    _group, items = moderation.queue(db, kim, LIVING)
    item = next(i for i in items if i.post.id == worried.id)
    moderation.decide(db, kim, LIVING, item.report.id, "keep", "Checked in", item.report.version)
    assert looks.header_counts(db, ali) == (True, 2)
    assert looks.header_counts(db, kim) == (True, 1)


def test_a_check_in_reaches_the_author_alone_and_the_notice_says_nothing_of_the_post(db, people):
    pat, ali, sam = people["pat"], people["ali"], people["sam"]
    post = _thread(db, pat, LIVING, WORRIED, "a")
    found = checkins.target(db, ali, LIVING, post.id)
    assert found.author == "Pat M" and found.sent == [] and found.mine is None
    assert "Hello Pat M" in checkins.default_words(found.author)
    made, fresh = checkins.send_check_in(
        db, ali, LIVING, post.id, "Hello Pat M.\n\nThinking of you tonight."
    )
    assert fresh and made.recipient_id == pat.id and made.sender_id == ali.id
    assert made.words == "Hello Pat M.\n\nThinking of you tonight."
    (note,) = db.exec(select(Notification).where(Notification.kind == "groups.check_in")).all()
    assert note.person_id == pat.id and note.link == f"/groups/check-ins/{made.id}"
    assert "end it" not in note.message and "Thinking" not in note.message
    assert "diabetes" not in note.message.lower() and "Ali" not in note.message
    assert not note.push_pending  # Pat did not ask for replies on their devices
    # Recorded as Ali's own action (Pat's record would show Ali's real name).
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "groups.check_in")).one()
    assert event.actor_id == ali.id and event.subject_id == ali.id
    assert f'"post_id": {post.id}' in event.detail and "Thinking" not in event.detail
    # Pat reads it, shown by Ali's display name; nobody else can, Ali included.
    received = checkins.read_check_in(db, pat, made.id)
    assert received.by == "Ali R" and received.group.slug == LIVING
    assert db.get(CheckIn, made.id).read_at is not None
    for other in (ali, sam, people["kim"]):
        with pytest.raises(NotFound):
            checkins.read_check_in(db, other, made.id)
    with pytest.raises(NotFound):
        checkins.read_check_in(db, pat, made.id + 1000)
    # The queue shows the peer supporters it was sent (and by whom).
    _group, items = moderation.queue(db, people["kim"], LIVING)
    assert [(s.by, s.mine) for s in items[0].check_ins] == [("Ali R", False)]
    _group, items = moderation.queue(db, ali, LIVING)
    assert [(s.by, s.mine) for s in items[0].check_ins] == [("Ali R", True)]


def test_it_goes_to_their_devices_when_they_asked_for_replies_there(db, people):
    pat = people["pat"]
    profile = db.exec(select(PeerProfile).where(PeerProfile.person_id == pat.id)).one()
    profile.push_replies = True
    db.add(profile)
    db.commit()
    post = _thread(db, pat, LIVING, WORRIED, "a")
    checkins.send_check_in(db, people["ali"], LIVING, post.id, "Thinking of you.")
    note = db.exec(select(Notification).where(Notification.kind == "groups.check_in")).one()
    assert note.push_pending and "Thinking" not in note.message


def test_only_the_groups_peer_supporters_may_check_in_and_never_on_themselves(db, people):
    pat, sam, oli, ali = people["pat"], people["sam"], people["oli"], people["ali"]
    post = _thread(db, pat, LIVING, WORRIED, "a")
    # A member, a peer supporter of another group only, a carer acting for someone.
    acting = dataclasses.replace(
        ali, acting=Acting(grant_id=1, person_id=pat.id, person_name="Pat", scopes=frozenset())
    )
    for who in (sam, oli, acting):
        with pytest.raises(NotFound):
            checkins.target(db, who, LIVING, post.id)
        with pytest.raises(NotFound):
            checkins.send_check_in(db, who, LIVING, post.id, "Hello")
    # A post of another group, through this group's address.
    elsewhere = _thread(db, pat, BREATHING, "Pacing today", "b")
    with pytest.raises(NotFound):
        checkins.send_check_in(db, people["kim"], LIVING, elsewhere.id, "Hello")
    own = _thread(db, ali, LIVING, "i want to end my life", "c")
    with pytest.raises(GroupError, match="your own post"):
        checkins.send_check_in(db, ali, LIVING, own.id, "Hello")
    # An author whose account has closed: nobody to reach.
    db.get(Post, own.id).author_id = None
    db.commit()
    with pytest.raises(GroupError, match="account has closed"):
        checkins.send_check_in(db, people["kim"], LIVING, own.id, "Hello")
    assert db.exec(select(CheckIn)).all() == []
    assert db.exec(select(Notification).where(Notification.kind == "groups.check_in")).all() == []


def test_one_check_in_per_peer_supporter_per_post(db, people):
    pat, ali, kim = people["pat"], people["ali"], people["kim"]
    post = _thread(db, pat, LIVING, WORRIED, "a")
    first, fresh = checkins.send_check_in(db, ali, LIVING, post.id, "Thinking of you.")
    again, fresh_again = checkins.send_check_in(db, ali, LIVING, post.id, "Something else")
    assert fresh and not fresh_again and again.id == first.id
    assert db.get(CheckIn, first.id).words == "Thinking of you."
    # Another peer supporter may still send their own.
    other, other_fresh = checkins.send_check_in(db, kim, LIVING, post.id, "Here if you need.")
    assert other_fresh and other.id != first.id
    notes = db.exec(select(Notification).where(Notification.kind == "groups.check_in")).all()
    assert len(notes) == 2


def test_a_double_submit_at_the_same_moment_sends_once(app, db, people):
    post = _thread(db, people["pat"], LIVING, WORRIED, "a")
    ali_id = people["ali"].id

    def send(session: Session, _n: int):
        from webapp.accounts.models import Person

        actor = load_actor(session, session.get(Person, ali_id))
        return checkins.send_check_in(session, actor, LIVING, post.id, "Thinking of you.")

    answers = together(app, 2, send)
    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert sorted(fresh for _made, fresh in answers) == [False, True]
    assert len({made.id for made, _fresh in answers}) == 1
    db.expire_all()
    assert len(db.exec(select(CheckIn)).all()) == 1
    notes = db.exec(select(Notification).where(Notification.kind == "groups.check_in")).all()
    assert len(notes) == 1


def test_the_words_are_needed_kept_short_and_tidied(db, people):
    post = _thread(db, people["pat"], LIVING, WORRIED, "a")
    ali = people["ali"]
    with pytest.raises(GroupError, match="Write a few kind words") as empty:
        checkins.send_check_in(db, ali, LIVING, post.id, " \n\u200b ")
    assert empty.value.field == "words"
    with pytest.raises(GroupError, match="600 characters"):
        checkins.send_check_in(db, ali, LIVING, post.id, "x" * 601)
    made, _fresh = checkins.send_check_in(
        db, ali, LIVING, post.id, "Hi\u202e there\x07\n\n\n\nTake care"
    )
    assert made.words == "Hi there\n\nTake care"


def test_a_peer_supporter_sends_a_few_dozen_a_day_at_most(db, people, monkeypatch):
    monkeypatch.setattr(checkins, "PER_DAY", 2)
    ali, sam = people["ali"], people["sam"]
    posts = [_thread(db, sam, LIVING, f"Post {n}", f"s{n}") for n in range(4)]
    for post in posts[:2]:
        assert checkins.send_check_in(db, ali, LIVING, post.id, "Hello")[1]
    with pytest.raises(GroupError, match="the most one peer supporter can"):
        checkins.send_check_in(db, ali, LIVING, posts[2].id, "Hello")
    # Another peer supporter is not held back by Ali's day.
    assert checkins.send_check_in(db, people["kim"], LIVING, posts[2].id, "Hello")[1]
    # A day on, Ali may send again.
    later = utcnow() + dt.timedelta(days=1, minutes=1)
    monkeypatch.setattr(checkins, "utcnow", lambda: later)
    assert checkins.send_check_in(db, ali, LIVING, posts[3].id, "Hello")[1]
