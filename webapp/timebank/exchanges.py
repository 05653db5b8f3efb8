"""Exchanges without HTTP: proposed from a listing, accepted or declined, confirmed by both
sides before hours move; coordinators agree to passing the lower limit, settle disputes and
exchanges left unconfirmed, record exchanges for members without the app, and correct.

Every change of an exchange reads it afresh under a lock (`ledger.lock_exchange`, after
`ledger.begin_writing`), so two people at once (both sides confirming, a coordinator
settling while a member confirms) are taken one after the other and hours move once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor
from webapp.carers.services import one_helps_the_other
from webapp.db import utcnow
from webapp.groups.text import plain_line, plain_text
from webapp.notifications.services import notify
from webapp.timebank import ledger
from webapp.timebank.hours import HoursError, hours_text, parse_hours
from webapp.timebank.ledger import touch
from webapp.timebank.models import BankMember, Exchange, LedgerEntry, Listing, TimeBank
from webapp.timebank.services import (
    TimebankError,
    bank_member,
    coordinating,
    get_listing,
    own_account,
)

# Days each side has to confirm after the day of the exchange before a coordinator settles.
CONFIRM_DAYS = 14
# How far back a proposal may be dated (help already given), and how far ahead.
PAST_DAYS, AHEAD_DAYS = 14, 366
DETAILS_MAX = 500
REASON_MAX = 500
PAGE_SIZE = 20
STATEMENT_PAGE = 50
MOVED = ("done", "settled", "recorded")
# What may wait for a member: a proposal to answer, hours to confirm.
WAITING = ("proposed", "accepted")
# The two sides of an exchange, made once so every statement built with them is cached.
GIVER = aliased(BankMember, name="giver")
RECEIVER = aliased(BankMember, name="receiver")


def new_key() -> str:
    """Return a key for a proposal form, so a double submit proposes once."""
    return secrets.token_urlsafe(16)


def _hours(text: str, field: str = "hours", allow_zero: bool = False) -> int:
    try:
        return parse_hours(text, allow_zero=allow_zero)
    except HoursError as error:
        raise TimebankError(error.message, field) from None


def _day(text: str, field: str = "happens_on") -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise TimebankError(_("Give the day as a date, for example 2026-12-03."), field) from None


def _reason(text: str, required: bool = True) -> str:
    reason = plain_line(text, 2000)
    if required and not reason:
        raise TimebankError(_("Say why, in a few words: both members will see it."), "reason")
    if len(reason) > REASON_MAX:
        raise TimebankError(
            _("The reason can be at most %(most)s characters.", most=REASON_MAX), "reason"
        )
    return reason


def _tell(session: Session, member: BankMember, text: str, exchange: Exchange) -> None:
    """Tell a member about an exchange (members kept by coordinators have no account)."""
    if member.person_id is not None:
        bank = session.get(TimeBank, exchange.bank_id)
        assert bank is not None
        notify(
            session,
            member.person_id,
            "timebank",
            text,
            f"/timebank/{bank.slug}/exchanges/{exchange.id}",
        )


def _record(session: Session, actor: Actor, action: str, member: BankMember, **detail: object):
    audit.record(
        session, actor.id, action, member.person_id, acting=actor.acting is not None, **detail
    )


# --- members -------------------------------------------------------------------------------


def propose(
    session: Session,
    actor: Actor,
    slug: str,
    listing_id: int,
    form: dict[str, str],
    today: dt.date,
) -> Exchange:
    """Propose an exchange from a listing: its maker gives (an offer) or receives (a
    request). One that would take the receiver past the bank's lower limit waits for a
    coordinator's agreement first."""
    bank, me = own_account(session, actor, slug)
    listing = get_listing(session, bank, listing_id)
    key = (form.get("key") or "").strip()
    if not 8 <= len(key) <= 40:
        raise TimebankError(_("The form was not complete. Open the page again and resend it."))
    estimate = _hours(form.get("hours", ""))
    happens_on = _day(form.get("happens_on", ""))
    if happens_on < today - dt.timedelta(days=PAST_DAYS):
        raise TimebankError(
            _(
                "That day is more than %(days)s days ago. Ask a coordinator to record help "
                "given longer ago.",
                days=PAST_DAYS,
            ),
            "happens_on",
        )
    if happens_on > today + dt.timedelta(days=AHEAD_DAYS):
        raise TimebankError(_("Choose a day within the next year."), "happens_on")
    details = plain_text(form.get("details", ""))
    if len(details) > DETAILS_MAX:
        raise TimebankError(
            _("The note can be at most %(most)s characters.", most=DETAILS_MAX), "details"
        )
    # Checked again under the lock: a removal or a closed listing in between stands.
    ledger.begin_writing(session)
    listing = ledger.lock_row(session, Listing, listing.id)
    me, other = ledger.lock_members(session, me.id, listing.member_id)
    if me.id == other.id:
        raise TimebankError(_("This is your own listing. Choose someone else's offer or request."))
    if me.status != "active":
        raise NotFound()
    if actor.acting is not None and other.person_id == actor.id:
        raise TimebankError(
            _("This is your own listing. You cannot trade with someone you are helping.")
        )
    _refuse_carer_and_person(session, me, other)
    if listing.status != "open" or (listing.ends_on is not None and listing.ends_on < today):
        raise TimebankError(_("This listing has ended, so it cannot be taken up now."))
    if other.status != "active":
        raise TimebankError(_("The member who listed this has left the time bank."))
    giver, receiver = (other, me) if listing.kind == "offer" else (me, other)
    waiting = receiver.balance - estimate < bank.lower_limit
    exchange = Exchange(
        bank_id=bank.id,
        listing_id=listing.id,
        giver_id=giver.id,
        receiver_id=receiver.id,
        proposer_id=me.id,
        proposed_by_id=actor.id,
        title=listing.title,
        details=details,
        category=listing.category,
        happens_on=happens_on,
        estimate=estimate,
        status="waiting" if waiting else "proposed",
        key=key,
    )
    session.add(exchange)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = session.exec(
            select(Exchange).where(Exchange.proposer_id == me.id, Exchange.key == key)
        ).first()
        if existing is None:
            raise
        return existing
    _record(session, actor, "timebank.propose", me, bank=slug, exchange=exchange.id)
    if not waiting:
        _tell(
            session, other, _("Someone proposed an exchange with you in the time bank."), exchange
        )
    touch(session, bank.id)
    session.commit()
    return exchange


