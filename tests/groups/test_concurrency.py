"""Group writes at the same instant, on PostgreSQL (where requests really run side by side):
one reply sent many times at once goes up once; two peer supporters deciding one report at
once, one wins and the other is told; slow mode holds for posts sent together."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.conftest import together
from tests.groups.test_threads import ctx, member  # noqa: F401 - the fixture is used
from webapp.accounts.services import load_actor
from webapp.groups import moderation, threads
from webapp.groups.models import PeerGroup, Post, Report
from webapp.groups.services import GroupError

# Left out on SQLite (tests/conftest.py); the PostgreSQL leg of CI runs these.
pytestmark = pytest.mark.postgres
SLUG = "living-with-diabetes"


def test_one_reply_sent_many_times_at_once_goes_up_once(app, db, ctx):  # noqa: F811
    pat = member(db, "Pat Morgan", "pat@example.org", "Pat M")
    sam = member(db, "Sam Lee", "sam@example.org", "Sam L")
    first = threads.start_thread(db, pat, SLUG, "Snacks", "What works?", "k")

    def send(session: Session, _n: int) -> object:
        made = threads.reply(session, load_actor(session, sam), first.thread_id, "Nuts", "same")
        return made.id

    results = together(app, 6, send)
    assert not [r for r in results if isinstance(r, Exception)], results
    posts = db.exec(select(Post).where(Post.key == "same")).all()
    assert len(posts) == 1 and set(results) == {posts[0].id}


def test_slow_mode_holds_for_posts_senttogether(app, db, ctx):  # noqa: F811
    pat = member(db, "Pat Morgan", "pat@example.org", "Pat M")
    sam = member(db, "Sam Lee", "sam@example.org", "Sam L")
    first = threads.start_thread(db, pat, SLUG, "Snacks", "What works?", "k")
    group = db.exec(select(PeerGroup).where(PeerGroup.slug == SLUG)).one()
    group.slow_mode_minutes = 30
    db.add(group)
    db.commit()

    def send(session: Session, n: int) -> object:
        return threads.reply(session, load_actor(session, sam), first.thread_id, f"Hi {n}", f"k{n}")

    results = together(app, 4, send)
    went_up = [r for r in results if isinstance(r, Post)]
    refused = [r for r in results if isinstance(r, GroupError)]
    assert len(went_up) == 1 and len(refused) == 3
    assert all("You can post again at" in r.message for r in refused)


def test_two_peer_supporters_on_one_report_at_once_one_wins(app, db, ctx):  # noqa: F811
    pat = member(db, "Pat Morgan", "pat@example.org", "Pat M")
    sam = member(db, "Sam Lee", "sam@example.org", "Sam L")
    ali = member(db, "Ali Rao", "ali@example.org", "Ali R", role="supporter")
    bo = member(db, "Bo Chan", "bo@example.org", "Bo C", role="supporter")
    post = threads.start_thread(db, pat, SLUG, "Snacks", "Buy my pills", "k")
    moderation.report(db, sam, post.id, "spam", "")
    report = db.exec(select(Report)).one()
    choices = [(ali, "hide", "Advertising"), (bo, "keep", "Seems fine")]

    def decide(session: Session, n: int) -> object:
        who, decision, reason = choices[n]
        return moderation.decide(
            session, load_actor(session, who), SLUG, report.id, decision, reason, 1
        )

    results = together(app, 2, decide)
    won = [r for r in results if isinstance(r, str)]
    told = [r for r in results if isinstance(r, GroupError)]
    assert len(won) == 1 and len(told) == 1, results
    assert "Another peer supporter" in told[0].message
    db.expire_all()
    assert db.get(Report, report.id).status == "done"
