"""The time bank without HTTP: banks from content, joining and coordinators' decisions,
member profiles, and offers and requests.

A person's time-bank account is theirs (access rule "timebank.own"); a carer acting for
them with the time-bank scope uses it for them, and what they do is recorded as theirs.
Coordinators see members and exchanges of their own bank, never anyone's health record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.db import utcnow
from webapp.groups.text import plain_line, plain_text
from webapp.notifications.services import notify
from webapp.timebank.ledger import begin_writing, touch
from webapp.timebank.models import BankMember, Exchange, Listing, TimeBank
from webapp.timebank.spec import BankSpec

PAGE_SIZE = 20
NAME_MAX = 40
PROFILE_LIMITS = {"offers": 500, "needs": 500, "availability": 200}
TITLE_MAX, DESCRIPTION_MAX = 80, 1000
KINDS = ("offer", "request")
# What someone is called once they have left and their account is closed.
FORMER = "A former member"


class TimebankError(ValueError):
    """Something the person can put right; the message says what and how."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def get_bank(session: Session, slug: str) -> TimeBank:
    """Return the bank with this slug, or raise NotFound."""
    bank = session.exec(select(TimeBank).where(TimeBank.slug == slug)).first()
    if bank is None:
        raise NotFound()
    return bank


def sync_banks(session: Session, specs: dict[str, BankSpec]) -> list[str]:
    """Create the banks content describes and update their words and limits; return the
    new slugs."""
    made = []
    existing = {b.slug: b for b in session.exec(select(TimeBank))}
    for slug, spec in specs.items():
        bank = existing.get(slug) or TimeBank(slug=slug, name=spec.name, description="")
        if bank.id is None:
            made.append(slug)
        changed = (bank.name, bank.description, bank.lower_limit, bank.upper_limit) != (
            spec.name,
            spec.description,
            spec.lower_limit,
            spec.upper_limit,
        )
        bank.name, bank.description = spec.name, spec.description
        bank.lower_limit, bank.upper_limit = spec.lower_limit, spec.upper_limit
        if changed and bank.id is not None:
            bank.version += 1  # kept pages show the new words and limits
        session.add(bank)
    session.commit()
    return made


def account_of(session: Session, actor: Actor | None, bank: TimeBank) -> BankMember | None:
    """Return the membership of whoever's record the actor uses (their own, or the person
    they act for), if any."""
    if actor is None:
        return None
    return session.exec(
        select(BankMember).where(
            BankMember.bank_id == bank.id, BankMember.person_id == actor.record_id
        )
    ).first()


def own_account_rule(actor: Actor) -> None:
    """Raise NotFound unless the actor may use the time-bank account of whoever's record
    they use (a carer needs the time-bank scope)."""
    require(actor, "timebank.own", actor.record_id)


@dataclass(frozen=True)
class BankRow:
    """A bank in the list, with the viewer's membership there if any."""

    bank: TimeBank
    account: BankMember | None


def banks_with_status(session: Session, actor: Actor) -> list[BankRow]:
    """Return every bank with the membership of whoever's record the actor uses."""
    own_account_rule(actor)
    accounts = {
        m.bank_id: m
        for m in session.exec(select(BankMember).where(BankMember.person_id == actor.record_id))
    }
    return [
        BankRow(bank, accounts.get(bank.id))
        for bank in session.exec(select(TimeBank).order_by(col(TimeBank.name)))
    ]