def get_exchange(session: Session, bank: TimeBank, exchange_id: int) -> Exchange:
    """Return one of the bank's exchanges, or raise NotFound."""
    exchange = session.get(Exchange, exchange_id)
    if exchange is None or exchange.bank_id != bank.id:
        raise NotFound()
    return exchange


def own_exchange(
    session: Session, actor: Actor, slug: str, exchange_id: int
) -> tuple[TimeBank, BankMember, Exchange]:
    """Return an exchange the actor's account takes part in, or raise NotFound."""
    bank, me = own_account(session, actor, slug)
    exchange = get_exchange(session, bank, exchange_id)
    if me.id not in (exchange.giver_id, exchange.receiver_id):
        raise NotFound()
    if actor.acting is not None:
        other = _other(session, exchange, me)
        if other.person_id == actor.id:
            # Both sides confirm so that two people agree: one person cannot be both.
            raise TimebankError(
                _(
                    "You take part in this exchange yourself, so you cannot answer it for the "
                    "person you help. Ask a coordinator."
                )
            )
    return bank, me, exchange


def _locked(session: Session, exchange: Exchange) -> Exchange:
    ledger.begin_writing(session)
    assert exchange.id is not None
    fresh = ledger.lock_exchange(session, exchange.id)
    assert fresh is not None
    return fresh


def _other(session: Session, exchange: Exchange, me: BankMember) -> BankMember:
    other_id = exchange.receiver_id if me.id == exchange.giver_id else exchange.giver_id
    other = session.get(BankMember, other_id)
    assert other is not None
    return other


