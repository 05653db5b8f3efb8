"""Reminders without HTTP: UK times through the clock changes, sent once however the clock
runs, never with health details, quiet for goals that have ended."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from webapp.accounts.services import load_actor
from webapp.goals import reminders
from webapp.goals import services as goals
from webapp.goals.models import GoalReminder
from webapp.goals.services import GoalError
from webapp.notifications.models import Notification

UTC = dt.UTC


@pytest.fixture
def actor(app, db, patient):
    with app.test_request_context():
        yield load_actor(db, patient)


@pytest.fixture
def goal(db, actor):
    return goals.create_goal(
        db, actor, actor.id, {"text": "Lose weight before the wedding"}, dt.date(2026, 11, 24)
    )


def _at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def test_next_time_is_the_chosen_uk_day_and_time():
    tuesday = _at(2026, 11, 24, 10)
    assert reminders.next_due("0", dt.time(8, 30), tuesday) == _at(2026, 11, 30, 8, 30)
    assert reminders.next_due("1", dt.time(11, 0), tuesday) == _at(2026, 11, 24, 11)
    assert reminders.next_due("1", dt.time(10, 0), tuesday) == _at(2026, 12, 1, 10)
    # In summer, 08:30 in the UK is 07:30 UTC.
    assert reminders.next_due("0", dt.time(8, 30), _at(2027, 6, 1)) == _at(2027, 6, 7, 7, 30)


def test_a_time_in_the_spring_gap_is_sent_once_when_the_time_exists_again():
    # The clocks go forward at 01:00 GMT on 28 March 2027: 01:30 that day never happens.
    due = reminders.next_due("6", dt.time(1, 30), _at(2027, 3, 27, 12))
    assert due == _at(2027, 3, 28, 1, 30)  # 02:30 BST, the gap's length later
    assert reminders.next_due("6", dt.time(1, 30), due) == _at(2027, 4, 4, 0, 30)


def test_a_time_that_happens_twice_in_autumn_is_sent_the_first_time_only(db, actor, goal):
    # The clocks go back at 02:00 BST on 31 October 2027: 01:30 happens twice.
    reminders.set_reminder(db, actor, goal.id, ["6"], "01:30", now=_at(2027, 10, 30, 12))
    reminder = reminders.reminder_for(db, actor, goal.id)
    assert reminder.next_due_at == _at(2027, 10, 31, 0, 30)  # 01:30 BST
    assert reminders.send_due(db, _at(2027, 10, 31, 0, 31)) == 1
    assert reminders.send_due(db, _at(2027, 10, 31, 1, 31)) == 0  # 01:30 GMT: not again
    db.refresh(reminder)
    assert reminder.next_due_at == _at(2027, 11, 7, 1, 30)


def test_bad_reminders_say_what_to_fix(db, actor, goal):
    for days, at, field in (
        ([], "08:30", "days"),
        (["9", "x"], "08:30", "days"),
        (["0"], "25:00", "at"),
        (["0"], "half eight", "at"),
    ):
        with pytest.raises(GoalError) as error:
            reminders.set_reminder(db, actor, goal.id, days, at)
        assert field in error.value.problems
    assert reminders.reminder_for(db, actor, goal.id) is None


def test_a_due_reminder_is_sent_once_in_the_app_without_health_details(db, actor, goal):
    reminders.set_reminder(db, actor, goal.id, ["1", "3"], "08:30", now=_at(2026, 11, 24, 7))
    assert reminders.send_due(db, _at(2026, 11, 24, 8, 0)) == 0  # not yet
    assert reminders.send_due(db, _at(2026, 11, 24, 8, 31)) == 1
    assert reminders.send_due(db, _at(2026, 11, 24, 8, 32)) == 0  # a second run: nothing
    (note,) = db.exec(select(Notification)).all()
    assert note.message == "Time for your check-in" and note.link == f"/goals/{goal.id}"
    assert "weight" not in note.message.lower()
    assert reminders.reminder_for(db, actor, goal.id).next_due_at == _at(2026, 11, 26, 8, 30)


def test_two_clocks_never_send_the_same_reminder_twice(app, db, actor, goal):
    reminders.set_reminder(db, actor, goal.id, ["1"], "08:30", now=_at(2026, 11, 24, 7))
    reminder = reminders.reminder_for(db, actor, goal.id)
    seen = reminder.next_due_at
    later = reminders.next_due("1", dt.time(8, 30), seen)
    engine = app.extensions["db_engine"]
    with Session(engine) as first, Session(engine) as second:
        # Both saw it due; only the first to move it on may send it.
        assert reminders._claim(first, GoalReminder, reminder.id, seen, later, seen)
        assert not reminders._claim(second, GoalReminder, reminder.id, seen, later, seen)


def test_after_a_long_stop_a_missed_reminder_is_sent_once(db, actor, goal):
    reminders.set_reminder(db, actor, goal.id, list("0123456"), "09:00", now=_at(2026, 11, 1))
    assert reminders.send_due(db, _at(2026, 11, 24, 12)) == 1  # three weeks late: once
    assert len(db.exec(select(Notification)).all()) == 1
    assert reminders.reminder_for(db, actor, goal.id).next_due_at == _at(2026, 11, 25, 9)


def test_a_goal_that_has_ended_is_not_reminded(db, actor, goal):
    reminders.set_reminder(db, actor, goal.id, ["1"], "08:30", now=_at(2026, 11, 24, 7))
    goals.set_status(db, actor, goal.id, "stopped", goal.version)
    assert reminders.send_due(db, _at(2026, 11, 24, 9)) == 0
    assert db.exec(select(Notification)).all() == []


def test_no_reminders(db, actor, goal):
    reminders.set_reminder(db, actor, goal.id, ["1"], "08:30")
    reminders.clear_reminder(db, actor, goal.id)
    assert reminders.reminder_for(db, actor, goal.id) is None


def test_the_quiet_weekly_summary(db, actor):
    reminders.set_weekly_summary(db, actor, True, now=_at(2026, 11, 24, 12))
    assert reminders.weekly_summary(db, actor).next_due_at == _at(2026, 11, 29, 18)
    assert reminders.send_due(db, _at(2026, 11, 29, 18, 1)) == 1
    assert reminders.send_due(db, _at(2026, 11, 29, 18, 2)) == 0
    (note,) = db.exec(select(Notification)).all()
    assert note.message == "Your weekly look back is ready" and note.link == "/goals"
    reminders.set_weekly_summary(db, actor, False)
    assert reminders.weekly_summary(db, actor) is None


def test_the_clock_process_sends_due_reminders_once_across_restarts(app, db, actor, goal):
    reminders.set_reminder(db, actor, goal.id, ["1"], "08:30", now=_at(2026, 11, 24, 7))
    reminder = reminders.reminder_for(db, actor, goal.id)
    reminder.next_due_at = dt.datetime.now(UTC) - dt.timedelta(minutes=1)
    db.commit()
    for _restart in range(3):
        assert app.test_cli_runner().invoke(args=["clock", "--once"]).exit_code == 0
    assert len(db.exec(select(Notification)).all()) == 1


def test_push_keys_are_made_for_configuration(app):
    printed = app.test_cli_runner().invoke(args=["push", "keys"]).output
    assert printed.startswith("VAPID_PRIVATE_KEY=")
    app.config["VAPID_PRIVATE_KEY"] = printed.splitlines()[0].split("=", 1)[1]
    with app.app_context():
        from webapp.notifications import push

        assert push.public_key() in printed
