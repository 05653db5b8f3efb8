"""Asking the care team to get in touch, and the practice acting on it. Without HTTP.

Nothing reaches the practice unless the person chooses "I'd like my care team to know".
The request carries who asked and where (planning or groups), never their words. Staff of
the practice see it first thing and say when they have contacted the person; a request
nobody has acknowledged within one working day (webapp/contact/hours.py) is raised once to
the practice's admins, in the app and by email, without a name or any health detail.

Only the person asks for themself. A carer acting for them cannot: the request tells the
practice that the person's own words brought up the safety check, and whether that reaches
their care team is the person's choice (a carer may be close to what is wrong). A worried
carer can ring the practice as themself, and the help lines are shown to them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.accounts.models import Person, Practice, PracticeRole, Role
from webapp.contact import hours
from webapp.contact.models import ContactRequest
from webapp.db import utcnow
from webapp.formatting import weekday_names
from webapp.links import public_url
from webapp.mail import send_mail
from webapp.notifications.services import notify

log = logging.getLogger(__name__)
SOURCES = ("planning", "groups")
# The worklist shows the oldest open requests first; more than this is a practice to call.
WORKLIST_LIMIT = 100


class ContactError(Exception):
    """A request that cannot be made; the message says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Asked:
    """A request as the person is told about it: new or already with the team, when the
    practice will see it, and its working hours."""

    request: ContactRequest
    new: bool
    practice_name: str
    seen_from: dt.datetime
    open_now: bool
    hours: str


def working_hours(practice: Practice) -> hours.WorkingHours:
    """Return a practice's working hours (the default if what is stored cannot be read)."""
    try:
        return hours.parse(practice.working_hours, practice.closed_on_bank_holidays)
    except hours.HoursError:
        log.warning("practice %s has working hours that cannot be read", practice.id)
        return hours.parse(hours.DEFAULT_HOURS, practice.closed_on_bank_holidays)


def set_working_hours(
    session: Session, practice_id: int, spec: str | None, bank_holidays: bool | None
) -> Practice | None:
    """Set a practice's working hours and bank-holiday closing (None keeps each as it is);
    raise HoursError for hours that cannot be read. For the command line."""
    practice = session.get(Practice, practice_id)
    if practice is None:
        return None
    if bank_holidays is not None:
        practice.closed_on_bank_holidays = bank_holidays
    if spec is not None:
        practice.working_hours = hours.describe(hours.parse(spec))
    session.commit()
    return practice


def practice_of(session: Session, person_id: int) -> Practice | None:
    """Return the practice the person is registered with as a patient (the first, if several)."""
    return session.exec(
        select(Practice)
        .join(PracticeRole, col(PracticeRole.practice_id) == Practice.id)
        .where(PracticeRole.person_id == person_id, PracticeRole.role == Role.PATIENT)
        .order_by(col(PracticeRole.id))
    ).first()


def open_request(session: Session, person_id: int) -> ContactRequest | None:
    """Return the person's request that the team has not acknowledged yet, if any."""
    return session.exec(
        select(ContactRequest).where(
            ContactRequest.person_id == person_id, col(ContactRequest.acknowledged_at).is_(None)
        )
    ).first()


def _told(request: ContactRequest, new: bool, practice: Practice, now: dt.datetime) -> Asked:
    """Say when the practice will see a request, from its working hours."""
    found = working_hours(practice)
    seen_from = hours.next_open(found, max(now, request.created_at))
    return Asked(
        request=request,
        new=new,
        practice_name=practice.name,
        seen_from=seen_from,
        open_now=hours.is_open(found, now),
        hours=hours_in_words(found),
    )


def hours_in_words(found: hours.WorkingHours) -> str:
    """Say a practice's working hours in plain words: "Monday to Friday, 08:00 to 18:30"."""
    names = tuple(weekday_names().values())
    parts: list[str] = []
    for clause in hours.describe(found).split("; "):
        days, times = clause.split(" ")
        first, _dash, last = days.partition("-")
        opens, closes = times.split("-")
        when = (
            _(
                "%(first)s to %(last)s",
                first=names[hours.DAY_NAMES.index(first)],
                last=names[hours.DAY_NAMES.index(last)],
            )
            if last
            else names[hours.DAY_NAMES.index(first)]
        )
        parts.append(_("%(days)s, %(opens)s to %(closes)s", days=when, opens=opens, closes=closes))
    words = "; ".join(parts)
    if found.closed_on_bank_holidays:
        words = _("%(hours)s; closed on bank holidays", hours=words)
    return words


def ask(session: Session, actor: Actor, source: str, now: dt.datetime | None = None) -> Asked:
    """Ask the person's care team to contact them; a second choice finds the open request.

    Raises ContactError when the person has no practice in the app, NotFound for a carer
    acting for someone (only the person asks, see the module).
    """
    require(actor, "contact.ask", actor.id)
    if source not in SOURCES:
        raise ContactError(_("Choose the button to ask your care team to contact you."))
    practice = practice_of(session, actor.id)
    if practice is None:
        raise ContactError(
            _(
                "You are not registered with a practice in this app, so we cannot tell a care"
                " team. The help lines are there any time."
            )
        )
    now = now or utcnow()
    found = open_request(session, actor.id)
    if found is not None:
        return _told(found, False, practice, now)
    assert practice.id is not None
    request = ContactRequest(
        person_id=actor.id,
        practice_id=practice.id,
        source=source,
        created_at=now,
        due_at=hours.one_working_day_after(working_hours(practice), now),
    )
    session.add(request)
    try:
        session.flush()
    except IntegrityError:  # the same choice, sent twice at once: the other one stands
        session.rollback()
        found = open_request(session, actor.id)
        assert found is not None
        return _told(found, False, practice, now)
    audit.record(
        session, actor.id, "contact.asked", actor.id, source=source, contact_request=request.id
    )
    # The practice's clinicians (its admins if it has none) see at once that someone is
    # waiting, in the app, with no name and nothing of what was written.
    words = _("Someone asked their care team to contact them")
    for member in _staff(session, practice.id, (Role.CLINICIAN, Role.ADMIN)):
        assert member.id is not None
        if member.id != actor.id:
            notify(session, member.id, "contact_asked", words, _worklist_path(practice.id))
    session.commit()
    return _told(request, True, practice, now)


