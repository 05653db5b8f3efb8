"""Carers, without HTTP: a person invites a carer and chooses what they may do; the carer
accepts with their own account and acts for the person; the person changes or stops it.

Every grant is read afresh on each request (see accounts.services.load_session), so a change
or a stop counts from the carer's very next request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, update
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import SCOPES, Actor, require
from webapp.accounts.models import AuthSession, Person
from webapp.accounts.services import AccountError, grant_is_live, validate_name
from webapp.accounts.tokens import (
    CODE_ALPHABET,
    hash_code,
    hash_token,
    new_code,
    new_token,
    normalise_code,
)
from webapp.carers.models import CarerGrant
from webapp.db import utcnow
from webapp.formatting import local_date

# A person may have this many invitations waiting at once (each is a way in to their record).
WAITING_LIMIT = 10
# An end date this far ahead at most; "no end date" is there for longer.
LONGEST = dt.timedelta(days=5 * 366)


class CarerError(ValueError):
    """Something the person can put right; `problems` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems

    @property
    def message(self) -> str:
        """Return the first problem, for pages with one message."""
        return next(iter(self.problems.values()))


def scope_names() -> dict[str, str]:
    """Name each scope as the person chooses it."""
    return {
        "results": _("Test results"),
        "planning": _(
            "Preparing for reviews (conversations, the list to talk about, and which "
            "conditions matter most)"
        ),
        "goals": _("Goals and progress (only goals I share, or that they write)"),
        "crisis": _("My plan for when I am unwell"),
        "timebank": _("The time bank"),
    }


def scope_short_names() -> dict[str, str]:
    """Name each scope briefly, for lists."""
    return {
        "results": _("results"),
        "planning": _("preparing for reviews"),
        "goals": _("goals and progress"),
        "crisis": _("plan for when unwell"),
        "timebank": _("time bank"),
    }


def scopes_of(grant: CarerGrant) -> list[str]:
    """Return the grant's scopes, in the order they are offered."""
    chosen = set(grant.scopes.split(","))
    return [scope for scope in SCOPES if scope in chosen]


def _check(
    form: dict[str, str], scopes: list[str], today: dt.date
) -> tuple[list[str], dt.date | None]:
    """Return the chosen scopes and end date, or raise CarerError saying what to change."""
    problems: dict[str, str] = {}
    chosen = [scope for scope in SCOPES if scope in scopes]
    if len(chosen) != len(set(scopes)):
        problems["scopes"] = _("Choose from the list of what they may help with.")
    elif not chosen:
        problems["scopes"] = _("Choose at least one thing they may help with.")
    ends_on = None
    text = form.get("ends_on", "").strip()
    if text:
        try:
            ends_on = dt.date.fromisoformat(text)
        except ValueError:
            problems["ends_on"] = _("Enter the end date as a date, like 2027-03-31.")
        else:
            if ends_on < today:
                problems["ends_on"] = _(
                    "The end date has passed. Choose today or a later day, or leave it empty."
                )
            elif ends_on > today + LONGEST:
                problems["ends_on"] = _(
                    "Choose an end date within five years, or leave it empty for no end date."
                )
    if problems:
        raise CarerError(problems)
    return chosen, ends_on