def _changed(exchange: Exchange) -> TimebankError:
    """Say what happened to an exchange someone else changed first."""
    words = {
        "accepted": _("It was accepted a moment ago."),
        "declined": _("It was declined."),
        "withdrawn": _("It was withdrawn."),
        "cancelled": _("It was called off."),
        "done": _("Both sides confirmed it and %(hours)s moved.", hours=hours_text(exchange.moved)),
        "settled": _(
            "A coordinator settled it: %(hours)s moved.", hours=hours_text(exchange.moved)
        ),
        "recorded": _("A coordinator recorded it."),
        "waiting": _(
            "It is waiting for a coordinator to agree, as it would take the receiver "
            "past the time bank's lower limit."
        ),
        "disputed": _("The two sides gave different hours; a coordinator will settle it."),
        "held": _("It would take the receiver past the lower limit; a coordinator will settle it."),
        "proposed": _("It is still a proposal."),
    }
    return TimebankError(
        _(
            "%(what)s Nothing was changed.",
            what=words.get(exchange.status, ""),
        )
    )


def _move_on(session: Session, exchange: Exchange, status: str, **values: object) -> None:
    exchange.status = status
    for field, value in values.items():
        setattr(exchange, field, value)
    exchange.version += 1
    exchange.updated_at = utcnow()
    session.add(exchange)


def _refuse_carer_and_person(session: Session, me: BankMember, other: BankMember) -> None:
    """A carer and the person they help never trade hours with each other, whether the carer
    is acting for the person or using their own account, in either direction: the person's
    hours are theirs to give and receive."""
    if one_helps_the_other(session, me.person_id, other.person_id):
        raise TimebankError(
            _(
                "You cannot trade hours with this member: one of you is the other's carer "
                "in Coproduce. A coordinator can help arrange it another way."
            )
        )


def answer(
    session: Session,
    actor: Actor,
    slug: str,
    exchange_id: int,
    accept: bool,
    today: dt.date,
    reason: str = "",
) -> Exchange:
    """Accept or decline a proposal made to the actor's account."""
    _bank, me, exchange = own_exchange(session, actor, slug, exchange_id)
    reason = _reason(reason, required=False)
    exchange = _locked(session, exchange)
    if exchange.proposer_id == me.id:
        raise TimebankError(_("You proposed this; the other member answers it."))
    if exchange.status != "proposed":
        raise _changed(exchange)
    if accept:
        _refuse_carer_and_person(session, me, _other(session, exchange, me))
        _move_on(session, exchange, "accepted", reason=reason, accepted_on=today)
    else:
        _move_on(session, exchange, "declined", reason=reason)
    _record(session, actor, "timebank.answer", me, exchange=exchange.id, accepted=accept)
    other = _other(session, exchange, me)
    _tell(
        session,
        other,
        _("Your proposed exchange was accepted.")
        if accept
        else _("Your proposed exchange was declined."),
        exchange,
    )
    touch(session, exchange.bank_id)
    session.commit()
    return exchange


def call_off(
    session: Session, actor: Actor, slug: str, exchange_id: int, reason: str = ""
) -> Exchange:
    """Withdraw a proposal, or call off an accepted exchange before either side has
    confirmed it."""
    _bank, me, exchange = own_exchange(session, actor, slug, exchange_id)
    reason = _reason(reason, required=False)
    exchange = _locked(session, exchange)
    if exchange.status in ("waiting", "proposed") and exchange.proposer_id == me.id:
        _move_on(session, exchange, "withdrawn", reason=reason)
    elif (
        exchange.status == "accepted"
        and exchange.giver_hours is None
        and (exchange.receiver_hours is None)
    ):
        _move_on(session, exchange, "cancelled", reason=reason)
    elif exchange.status == "accepted":
        raise TimebankError(
            _("One side has already confirmed it. Confirm that it did not happen instead.")
        )
    else:
        raise _changed(exchange)
    _record(session, actor, "timebank.call_off", me, exchange=exchange.id)
    _tell(session, _other(session, exchange, me), _("An exchange was called off."), exchange)
    touch(session, exchange.bank_id)
    session.commit()
    return exchange


def _past_limit(session: Session, exchange: Exchange, quarters: int) -> bool:
    """Say whether moving these hours takes the receiver below the bank's lower limit when a
    coordinator has not agreed to as many (read under the lock)."""
    bank = session.get(TimeBank, exchange.bank_id)
    receiver = ledger.lock_members(session, exchange.receiver_id)[0]
    assert bank is not None
    if receiver.balance - quarters >= bank.lower_limit:
        return False
    agreed = exchange.coordinator_id is not None and quarters <= exchange.estimate
    return not agreed