def worklist(session: Session, actor: Actor, practice_id: int) -> list[tuple[ContactRequest, str]]:
    """Return the practice's open requests, oldest first, each with the person's name."""
    require(actor, "contact.acknowledge", practice_id)
    return list(
        session.exec(
            select(ContactRequest, Person.name)
            .join(Person, col(Person.id) == ContactRequest.person_id)
            .where(
                ContactRequest.practice_id == practice_id,
                col(ContactRequest.acknowledged_at).is_(None),
            )
            .order_by(col(ContactRequest.created_at), col(ContactRequest.id))
            .limit(WORKLIST_LIMIT)
        ).all()
    )


def acknowledge(
    session: Session,
    actor: Actor,
    practice_id: int,
    request_id: int,
    now: dt.datetime | None = None,
) -> bool:
    """Record that a member of staff has contacted the person; False if someone already had."""
    require(actor, "contact.acknowledge", practice_id)
    request = session.get(ContactRequest, request_id)
    if request is None or request.practice_id != practice_id:
        raise NotFound()
    now = now or utcnow()
    done = session.exec(
        update(ContactRequest)
        .where(col(ContactRequest.id) == request_id, col(ContactRequest.acknowledged_at).is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=actor.id)
    )
    if done.rowcount != 1:
        session.rollback()
        return False
    audit.record(
        session,
        actor.id,
        "contact.acknowledged",
        request.person_id,
        practice_id=practice_id,
        contact_request=request_id,
    )
    session.commit()
    return True


def _worklist_path(practice_id: int) -> str:
    return f"/reviews/practices/{practice_id}#contact"


def _admins(session: Session, practice_id: int) -> list[Person]:
    """Return the practice's admins; its clinicians if it has none, so someone is told."""
    return _staff(session, practice_id, (Role.ADMIN, Role.CLINICIAN))


def _staff(session: Session, practice_id: int, roles: tuple[str, ...]) -> list[Person]:
    """Return the practice's people in the first of `roles` that has anyone."""
    for role in roles:
        found = list(
            session.exec(
                select(Person)
                .join(PracticeRole, col(PracticeRole.person_id) == Person.id)
                .where(PracticeRole.practice_id == practice_id, PracticeRole.role == role)
                .order_by(col(Person.id))
            )
        )
        if found:
            return found
    return []


def escalate_due(session: Session, now: dt.datetime | None = None) -> int:
    """Raise each request waiting more than a working day to its practice's admins, once.

    Each is claimed by a guarded update (set escalated_at where it is still empty) in the
    same transaction as the notifications and the emails (written to the outbox), so a
    second clock running at the same moment claims nothing. Returns how many were raised.
    """
    now = now or utcnow()
    due = session.exec(
        select(ContactRequest.id, ContactRequest.practice_id, ContactRequest.person_id).where(
            col(ContactRequest.acknowledged_at).is_(None),
            col(ContactRequest.escalated_at).is_(None),
            col(ContactRequest.due_at) <= now,
        )
    ).all()
    raised = 0
    for request_id, practice_id, person_id in due:
        claimed = session.exec(
            update(ContactRequest)
            .where(
                col(ContactRequest.id) == request_id,
                col(ContactRequest.acknowledged_at).is_(None),
                col(ContactRequest.escalated_at).is_(None),
            )
            .values(escalated_at=now)
        )
        if claimed.rowcount != 1:
            session.rollback()
            continue
        admins = _admins(session, practice_id)
        path = _worklist_path(practice_id)
        words = _("A request to be contacted has waited more than a working day")
        for admin in admins:
            assert admin.id is not None
            notify(session, admin.id, "contact_waiting", words, path)
        audit.record(
            session,
            None,
            "contact.escalated",
            person_id,
            practice_id=practice_id,
            contact_request=request_id,
            told=len(admins),
        )
        # The emails go to the outbox in the same transaction as the claim: sent once, and
        # retried by the clock if the mail server is down.
        link = public_url("reviews.index", practice_id=practice_id, _anchor="contact")
        for admin in admins:
            if admin.email:
                _email(session, admin.email, link)
        session.commit()
        raised += 1
        if not admins:
            log.warning("contact request %s waits; its practice has no staff", request_id)
    return raised


def _email(session: Session, to: str, link: str) -> None:
    """Tell an admin a request is waiting: no name, no words, no health detail."""
    send_mail(
        session,
        to,
        _("A request to be contacted is waiting"),
        _(
            "Someone registered with your practice asked their care team to contact them"
            " more than a working day ago, and nobody has said yet that they have.\n\n"
            "Please sign in to see who, and make sure someone gets in touch:\n%(link)s\n",
            link=link,
        ),
    )
