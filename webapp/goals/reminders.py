"""Reminders the person chose for a goal, and an optional quiet weekly summary; the clock
sends those that are due, in the app and as Web Push. Without HTTP.

Times are UK wall-clock times. A time that does not exist on the day the clocks go forward
(01:30 on the last Sunday of March) is sent once, as soon as the time exists again (the
gap's length later: 02:30); a time that happens twice when they go back is sent once, the
first time. Before anything is sent, the reminder's next time is moved on in one guarded
update (compare and set), so a clock that restarts mid-run, or a second clock, never sends
the same reminder twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import update
from sqlmodel import Session, col, select

from webapp import audit
from webapp.access import Actor
from webapp.db import utcnow
from webapp.goals.models import GoalReminder, WeeklySummary
from webapp.goals.services import OPEN, GoalError, get_goal
from webapp.notifications import push
from webapp.notifications.services import notify
from webapp.planning.models import Goal

log = logging.getLogger(__name__)
UK = ZoneInfo("Europe/London")
DAYS = "0123456"
WEEKLY_DAY, WEEKLY_AT = 6, dt.time(18, 0)  # Sunday evening


def _wall_to_utc(day: dt.date, at: dt.time) -> dt.datetime:
    """Return the UTC moment of a UK wall-clock time on a day.

    With fold 0, a repeated time is its first occurrence, and a time in the spring gap is
    read with the offset from before the change: the gap's length later in wall-clock time
    (01:30 becomes 02:30 BST), so it is sent once that day, not skipped.
    """
    return dt.datetime.combine(day, at, tzinfo=UK).astimezone(dt.UTC)


def next_due(days: str, at: dt.time, after: dt.datetime) -> dt.datetime:
    """Return the first chosen day-and-time strictly after `after` (UTC)."""
    start = after.astimezone(UK).date()
    for offset in range(8):
        day = start + dt.timedelta(days=offset)
        if str(day.weekday()) in days:
            moment = _wall_to_utc(day, at)
            if moment > after:
                return moment
    raise ValueError("no day chosen")  # pragma: no cover - days is never empty here


def check(days: list[str], at: str) -> tuple[str, dt.time]:
    """Check the chosen days and time; raise GoalError naming what to fix."""
    problems = {}
    chosen = "".join(sorted({d for d in days if d in DAYS and len(d) == 1}))
    if not chosen:
        problems["days"] = _("Choose at least one day, or choose no reminders.")
    try:
        parsed = dt.time.fromisoformat(at.strip())
    except ValueError:
        parsed = None
        problems["at"] = _("Enter a time like 08:30.")
    if problems:
        raise GoalError(problems)
    assert parsed is not None
    return chosen, parsed.replace(second=0, microsecond=0, tzinfo=None)


def reminder_for(session: Session, actor: Actor, goal_id: int) -> GoalReminder | None:
    """Return the goal's reminder, if the person chose one."""
    goal = get_goal(session, actor, goal_id)
    return session.exec(select(GoalReminder).where(GoalReminder.goal_id == goal.id)).first()


def _persons_own(actor: Actor) -> None:
    """Reminders reach the person's own phone at times they chose: a carer cannot set them."""
    if actor.acting is not None:
        raise GoalError(
            {
                "days": _(
                    "Reminders go to %(name)s's own phone, so only %(name)s chooses them.",
                    name=actor.acting.person_name,
                )
            }
        )


def set_reminder(
    session: Session,
    actor: Actor,
    goal_id: int,
    days: list[str],
    at: str,
    now: dt.datetime | None = None,
) -> GoalReminder:
    """Remind the person about a goal on the chosen days at the chosen time (UK)."""
    goal = get_goal(session, actor, goal_id)
    _persons_own(actor)
    chosen, time = check(days, at)
    reminder = session.exec(select(GoalReminder).where(GoalReminder.goal_id == goal.id)).first()
    if reminder is None:
        assert goal.id is not None
        reminder = GoalReminder(
            goal_id=goal.id, patient_id=goal.patient_id, days=chosen, at=time, next_due_at=utcnow()
        )
        session.add(reminder)
    reminder.days, reminder.at = chosen, time
    reminder.next_due_at = next_due(chosen, time, now or utcnow())
    audit.record(session, actor.id, "goal.reminder", goal.patient_id, goal_id=goal.id)
    session.commit()
    return reminder