def confirm(
    session: Session,
    actor: Actor,
    slug: str,
    exchange_id: int,
    hours: str,
    today: dt.date,
    happened: bool = True,
) -> Exchange:
    """Say how many hours were actually given (or that it did not happen). When both sides
    agree the hours move; when they differ a coordinator settles it."""
    _bank, me, exchange = own_exchange(session, actor, slug, exchange_id)
    quarters = _hours(hours) if happened else 0
    exchange = _locked(session, exchange)
    side = "giver" if me.id == exchange.giver_id else "receiver"
    if exchange.status not in ("accepted", "disputed"):
        raise _changed(exchange)
    # Agreed before one became the other's carer: neither confirms it now (a carer could
    # otherwise confirm both sides); a coordinator settles it.
    _refuse_carer_and_person(session, me, _other(session, exchange, me))
    if today < exchange.happens_on:
        raise TimebankError(
            _("You can confirm once it has happened, from the day of the exchange.")
        )
    said = getattr(exchange, f"{side}_hours")
    if exchange.status == "accepted" and said is not None:
        raise TimebankError(
            _(
                "You have already confirmed %(hours)s. It waits for the other member now.",
                hours=hours_text(said),
            )
        )
    setattr(exchange, f"{side}_hours", quarters)
    setattr(exchange, f"{side}_confirmed_by_id", actor.id)
    other_said = exchange.receiver_hours if side == "giver" else exchange.giver_hours
    other = _other(session, exchange, me)
    if other_said is None:
        _move_on(session, exchange, "accepted")
        _tell(session, other, _("Please confirm the hours of an exchange."), exchange)
    elif other_said == quarters and quarters and _past_limit(session, exchange, quarters):
        # More than was agreed, past the limit: a coordinator looks before hours move.
        _move_on(
            session,
            exchange,
            "held",
            reason=_(
                "Both sides confirmed %(hours)s, which would take the receiver past the "
                "time bank's lower limit; a coordinator will settle it.",
                hours=hours_text(quarters),
            ),
        )
    elif other_said == quarters and quarters:
        ledger.move(session, exchange, quarters, "exchange", actor.id)
        _move_on(session, exchange, "done")
        _tell(session, other, _("An exchange was confirmed and the hours moved."), exchange)
    elif other_said == quarters:
        _move_on(session, exchange, "cancelled", reason=_("Both said it did not happen."))
    else:
        _move_on(session, exchange, "disputed")
        _tell(
            session,
            other,
            _("The hours you each gave for an exchange differ; a coordinator will settle it."),
            exchange,
        )
    _record(session, actor, "timebank.confirm", me, exchange=exchange.id, hours=quarters)
    touch(session, exchange.bank_id)
    session.commit()
    return exchange


# --- lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeRow:
    """An exchange as a list shows it: the other side's name, and whether it waits for the
    viewer."""

    exchange: Exchange
    giver: str
    receiver: str
    needs_you: bool = False


def waits_for(exchange: Exchange, member_id: int, today: dt.date) -> bool:
    """Say whether an exchange waits for this member to do something."""
    if exchange.status == "proposed":
        return exchange.proposer_id != member_id
    side = "giver" if member_id == exchange.giver_id else "receiver"
    if exchange.status == "accepted":
        return today >= exchange.happens_on and getattr(exchange, f"{side}_hours") is None
    return False


def confirm_by(exchange: Exchange) -> dt.date:
    """Return the last day both sides have to confirm: 14 days after the day of the help,
    or after it was agreed if that was later."""
    start = max(exchange.happens_on, exchange.accepted_on or exchange.happens_on)
    return start + dt.timedelta(days=CONFIRM_DAYS)


def overdue(exchange: Exchange, today: dt.date) -> bool:
    """Say whether the days to confirm have passed without both sides confirming."""
    return exchange.status == "accepted" and today > confirm_by(exchange)