def invite_carer(
    session: Session, actor: Actor, person_id: int, form: dict[str, str], scopes: list[str]
) -> tuple[CarerGrant, str, str]:
    """Invite a carer: return the invitation, its link token and its short code (only their
    hashes are kept)."""
    require(actor, "carers.manage", person_id)
    problems: dict[str, str] = {}
    try:
        name = validate_name(form.get("name", ""))
    except AccountError as error:
        problems["name"] = error.message
        name = ""
    try:
        chosen, ends_on = _check(form, scopes, local_date(utcnow()))
    except CarerError as error:
        problems.update(error.problems)
    if problems:
        raise CarerError(problems)
    now = utcnow()
    waiting = session.exec(
        select(CarerGrant.id).where(
            CarerGrant.person_id == person_id,
            col(CarerGrant.carer_id).is_(None),
            col(CarerGrant.revoked_at).is_(None),
            CarerGrant.invitation_expires_at > now,
        )
    ).all()
    if len(waiting) >= WAITING_LIMIT:
        raise CarerError(
            {
                "name": _(
                    "You have %(count)d invitations waiting. Withdraw one you no longer need "
                    "before making another.",
                    count=len(waiting),
                )
            }
        )
    token, code = new_token(), new_code()
    grant = CarerGrant(
        person_id=person_id,
        carer_name=name,
        scopes=",".join(chosen),
        ends_on=ends_on,
        token_hash=hash_token(token),
        code_hash=hash_code(code),
        invitation_expires_at=now + dt.timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    session.add(grant)
    session.flush()
    audit.record(session, actor.id, "carer.invite", person_id, grant_id=grant.id, scopes=chosen)
    session.commit()
    return grant, token, code


@dataclass
class GrantRow:
    """One carer (or invitation) as the person sees it."""

    grant: CarerGrant
    carer: str
    status: str  # waiting, active, expired, ended, stopped

    @property
    def scopes(self) -> list[str]:
        """Return the scopes in the order they are offered."""
        return scopes_of(self.grant)


def status_of(grant: CarerGrant, now: dt.datetime | None = None) -> str:
    """Say where a grant is: waiting to be accepted, active, or over (and how)."""
    now = now or utcnow()
    if grant.revoked_at is not None:
        return "stopped"
    if grant.carer_id is None:
        return "expired" if grant.invitation_expires_at <= now else "waiting"
    if grant.ends_on is not None and grant.ends_on < local_date(now):
        return "ended"
    return "active"


def my_carers(session: Session, actor: Actor, person_id: int) -> list[GrantRow]:
    """Return the person's carers and invitations: active and waiting first, then the rest."""
    require(actor, "carers.manage", person_id)
    rows = session.exec(
        select(CarerGrant, Person.name)
        .join(Person, col(Person.id) == CarerGrant.carer_id, isouter=True)
        .where(CarerGrant.person_id == person_id)
        .order_by(col(CarerGrant.created_at).desc(), col(CarerGrant.id).desc())
    ).all()
    now = utcnow()
    found = [
        GrantRow(grant, name or grant.carer_name, status_of(grant, now)) for grant, name in rows
    ]
    order = {"active": 0, "waiting": 1}
    return sorted(found, key=lambda row: order.get(row.status, 2))


def _own_grant(session: Session, actor: Actor, grant_id: int) -> CarerGrant:
    grant = session.get(CarerGrant, grant_id)
    require(actor, "carers.manage", grant.person_id if grant is not None else None)
    assert grant is not None
    return grant


def get_grant(session: Session, actor: Actor, grant_id: int) -> GrantRow:
    """Return one of the person's carers or invitations."""
    grant = _own_grant(session, actor, grant_id)
    carer = session.get(Person, grant.carer_id) if grant.carer_id else None
    return GrantRow(grant, carer.name if carer else grant.carer_name, status_of(grant))


def change_grant(
    session: Session,
    actor: Actor,
    grant_id: int,
    form: dict[str, str],
    scopes: list[str],
    version: int,
) -> CarerGrant:
    """Change what a carer may do, and until when; counts from their next request."""
    grant = _own_grant(session, actor, grant_id)
    if grant.revoked_at is not None:
        raise CarerError({"scopes": _("This access has been stopped, so it cannot be changed.")})
    chosen, ends_on = _check(form, scopes, local_date(utcnow()))
    claimed = session.exec(
        update(CarerGrant)
        .where(
            col(CarerGrant.id) == grant.id,
            col(CarerGrant.version) == version,
            col(CarerGrant.revoked_at).is_(None),
        )
        .values(scopes=",".join(chosen), ends_on=ends_on, version=version + 1)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise CarerError(
            {
                "scopes": _(
                    "This was changed in another window or tab since you opened it. Here is "
                    "how it is now; make your change again."
                )
            }
        )
    audit.record(
        session, actor.id, "carer.scopes", grant.person_id, grant_id=grant.id, scopes=chosen
    )
    session.commit()
    session.refresh(grant)
    return grant


def stop_grant(session: Session, actor: Actor, grant_id: int) -> bool:
    """Stop a carer's access (or withdraw an invitation) at once; return False if it had
    already stopped."""
    grant = _own_grant(session, actor, grant_id)
    stopped = session.exec(
        update(CarerGrant)
        .where(col(CarerGrant.id) == grant.id, col(CarerGrant.revoked_at).is_(None))
        .values(revoked_at=utcnow(), version=grant.version + 1)
    )
    if stopped.rowcount != 1:
        session.rollback()
        return False
    audit.record(session, actor.id, "carer.stop", grant.person_id, grant_id=grant.id)
    session.commit()
    return True


# --- the carer's side ---------------------------------------------------------------------


def find_invitation(session: Session, token: str = "", code: str = "") -> CarerGrant:
    """Return the carer invitation for a link token or typed code, or raise CarerError
    saying why it cannot be used."""
    grant = None
    if code:
        canonical = normalise_code(code)
        plain = canonical.replace("-", "")
        if len(plain) != 8 or any(c not in CODE_ALPHABET for c in plain):
            raise CarerError(
                {
                    "code": _(
                        "A carer's code has 8 letters and numbers, like K7PM-X4HT. Check the "
                        "code and try again."
                    )
                }
            )
        grant = session.exec(
            select(CarerGrant).where(CarerGrant.code_hash == hash_code(canonical))
        ).first()
    elif token:
        grant = session.exec(
            select(CarerGrant).where(CarerGrant.token_hash == hash_token(token))
        ).first()
    if grant is None:
        raise CarerError(
            {
                "code": _(
                    "We could not find that invitation. Check the code or link, or ask the "
                    "person you help to send a new one."
                )
            }
        )
    return _usable(grant)


def _usable(grant: CarerGrant) -> CarerGrant:
    status = status_of(grant)
    if grant.carer_id is not None:
        raise CarerError(
            {
                "code": _(
                    "This invitation has already been used. If it was you, sign in and choose "
                    "them under \u201cPeople I help\u201d. If not, ask for a new invitation."
                )
            }
        )
    if status == "stopped":
        raise CarerError({"code": _("This invitation was withdrawn. Ask for a new one.")})
    if status == "expired":
        raise CarerError(
            {"code": _("This invitation has expired. Ask the person you help for a new one.")}
        )
    return grant


def person_name(session: Session, grant: CarerGrant) -> str:
    """Return the name of the person a grant is for."""
    person = session.get(Person, grant.person_id)
    return person.name if person else ""


def _claim(session: Session, grant: CarerGrant, carer_id: int, version: int | None = None) -> None:
    """Mark the invitation accepted by the carer, once, and only as they read it (the caller
    commits)."""
    now = utcnow()
    claimed = session.exec(
        update(CarerGrant)
        .where(
            col(CarerGrant.id) == grant.id,
            col(CarerGrant.version) == (grant.version if version is None else version),
            col(CarerGrant.carer_id).is_(None),
            col(CarerGrant.revoked_at).is_(None),
            CarerGrant.invitation_expires_at > now,
        )
        .values(carer_id=carer_id, accepted_at=now)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise CarerError({"code": _("This invitation has already been used or has expired.")})
    audit.record(session, carer_id, "carer.accept", grant.person_id, grant_id=grant.id)


def accept(
    session: Session, actor: Actor, token: str = "", code: str = "", version: int | None = None
) -> CarerGrant:
    """Accept a carer invitation into the signed-in account, as it was when the carer read it
    (`version`, from their page): one changed meanwhile is shown to them again first."""
    grant = find_invitation(session, token=token, code=code)
    if version is not None and version != grant.version:
        raise CarerError(
            {
                "code": _(
                    "What this invitation allows was changed since you opened it. Open the "
                    "link, or type the code, again to see it as it is now."
                )
            }
        )
    if grant.person_id == actor.id:
        raise CarerError(
            {
                "code": _(
                    "This invitation is one you made. Send the link or code to the person who "
                    "will help you: they accept it with their own account."
                )
            }
        )
    already = session.exec(
        select(CarerGrant).where(
            CarerGrant.person_id == grant.person_id, CarerGrant.carer_id == actor.id
        )
    ).all()
    if any(grant_is_live(other, actor.id) for other in already):
        raise CarerError(
            {
                "code": _(
                    "You already help %(name)s. They can change what you may do from their "
                    "Carers page.",
                    name=person_name(session, grant),
                )
            }
        )
    _claim(session, grant, actor.id, version)
    session.commit()
    session.refresh(grant)
    return grant


def accept_as_new_carer(session: Session, grant_id: int, user_handle: bytes) -> Person:
    """Create a new carer's account from an invitation and accept it (the caller commits)."""
    grant = session.get(CarerGrant, grant_id)
    if grant is None:
        raise CarerError({"code": _("This invitation has already been used or has expired.")})
    _usable(grant)
    person = Person(name=grant.carer_name, user_handle=user_handle)
    session.add(person)
    session.flush()
    assert person.id is not None
    _claim(session, grant, person.id)
    return person


@dataclass
class Helped:
    """Someone the carer helps, and what with."""

    grant: CarerGrant
    name: str

    @property
    def scopes(self) -> list[str]:
        """Return the scopes in the order they are offered."""
        return scopes_of(self.grant)


def one_helps_the_other(session: Session, first: int | None, second: int | None) -> bool:
    """Say whether either person is the other's carer today (a grant accepted, not stopped,
    not past its end). Used where the two must not deal with each other, whoever acts."""
    if first is None or second is None or first == second:
        return False
    grants = session.exec(
        select(CarerGrant).where(
            or_(
                (col(CarerGrant.person_id) == first) & (col(CarerGrant.carer_id) == second),
                (col(CarerGrant.person_id) == second) & (col(CarerGrant.carer_id) == first),
            ),
            col(CarerGrant.revoked_at).is_(None),
        )
    ).all()
    return any(grant_is_live(grant, grant.carer_id) for grant in grants)


def people_i_help(session: Session, actor: Actor) -> list[Helped]:
    """Return the people the carer may act for today, by name."""
    require(actor, "carers.act", actor.id)
    rows = session.exec(
        select(CarerGrant, Person.name)
        .join(Person, col(Person.id) == CarerGrant.person_id)
        .where(CarerGrant.carer_id == actor.id, col(CarerGrant.revoked_at).is_(None))
        .order_by(Person.name, CarerGrant.id)
    ).all()
    return [Helped(grant, name) for grant, name in rows if grant_is_live(grant, actor.id)]


def _set_acting(session: Session, actor: Actor, grant_id: int | None) -> None:
    session.exec(
        update(AuthSession)
        .where(col(AuthSession.token_hash) == hash_token(actor.session_token))
        .values(acting_grant_id=grant_id)
    )


def start_acting(session: Session, actor: Actor, grant_id: int) -> Helped:
    """Act for the person under one of the carer's live grants, in this session only."""
    require(actor, "carers.act", actor.id)
    grant = session.get(CarerGrant, grant_id)
    if grant is None or not grant_is_live(grant, actor.id):
        raise NotFound()
    if actor.acting is not None and actor.acting.grant_id != grant.id:
        audit.record(
            session, actor.id, "carer.end", actor.acting.person_id, grant_id=actor.acting.grant_id
        )
    _set_acting(session, actor, grant.id)
    audit.record(session, actor.id, "carer.start", grant.person_id, grant_id=grant.id)
    session.commit()
    return Helped(grant, person_name(session, grant))


def stop_acting(session: Session, actor: Actor) -> None:
    """Go back to the carer's own account in this session."""
    if actor.acting is not None:
        audit.record(
            session, actor.id, "carer.end", actor.acting.person_id, grant_id=actor.acting.grant_id
        )
    _set_acting(session, actor, None)
    session.commit()


def record_visit(session: Session, actor: Actor, section: str, changed: bool) -> None:
    """Record that a carer read or changed part of the person's record, for the person."""
    assert actor.acting is not None
    audit.record(
        session,
        actor.id,
        "carer.change" if changed else "carer.read",
        actor.acting.person_id,
        section=section,
        grant_id=actor.acting.grant_id,
    )
    session.commit()
