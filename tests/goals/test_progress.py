"""Progress over time: counted per week, said kindly, drawn without red or streaks."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.accounts.services import load_actor
from webapp.goals import services as goals
from webapp.goals.models import ProgressEntry
from webapp.goals.progress import goal_progress, progress_chart

TODAY = dt.date(2026, 11, 24)  # a Tuesday


@pytest.fixture
def actor(app, db, patient):
    with app.test_request_context():
        yield load_actor(db, patient)


def _log(db, goal, patient_id, day, outcome, key, **form):
    db.add(
        ProgressEntry(
            goal_id=goal.id,
            patient_id=patient_id,
            outcome=outcome,
            key=key,
            logged_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
            **form,
        )
    )
    db.commit()


def test_entries_are_counted_per_week_and_said_kindly(db, actor):
    goal = goals.create_goal(db, actor, actor.id, {"text": "Walk"}, TODAY)
    _log(db, goal, actor.id, TODAY, "did", "a", measure="Weight", value="84 kg")
    _log(db, goal, actor.id, TODAY - dt.timedelta(days=1), "partly", "b")
    _log(db, goal, actor.id, TODAY - dt.timedelta(days=14), "not_this_time", "c")
    _log(
        db,
        goal,
        actor.id,
        TODAY - dt.timedelta(days=20),
        "did",
        "d",
        measure="weight",
        value="86 kg",
    )
    _log(db, goal, actor.id, TODAY - dt.timedelta(days=90), "did", "old")  # before the weeks
    found = goal_progress(db, actor, goal.id, TODAY)
    assert len(found.weeks) == 8 and found.weeks[-1].starts == dt.date(2026, 11, 23)
    assert found.weeks[-1].counts == {"did": 1, "partly": 1, "not_this_time": 0}
    assert found.weeks[-3].counts["not_this_time"] == 1
    assert found.total == 4
    words = " ".join(found.words())
    assert (
        "you logged how it went 4 times: did it 2 times, partly 1 time, not this time 1 time."
        in words
    )
    assert "Noticing when it did not happen is useful too" in words
    assert "Weight: 86 kg on 4 Nov, 84 kg on 24 Nov." in words
    for unkind in ("streak", "missed", "failed", "only"):
        assert unkind not in words.lower()
    chart = str(progress_chart(found, "p1", "Entries per week"))
    assert chart.startswith("<svg") and 'role="img"' in chart and "Entries per week" in chart
    assert chart.count('class="bar ') == 4  # one bar part per outcome logged in a week
    assert "red" not in chart and "#f" not in chart.lower()


def test_nothing_logged_is_said_without_blame(db, actor):
    goal = goals.create_goal(db, actor, actor.id, {"text": "Walk"}, TODAY)
    found = goal_progress(db, actor, goal.id, TODAY)
    assert found.total == 0
    assert found.words() == [
        "Nothing logged in the last 8 weeks. Whenever you log how it went, it shows here."
        " Every entry counts, whatever happened."
    ]


def test_a_time_from_the_phone_is_believed_only_when_plausible(db, actor):
    goal = goals.create_goal(db, actor, actor.id, {"text": "Walk"}, TODAY)
    now = dt.datetime.now(dt.UTC)
    cases = {
        "earlier": (now - dt.timedelta(hours=5), True),
        "future": (now + dt.timedelta(days=2), False),
        "ancient": (now - dt.timedelta(days=400), False),
        "naive": (dt.datetime(2026, 11, 20, 8), False),
    }
    for key, (when, believed) in cases.items():
        entry, _new = goals.log_progress(db, actor, goal.id, {"outcome": "did"}, key, when)
        assert (
            abs((entry.logged_at - when.replace(tzinfo=dt.UTC)).total_seconds()) < 1
        ) == believed