def bank_and_account(
    session: Session, actor: Actor, slug: str
) -> tuple[TimeBank, BankMember | None]:
    """Return the bank and the membership of whoever's record the actor uses, in one query
    read afresh (its version keys kept pages), or raise NotFound for no such bank."""
    require(actor, "timebank.own", actor.record_id)
    found = session.exec(
        select(TimeBank, BankMember)
        .outerjoin(
            BankMember,
            (col(BankMember.bank_id) == TimeBank.id)
            & (col(BankMember.person_id) == actor.record_id),
        )
        .where(TimeBank.slug == slug)
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise NotFound()
    return found[0], found[1]


def own_account(session: Session, actor: Actor, slug: str) -> tuple[TimeBank, BankMember]:
    """Return the bank and the active membership the actor uses there, or raise NotFound."""
    bank, member = bank_and_account(session, actor, slug)
    if member is None or member.status != "active":
        raise NotFound()
    return bank, member


def statement_account(session: Session, actor: Actor, slug: str) -> tuple[TimeBank, BankMember]:
    """Return the bank and the membership whose statement the actor may read: an active one,
    or one that has ended after being approved (the hours stay theirs to see)."""
    bank, member = bank_and_account(session, actor, slug)
    readable = member is not None and (
        member.status == "active"
        or (member.status in ("left", "removed") and member.joined_at is not None)
    )
    if not readable:
        raise NotFound()
    return bank, member


def coordinating(session: Session, actor: Actor, slug: str) -> tuple[TimeBank, BankMember]:
    """Return the bank and the actor's own coordinator membership, or raise NotFound (never
    while acting for someone else)."""
    if actor is None or actor.acting is not None:
        raise NotFound()
    bank = get_bank(session, slug)
    member = session.exec(
        select(BankMember).where(BankMember.bank_id == bank.id, BankMember.person_id == actor.id)
    ).first()
    if member is None or member.status != "active" or member.role != "coordinator":
        raise NotFound()
    return bank, member


def is_coordinator(session: Session, actor: Actor | None, bank: TimeBank) -> bool:
    """Say whether the actor (as themselves) coordinates this bank."""
    if actor is None or actor.acting is not None:
        return False
    return (
        session.exec(
            select(BankMember.id).where(
                BankMember.bank_id == bank.id,
                BankMember.person_id == actor.id,
                BankMember.role == "coordinator",
                BankMember.status == "active",
            )
        ).first()
        is not None
    )


def bank_member(session: Session, bank: TimeBank, member_id: int) -> BankMember:
    """Return one member of this bank, or raise NotFound."""
    member = session.get(BankMember, member_id)
    if member is None or member.bank_id != bank.id:
        raise NotFound()
    return member


@dataclass(frozen=True)
class Profile:
    """A member's profile as checked from a form."""

    display_name: str
    area: str
    offers: str
    needs: str
    availability: str


def check_profile(form: dict[str, str], spec: BankSpec | None, theirs: bool = False) -> Profile:
    """Check a profile form (`theirs`: filled in by a coordinator for someone else); raise
    TimebankError naming the field to put right."""
    name = plain_line(form.get("display_name", ""), 200)
    if len(name) < 2:
        raise TimebankError(
            _("Give the name other members will know them by (at least 2 letters).")
            if theirs
            else _("Give the name other members will know you by (at least 2 letters)."),
            "display_name",
        )
    if len(name) > NAME_MAX:
        raise TimebankError(
            _("The name can be at most %(most)s characters.", most=NAME_MAX), "display_name"
        )
    area = plain_line(form.get("area", ""), 200)
    if spec is not None and area not in spec.areas:
        raise TimebankError(
            _("Choose their area from the list (not their address).")
            if theirs
            else _("Choose your area from the list (not your address)."),
            "area",
        )
    words = {}
    for field, most in PROFILE_LIMITS.items():
        words[field] = plain_text(form.get(field, ""))
        if len(words[field]) > most:
            raise TimebankError(
                _(
                    "This can be at most %(most)s characters; it has %(count)s.",
                    most=most,
                    count=len(words[field]),
                ),
                field,
            )
    return Profile(display_name=name, area=area, **words)


def ask_to_join(
    session: Session, actor: Actor, slug: str, form: dict[str, str], spec: BankSpec | None
) -> BankMember:
    """Ask to join a bank with a profile (a carer may ask for the person they act for); a
    coordinator approves or declines. Asking again after a decline or leaving is allowed."""
    require(actor, "timebank.own", actor.record_id)
    bank = get_bank(session, slug)
    profile = check_profile(form, spec)
    member = account_of(session, actor, bank)
    if member is not None and member.status in ("pending", "active"):
        return member
    if member is not None and member.status == "removed":
        raise TimebankError(
            _(
                "A coordinator removed you from this time bank. Ask them if you would like to "
                "come back."
            )
        )
    if member is None:
        member = BankMember(
            bank_id=bank.id,
            person_id=actor.record_id,
            status="pending",
            display_name=profile.display_name,
        )
    _apply_profile(member, profile)
    member.status, member.reason, member.role = "pending", "", "member"
    member.requested_at = utcnow()
    member.version += 1 if member.id is not None else 0
    session.add(member)
    audit.record(
        session,
        actor.id,
        "timebank.ask",
        actor.record_id,
        bank=slug,
        acting=actor.acting is not None,
    )
    touch(session, bank.id)
    session.commit()
    return member


def _apply_profile(member: BankMember, profile: Profile) -> None:
    member.display_name, member.area = profile.display_name, profile.area
    member.offers, member.needs = profile.offers, profile.needs
    member.availability = profile.availability


def update_profile(
    session: Session, actor: Actor, slug: str, form: dict[str, str], spec: BankSpec | None
) -> BankMember:
    """Change the actor's profile (or the profile of the person they act for)."""
    require(actor, "timebank.own", actor.record_id)
    bank = get_bank(session, slug)
    member = account_of(session, actor, bank)
    if member is None or member.status not in ("pending", "active"):
        raise NotFound()
    _apply_profile(member, check_profile(form, spec))
    member.version += 1
    session.add(member)
    touch(session, bank.id)
    session.commit()
    return member


def requests_to_join(session: Session, bank: TimeBank) -> list[BankMember]:
    """Return the people waiting for a coordinator, oldest first."""
    return list(
        session.exec(
            select(BankMember)
            .where(BankMember.bank_id == bank.id, BankMember.status == "pending")
            .order_by(col(BankMember.requested_at), col(BankMember.id))
        )
    )


def decide_request(
    session: Session,
    actor: Actor,
    slug: str,
    member_id: int,
    approve: bool,
    version: int,
    note: str = "",
    reason: str = "",
) -> BankMember:
    """Approve a request to join (with the coordinators' private note) or decline it (with
    a reason the person sees); two coordinators at once: one wins, the other is told."""
    bank, _coordinator = coordinating(session, actor, slug)
    member = bank_member(session, bank, member_id)
    note, reason = plain_text(note), plain_line(reason, 1000)
    if len(note) > 1000:
        raise TimebankError(_("The note can be at most 1000 characters."), "note")
    if not approve and not reason:
        raise TimebankError(_("Say why, in a few kind words: the person will see it."), "reason")
    if len(reason) > 500:
        raise TimebankError(_("The reason can be at most 500 characters."), "reason")
    values: dict[str, object] = {"version": version + 1}
    if approve:
        values.update(status="active", joined_at=utcnow(), note=note, reason="")
    else:
        values.update(status="declined", reason=reason, note=note)
    done = session.exec(
        update(BankMember)
        .where(
            col(BankMember.id) == member.id,
            col(BankMember.status) == "pending",
            col(BankMember.version) == version,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.rollback()
        session.refresh(member)
        decided = {
            "active": _("approved"),
            "declined": _("declined"),
            "pending": _("changed"),
        }.get(member.status, _("changed"))
        raise TimebankError(
            _(
                "Another coordinator %(what)s this request a moment ago. Nothing was changed.",
                what=decided,
            )
        )
    audit.record(
        session, actor.id, "timebank.decide", member.person_id, bank=slug, approved=approve
    )
    _notify(
        session,
        member.person_id,
        _("You are now a member of %(bank)s.", bank=bank.name)
        if approve
        else _("Your request to join %(bank)s was declined.", bank=bank.name),
        f"/timebank/{bank.slug}",
    )
    touch(session, bank.id)
    session.commit()
    session.refresh(member)
    return member


def _notify(session: Session, person_id: int | None, text: str, link: str) -> None:
    """Tell a person something in their notifications (nothing for members kept by
    coordinators, who have no account)."""
    if person_id is not None:
        notify(session, person_id, "timebank", text, link)


def add_member_without_app(
    session: Session, actor: Actor, slug: str, form: dict[str, str], spec: BankSpec | None
) -> BankMember:
    """Add a member who does not use the app; coordinators record their exchanges."""
    bank, _coordinator = coordinating(session, actor, slug)
    profile = check_profile(form, spec, theirs=True)
    note = plain_text(form.get("note", ""))
    if len(note) > 1000:
        raise TimebankError(_("The note can be at most 1000 characters."), "note")
    member = BankMember(
        bank_id=bank.id,
        person_id=None,
        status="active",
        display_name=profile.display_name,
        note=note,
        joined_at=utcnow(),
    )
    _apply_profile(member, profile)
    session.add(member)
    session.flush()
    audit.record(session, actor.id, "timebank.add_member", None, bank=slug, member=member.id)
    touch(session, bank.id)
    session.commit()
    return member


def update_note(session: Session, actor: Actor, slug: str, member_id: int, note: str) -> BankMember:
    """Change the coordinators' private note about a member."""
    bank, _coordinator = coordinating(session, actor, slug)
    member = bank_member(session, bank, member_id)
    note = plain_text(note)
    if len(note) > 1000:
        raise TimebankError(_("The note can be at most 1000 characters."), "note")
    member.note = note
    member.version += 1
    session.add(member)
    session.commit()
    return member


OPEN = ("waiting", "proposed")
# Exchanges already agreed that are not over yet.
UNDER_WAY = ("accepted", "disputed")


def _end_membership(
    session: Session,
    member: BankMember,
    status: str,
    reason: str,
    today: dt.date,
    lock: bool = True,
) -> int:
    """End a membership: close their listings and call off their exchanges not yet
    happened; those that have happened stay for the other side to confirm and a coordinator
    to settle, so no hours are lost. Return how many exchanges were called off."""
    if lock:
        begin_writing(session)
    member = session.exec(
        select(BankMember)
        .where(col(BankMember.id) == member.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if member.status not in ("pending", "active"):
        # Someone else ended it a moment ago (a removal stays a removal).
        raise TimebankError(_("%(name)s is not a member now.", name=member.display_name))
    member.status, member.reason = status, reason
    member.version += 1
    session.add(member)
    session.exec(
        update(Listing)
        .where(col(Listing.member_id) == member.id, col(Listing.status) == "open")
        .values(status="closed", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    ended = session.exec(
        update(Exchange)
        .where(
            or_(col(Exchange.giver_id) == member.id, col(Exchange.receiver_id) == member.id),
            or_(
                col(Exchange.status).in_(OPEN),
                (col(Exchange.status) == "accepted") & (col(Exchange.happens_on) > today),
            ),
        )
        .values(
            status="cancelled",
            reason=_("Called off: the other member left the time bank."),
            version=Exchange.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return ended.rowcount


def remove_member(
    session: Session, actor: Actor, slug: str, member_id: int, reason: str, today: dt.date
) -> int:
    """Remove a member with a reason they see; their exchanges not yet happened are called
    off, and those that happened stay to be confirmed or settled. Return how many were
    called off."""
    bank, coordinator = coordinating(session, actor, slug)
    member = bank_member(session, bank, member_id)
    if member.id == coordinator.id:
        raise TimebankError(_("You cannot remove yourself; ask another coordinator."))
    reason = plain_line(reason, 1000)
    if not reason:
        raise TimebankError(_("Say why, in a few kind words: the person will see it."), "reason")
    if len(reason) > 500:
        raise TimebankError(_("The reason can be at most 500 characters."), "reason")
    if member.status != "active":
        raise TimebankError(_("%(name)s is not a member now.", name=member.display_name))
    ended = _end_membership(session, member, "removed", reason, today)
    audit.record(session, actor.id, "timebank.remove", member.person_id, bank=slug)
    _notify(
        session,
        member.person_id,
        _("You are no longer a member of %(bank)s.", bank=bank.name),
        f"/timebank/{slug}",
    )
    touch(session, bank.id)
    session.commit()
    return ended


def leave(session: Session, actor: Actor, slug: str, today: dt.date) -> int:
    """Leave a bank (or withdraw a request to join); hours earned stay in the ledger."""
    require(actor, "timebank.own", actor.record_id)
    bank = get_bank(session, slug)
    member = account_of(session, actor, bank)
    if member is None or member.status not in ("pending", "active"):
        raise NotFound()
    ended = _end_membership(session, member, "left", "", today)
    audit.record(session, actor.id, "timebank.leave", actor.record_id, bank=slug)
    touch(session, bank.id)
    session.commit()
    return ended


def forget_person(session: Session, person_id: int, today: dt.date) -> None:
    """Before an account is deleted: end their memberships as a former member, so the
    ledger and the other side of every exchange stay whole, and clear their profile."""
    for member in session.exec(select(BankMember).where(BankMember.person_id == person_id)):
        if member.status in ("pending", "active"):
            _end_membership(session, member, "left", "", today, lock=False)
        member.display_name, member.area = FORMER, ""
        member.offers = member.needs = member.availability = member.note = ""
        session.add(member)
        touch(session, member.bank_id)
    session.flush()


def set_role(session: Session, slug: str, person_id: int, name: str, role: str) -> BankMember:
    """Make someone a coordinator of a bank (or a member again): for the command line."""
    if role not in ("member", "coordinator"):
        raise TimebankError(_("The role is member or coordinator."))
    bank = get_bank(session, slug)
    member = session.exec(
        select(BankMember).where(BankMember.bank_id == bank.id, BankMember.person_id == person_id)
    ).first()
    if member is None:
        member = BankMember(
            bank_id=bank.id, person_id=person_id, status="active", display_name=name[:NAME_MAX]
        )
    member.role, member.status = role, "active"
    member.joined_at = member.joined_at or utcnow()
    member.version += 1
    session.add(member)
    audit.record(session, None, "timebank.role", person_id, bank=slug, role=role)
    touch(session, bank.id)
    session.commit()
    return member


# --- listings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingForm:
    """An offer or request as checked from a form."""

    kind: str
    title: str
    description: str
    category: str
    area: str
    ends_on: dt.date | None


def check_listing(form: dict[str, str], spec: BankSpec | None, today: dt.date) -> ListingForm:
    """Check a listing form; raise TimebankError naming the field to put right."""
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise TimebankError(_("Choose whether you are offering help or asking for it."), "kind")
    title = plain_line(form.get("title", ""), 500)
    if len(title) < 3:
        raise TimebankError(
            _("Give it a short title, for example “Lifts to the surgery”."), "title"
        )
    if len(title) > TITLE_MAX:
        raise TimebankError(
            _("The title can be at most %(most)s characters.", most=TITLE_MAX), "title"
        )
    description = plain_text(form.get("description", ""))
    if not description:
        raise TimebankError(
            _("Say a little about it: what, when you are free, anything to know."), "description"
        )
    if len(description) > DESCRIPTION_MAX:
        raise TimebankError(
            _(
                "The description can be at most %(most)s characters; it has %(count)s.",
                most=DESCRIPTION_MAX,
                count=len(description),
            ),
            "description",
        )
    category = form.get("category", "")
    if spec is not None and category not in dict(spec.categories):
        raise TimebankError(_("Choose a category from the list."), "category")
    area = form.get("area", "")
    if spec is not None and area not in spec.areas:
        raise TimebankError(_("Choose an area from the list."), "area")
    ends_on = None
    raw = (form.get("ends_on") or "").strip()
    if raw:
        try:
            ends_on = dt.date.fromisoformat(raw)
        except ValueError:
            raise TimebankError(
                _("Give the end date as a date, for example 2027-03-31."), "ends_on"
            ) from None
        if ends_on < today:
            raise TimebankError(
                _("The end date has passed. Choose today or a later day, or leave it empty."),
                "ends_on",
            )
        if ends_on > today + dt.timedelta(days=366):
            raise TimebankError(_("Choose an end date within a year; you can renew it."), "ends_on")
    return ListingForm(kind, title, description, category, area, ends_on)


def create_listing(
    session: Session,
    actor: Actor,
    slug: str,
    form: dict[str, str],
    spec: BankSpec | None,
    today: dt.date,
) -> Listing:
    """Add an offer or request to the bank's listings."""
    bank, member = own_account(session, actor, slug)
    checked = check_listing(form, spec, today)
    listing = Listing(bank_id=bank.id, member_id=member.id, **checked.__dict__)
    session.add(listing)
    session.flush()
    audit.record(session, actor.id, "timebank.list", actor.record_id, bank=slug, listing=listing.id)
    touch(session, bank.id)
    session.commit()
    return listing


def get_listing(session: Session, bank: TimeBank, listing_id: int) -> Listing:
    """Return one of the bank's listings, or raise NotFound."""
    listing = session.get(Listing, listing_id)
    if listing is None or listing.bank_id != bank.id:
        raise NotFound()
    return listing


def own_listing(
    session: Session, actor: Actor, slug: str, listing_id: int
) -> tuple[TimeBank, BankMember, Listing]:
    """Return a listing the actor's account made, or raise NotFound."""
    bank, member = own_account(session, actor, slug)
    listing = get_listing(session, bank, listing_id)
    if listing.member_id != member.id:
        raise NotFound()
    return bank, member, listing


def update_listing(
    session: Session,
    actor: Actor,
    slug: str,
    listing_id: int,
    form: dict[str, str],
    spec: BankSpec | None,
    today: dt.date,
) -> tuple[Listing, bool]:
    """Change an offer or request (exchanges already proposed keep what was agreed); return
    it and whether it was listed again (one taken off is; the form says so before saving)."""
    _bank, _member, listing = own_listing(session, actor, slug, listing_id)
    checked = check_listing(form, spec, today)
    for field, value in checked.__dict__.items():
        setattr(listing, field, value)
    relisted = listing.status != "open"
    listing.status = "open"
    listing.updated_at = utcnow()
    session.add(listing)
    touch(session, listing.bank_id)
    session.commit()
    return listing, relisted


def close_listing(session: Session, actor: Actor, slug: str, listing_id: int) -> Listing:
    """Take an offer or request off the listings (exchanges under way carry on)."""
    _bank, _member, listing = own_listing(session, actor, slug, listing_id)
    listing.status = "closed"
    listing.updated_at = utcnow()
    session.add(listing)
    touch(session, listing.bank_id)
    session.commit()
    return listing


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Search:
    """What the listings were searched and filtered by."""

    words: str = ""
    kind: str = ""
    category: str = ""
    area: str = ""


def search_listings(
    session: Session, bank: TimeBank, search: Search, today: dt.date, page: int = 1
) -> tuple[list[tuple[Listing, str]], bool]:
    """Return a page of open listings, newest first, with who made each, and whether there
    is another page; past their end date they are hidden."""
    query = (
        select(Listing, BankMember.display_name)
        .join(BankMember, col(BankMember.id) == Listing.member_id)
        .where(
            Listing.bank_id == bank.id,
            Listing.status == "open",
            or_(col(Listing.ends_on).is_(None), col(Listing.ends_on) >= today),
        )
    )
    if search.kind:
        query = query.where(Listing.kind == search.kind)
    if search.category:
        query = query.where(Listing.category == search.category)
    if search.area:
        query = query.where(Listing.area == search.area)
    for word in search.words.split()[:6]:
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(
            or_(
                func.lower(Listing.title).like(pattern, escape="\\"),
                func.lower(Listing.description).like(pattern, escape="\\"),
            )
        )
    rows = session.exec(
        query.order_by(col(Listing.created_at).desc(), col(Listing.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return [(listing, name) for listing, name in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


def members_listings(session: Session, member: BankMember) -> list[Listing]:
    """Return a member's own listings, open first, newest first."""
    return list(
        session.exec(
            select(Listing)
            .where(Listing.member_id == member.id)
            .order_by(col(Listing.status).desc(), col(Listing.created_at).desc())
            .limit(100)
        )
    )


def members_of(session: Session, bank: TimeBank, limit: int = 500) -> list[BankMember]:
    """Return the bank's active members by name, for coordinators."""
    return list(
        session.exec(
            select(BankMember)
            .where(BankMember.bank_id == bank.id, BankMember.status == "active")
            .order_by(col(BankMember.display_name), col(BankMember.id))
            .limit(limit)
        )
    )


def members_to_choose(
    session: Session, bank: TimeBank, coordinator: BankMember
) -> list[BankMember]:
    """Return the members a coordinator may record an exchange between (not themselves)."""
    return [m for m in members_of(session, bank) if m.id != coordinator.id]


def beyond_limits(session: Session, bank: TimeBank) -> list[BankMember]:
    """Return active members whose balance is past one of the bank's limits."""
    return list(
        session.exec(
            select(BankMember)
            .where(
                BankMember.bank_id == bank.id,
                BankMember.status == "active",
                or_(
                    col(BankMember.balance) < bank.lower_limit,
                    col(BankMember.balance) > bank.upper_limit,
                ),
            )
            .order_by(col(BankMember.balance))
        )
    )