def clear_reminder(session: Session, actor: Actor, goal_id: int) -> None:
    """Choose no reminders for a goal."""
    reminder = reminder_for(session, actor, goal_id)
    _persons_own(actor)
    if reminder is not None:
        session.delete(reminder)
        audit.record(session, actor.id, "goal.reminder_off", reminder.patient_id, goal_id=goal_id)
        session.commit()


def weekly_summary(session: Session, actor: Actor) -> WeeklySummary | None:
    """Return the person's weekly summary setting (None when they have not asked for one)."""
    return session.exec(select(WeeklySummary).where(WeeklySummary.person_id == actor.id)).first()


def set_weekly_summary(
    session: Session, actor: Actor, wanted: bool, now: dt.datetime | None = None
) -> None:
    """Turn the quiet weekly summary on or off."""
    found = weekly_summary(session, actor)
    if wanted and found is None:
        due = next_due(str(WEEKLY_DAY), WEEKLY_AT, now or utcnow())
        session.add(WeeklySummary(person_id=actor.id, next_due_at=due))
    elif not wanted and found is not None:
        session.delete(found)
    session.commit()


def _claim(
    session: Session,
    model: type,
    row_id: int,
    seen: dt.datetime,
    new: dt.datetime,
    now: dt.datetime,
) -> bool:
    """Move a due row's next time on, if no one else has; say whether this run owns it."""
    moved = session.exec(
        update(model)
        .where(col(model.id) == row_id, col(model.next_due_at) == seen)
        .values(next_due_at=new, last_sent_at=now)
    )
    session.commit()
    return moved.rowcount == 1


def send_due(session: Session, now: dt.datetime | None = None) -> int:
    """Send every reminder and weekly summary that is due; return how many were sent.

    A reminder missed while the clock was stopped is sent once, not once per missed time.
    A reminder for a goal no longer open stays quiet (it is kept, should the goal reopen).
    """
    now = now or utcnow()
    sent = 0
    due = session.exec(
        select(
            GoalReminder.id,
            GoalReminder.next_due_at,
            GoalReminder.days,
            GoalReminder.at,
            GoalReminder.patient_id,
            Goal.id,
            Goal.status,
        )
        .join(Goal, col(Goal.id) == GoalReminder.goal_id)
        .where(col(GoalReminder.next_due_at) <= now)
    ).all()
    for row_id, seen, days, at, patient_id, goal_id, status in due:
        if not _claim(session, GoalReminder, row_id, seen, next_due(days, at, now), now):
            continue
        if status not in OPEN:  # achieved, changed or stopped: kept quiet, not removed
            continue
        _deliver(session, patient_id, "reminder", _("Time for your check-in"), f"/goals/{goal_id}")
        sent += 1
    weekly = session.exec(
        select(WeeklySummary.id, WeeklySummary.next_due_at, WeeklySummary.person_id).where(
            col(WeeklySummary.next_due_at) <= now
        )
    ).all()
    for row_id, seen, person_id in weekly:
        new = next_due(str(WEEKLY_DAY), WEEKLY_AT, now)
        if not _claim(session, WeeklySummary, row_id, seen, new, now):
            continue
        _deliver(session, person_id, "weekly", _("Your weekly look back is ready"), "/goals")
        sent += 1
    return sent


def _deliver(session: Session, person_id: int, kind: str, words: str, link: str) -> None:
    """Tell the person in the app and on their devices; a failure is logged, never repeated."""
    try:
        notify(session, person_id, kind, words, link)
        push.send(session, person_id, push.Message(title="Coproduce", body=words, url=link))
        session.commit()
    except Exception:  # one person's failure never stops the others
        session.rollback()
        log.exception("reminders: delivering to person %s failed", person_id)