def _rows(
    session: Session,
    where: list,
    order: list,
    member_id: int | None,
    today: dt.date,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> list[ExchangeRow]:
    giver, receiver = GIVER, RECEIVER
    rows = session.exec(
        select(Exchange, giver.display_name, receiver.display_name)
        .join(giver, col(giver.id) == Exchange.giver_id)
        .join(receiver, col(receiver.id) == Exchange.receiver_id)
        .where(*where)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    ).all()
    return [
        ExchangeRow(exchange, g, r, member_id is not None and waits_for(exchange, member_id, today))
        for exchange, g, r in rows
    ]


def exchanges_of(
    session: Session, member: BankMember, today: dt.date, page: int = 1
) -> tuple[list[ExchangeRow], bool]:
    """Return a page of a member's exchanges, newest first, and whether there are more."""
    # Each side read newest first from its own index, then the two put together.
    enough = page * PAGE_SIZE + 1
    sides = [
        select(Exchange.id)
        .where(side == member.id)
        .order_by(col(Exchange.id).desc())
        .limit(enough)
        .subquery()
        for side in (col(Exchange.giver_id), col(Exchange.receiver_id))
    ]
    ids = union_all(*(select(side.c.id) for side in sides)).subquery()
    rows = _rows(
        session,
        [col(Exchange.id).in_(select(ids.c.id))],
        [col(Exchange.id).desc()],
        member.id,
        today,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def waiting_for(session: Session, member: BankMember, today: dt.date) -> list[ExchangeRow]:
    """Return the exchanges waiting for this member to answer or confirm, oldest first."""
    rows = _rows(
        session,
        [
            or_(
                (col(Exchange.giver_id) == member.id) & col(Exchange.status).in_(WAITING),
                (col(Exchange.receiver_id) == member.id) & col(Exchange.status).in_(WAITING),
            )
        ],
        [col(Exchange.happens_on), col(Exchange.id)],
        member.id,
        today,
        limit=200,
    )
    return [row for row in rows if row.needs_you]


def names(session: Session, exchange: Exchange) -> tuple[BankMember, BankMember]:
    """Return the giver and receiver of an exchange."""
    giver = session.get(BankMember, exchange.giver_id)
    receiver = session.get(BankMember, exchange.receiver_id)
    assert giver is not None and receiver is not None
    return giver, receiver


def movements(session: Session, exchange: Exchange) -> list[LedgerEntry]:
    """Return an exchange's ledger entries, giver's side only (one per movement)."""
    return list(
        session.exec(
            select(LedgerEntry)
            .where(
                LedgerEntry.exchange_id == exchange.id,
                LedgerEntry.member_id == exchange.giver_id,
            )
            .order_by(col(LedgerEntry.step))
        )
    )


# --- coordinators --------------------------------------------------------------------------


def to_settle(session: Session, bank: TimeBank, today: dt.date) -> list[ExchangeRow]:
    """Return exchanges for a coordinator: waiting for agreement, disputed, or not confirmed
    in time; oldest first."""
    cutoff = today - dt.timedelta(days=CONFIRM_DAYS)
    return _rows(
        session,
        [
            Exchange.bank_id == bank.id,
            or_(
                col(Exchange.status).in_(("waiting", "disputed", "held")),
                (col(Exchange.status) == "accepted")
                & (col(Exchange.happens_on) < cutoff)
                & or_(col(Exchange.accepted_on).is_(None), col(Exchange.accepted_on) < cutoff),
            ),
        ],
        [col(Exchange.happens_on), col(Exchange.id)],
        None,
        today,
        limit=200,
    )


def _not_a_party(coordinator: BankMember, exchange: Exchange) -> None:
    if coordinator.id in (exchange.giver_id, exchange.receiver_id):
        raise TimebankError(_("You took part in this exchange. Ask another coordinator."))


def agree(
    session: Session,
    actor: Actor,
    slug: str,
    exchange_id: int,
    approve: bool,
    reason: str = "",
) -> Exchange:
    """Agree that a proposal may take the receiver past the lower limit (it then goes to the
    other member), or decline it with a reason."""
    bank, coordinator = coordinating(session, actor, slug)
    exchange = get_exchange(session, bank, exchange_id)
    _not_a_party(coordinator, exchange)
    reason = _reason(reason, required=not approve)
    exchange = _locked(session, exchange)
    if exchange.status != "waiting":
        raise _changed(exchange)
    _move_on(
        session,
        exchange,
        "proposed" if approve else "declined",
        coordinator_id=actor.id,
        reason=reason,
    )
    giver, receiver = names(session, exchange)
    proposer = giver if exchange.proposer_id == giver.id else receiver
    other = receiver if proposer is giver else giver
    if approve:
        _tell(
            session, other, _("Someone proposed an exchange with you in the time bank."), exchange
        )
    else:
        _tell(session, proposer, _("A coordinator declined a proposed exchange."), exchange)
    audit.record(session, actor.id, "timebank.agree", None, exchange=exchange.id, agreed=approve)
    touch(session, exchange.bank_id)
    session.commit()
    return exchange


def settle(
    session: Session,
    actor: Actor,
    slug: str,
    exchange_id: int,
    hours: str,
    reason: str,
    today: dt.date,
) -> Exchange:
    """Settle a disputed exchange, or one not confirmed in time, with the hours that move
    (0: it did not happen) and a reason both members see."""
    bank, coordinator = coordinating(session, actor, slug)
    exchange = get_exchange(session, bank, exchange_id)
    _not_a_party(coordinator, exchange)
    quarters = _hours(hours, allow_zero=True)
    reason = _reason(reason)
    exchange = _locked(session, exchange)
    if exchange.status == "accepted" and not overdue(exchange, today):
        giver, receiver = names(session, exchange)
        if all(m.status == "active" and m.person_id is not None for m in (giver, receiver)):
            raise TimebankError(
                _(
                    "Both members have until %(day)s to confirm. Settle it after that, or "
                    "once they disagree.",
                    day=confirm_by(exchange).isoformat(),
                )
            )
    elif exchange.status not in ("accepted", "disputed", "held"):
        raise _changed(exchange)
    ledger.move(session, exchange, quarters, "settlement", actor.id, reason)
    _move_on(session, exchange, "settled", coordinator_id=actor.id, reason=reason)
    for member in names(session, exchange):
        _tell(session, member, _("A coordinator settled an exchange."), exchange)
    audit.record(session, actor.id, "timebank.settle", None, exchange=exchange.id, hours=quarters)
    touch(session, exchange.bank_id)
    session.commit()
    return exchange


def record(
    session: Session,
    actor: Actor,
    slug: str,
    form: dict[str, str],
    categories: dict[str, str],
    today: dt.date,
) -> Exchange:
    """Record help already given, for members who cannot use the app: the hours move at
    once, recorded as by the coordinator."""
    bank, coordinator = coordinating(session, actor, slug)
    try:
        giver = bank_member(session, bank, int(form.get("giver_id", "")))
        receiver = bank_member(session, bank, int(form.get("receiver_id", "")))
    except (ValueError, NotFound, OverflowError):
        raise TimebankError(_("Choose who gave and who received the help."), "giver_id") from None
    if giver.id == receiver.id:
        raise TimebankError(
            _("The giver and the receiver are the same member. Choose two members."),
            "receiver_id",
        )
    if coordinator.id in (giver.id, receiver.id):
        raise TimebankError(_("You took part in this exchange. Ask another coordinator."))
    if giver.person_id is not None and receiver.person_id is not None:
        raise TimebankError(
            _(
                "Both members use the app, so they propose and confirm it themselves. Record "
                "exchanges for members who do not."
            ),
            "giver_id",
        )
    for member in (giver, receiver):
        if member.status != "active":
            raise TimebankError(
                _("%(name)s is not a member now.", name=member.display_name), "giver_id"
            )
    title = plain_line(form.get("title", ""), 500)
    if not 3 <= len(title) <= 80:
        raise TimebankError(_("Say what the help was in 3 to 80 characters."), "title")
    category = form.get("category", "")
    if category not in categories:
        raise TimebankError(_("Choose a category from the list."), "category")
    happens_on = _day(form.get("happens_on", ""))
    if happens_on > today:
        raise TimebankError(
            _("Record help once it has been given: the day is in the future."), "happens_on"
        )
    if happens_on < today - dt.timedelta(days=AHEAD_DAYS):
        raise TimebankError(_("That day is more than a year ago."), "happens_on")
    quarters = _hours(form.get("hours", ""))
    reason = _reason(form.get("reason", ""), required=False)
    key = (form.get("key") or "").strip()
    if not 8 <= len(key) <= 40:
        raise TimebankError(_("The form was not complete. Open the page again and resend it."))
    exchange = Exchange(
        bank_id=bank.id,
        giver_id=giver.id,
        receiver_id=receiver.id,
        proposer_id=coordinator.id,
        proposed_by_id=actor.id,
        title=title,
        category=category,
        happens_on=happens_on,
        estimate=quarters,
        status="recorded",
        giver_hours=quarters,
        receiver_hours=quarters,
        coordinator_id=actor.id,
        reason=reason,
        key=key,
    )
    ledger.begin_writing(session)
    session.add(exchange)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        existing = session.exec(
            select(Exchange).where(Exchange.proposer_id == coordinator.id, Exchange.key == key)
        ).first()
        if existing is None:
            raise
        return existing
    ledger.move(session, exchange, quarters, "record", actor.id, reason)
    for member in (giver, receiver):
        _tell(session, member, _("A coordinator recorded an exchange for you."), exchange)
    audit.record(session, actor.id, "timebank.record", None, exchange=exchange.id)
    touch(session, bank.id)
    session.commit()
    return exchange


def correct(
    session: Session,
    actor: Actor,
    slug: str,
    exchange_id: int,
    hours: str,
    reason: str,
) -> Exchange:
    """Correct the hours of an exchange that moved hours, as a new movement of the
    difference (entries are never changed)."""
    bank, coordinator = coordinating(session, actor, slug)
    exchange = get_exchange(session, bank, exchange_id)
    _not_a_party(coordinator, exchange)
    quarters = _hours(hours, allow_zero=True)
    reason = _reason(reason)
    exchange = _locked(session, exchange)
    if exchange.status not in MOVED:
        raise TimebankError(_("Only an exchange that has moved hours can be corrected."))
    difference = quarters - exchange.moved
    if difference == 0:
        raise TimebankError(
            _(
                "%(hours)s moved already. Give the hours it should have been.",
                hours=hours_text(exchange.moved),
            ),
            "hours",
        )
    ledger.move(session, exchange, difference, "correction", actor.id, reason)
    exchange.version += 1
    exchange.updated_at = utcnow()
    session.add(exchange)
    for member in names(session, exchange):
        _tell(session, member, _("A coordinator corrected the hours of an exchange."), exchange)
    audit.record(session, actor.id, "timebank.correct", None, exchange=exchange.id, hours=quarters)
    touch(session, exchange.bank_id)
    session.commit()
    return exchange


# --- statements and reports ----------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One movement on a statement."""

    entry: LedgerEntry
    title: str
    category: str
    happens_on: dt.date
    other: str


def _statement_query(member: BankMember):
    giver, receiver = GIVER, RECEIVER
    return (
        select(
            LedgerEntry,
            Exchange.title,
            Exchange.category,
            Exchange.happens_on,
            Exchange.giver_id,
            giver.display_name,
            receiver.display_name,
        )
        .join(Exchange, col(Exchange.id) == LedgerEntry.exchange_id)
        .join(giver, col(giver.id) == Exchange.giver_id)
        .join(receiver, col(receiver.id) == Exchange.receiver_id)
        .where(LedgerEntry.member_id == member.id)
    )


def _line(row) -> Line:
    entry, title, category, day, giver_id, giver, receiver = row
    # The other side: the receiver on the giver's lines (corrections move either way).
    return Line(entry, title, category, day, receiver if entry.member_id == giver_id else giver)


def statement(
    session: Session, member: BankMember, before: int | None = None, limit: int = STATEMENT_PAGE
) -> tuple[list[Line], int | None]:
    """Return a page of a member's movements, newest first, each with the balance after it,
    and the id to read older ones from (None on the last page)."""
    query = _statement_query(member)
    if before is not None:
        query = query.where(col(LedgerEntry.id) < before)
    rows = session.exec(query.order_by(col(LedgerEntry.id).desc()).limit(limit + 1)).all()
    lines = [_line(row) for row in rows[:limit]]
    older = lines[-1].entry.id if len(rows) > limit else None
    return lines, older


def statement_all(session: Session, member: BankMember, chunk: int = 1000):
    """Yield every movement of a member, oldest first, in chunks (for a CSV file)."""
    after = 0
    while True:
        rows = session.exec(
            _statement_query(member)
            .where(col(LedgerEntry.id) > after)
            .order_by(col(LedgerEntry.id))
            .limit(chunk)
        ).all()
        if not rows:
            return
        for row in rows:
            yield _line(row)
        after = rows[-1][0].id
