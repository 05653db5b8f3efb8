"""Arranging time banks for tests: a bank from content, a coordinator and members."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from tests.conftest import add_person
from webapp.access import Actor
from webapp.accounts.services import load_actor
from webapp.content import get_content
from webapp.timebank import exchanges, services
from webapp.timebank.models import BankMember, Exchange, Listing

# Tests never read the real clock for the time bank: every service takes "today".
TODAY = dt.date(2026, 11, 24)
SLUG = "riverside"
AREA = "Riverside"
CATEGORY = "company"


@dataclass
class Member:
    """A person with their actor and their membership."""

    actor: Actor
    account: BankMember


def join(db: Session, name: str, email: str, slug: str = SLUG) -> Member:
    """Add a person, ask to join for them, and return them unapproved."""
    actor = load_actor(db, add_person(db, name, email))
    account = services.ask_to_join(
        db,
        actor,
        slug,
        {"display_name": name.split()[0], "area": AREA},
        get_content().banks.get(slug),
    )
    return Member(actor, account)


def coordinator(
    db: Session, name: str = "Cora Lee", email: str = "cora@example.org", slug: str = SLUG
) -> Member:
    """Add a coordinator of the bank."""
    person = add_person(db, name, email)
    account = services.set_role(db, slug, person.id, name.split()[0], "coordinator")
    return Member(load_actor(db, person), account)


def member(db: Session, cora: Member, name: str, email: str, slug: str = SLUG) -> Member:
    """Add an approved member."""
    joined = join(db, name, email, slug)
    account = services.decide_request(
        db, cora.actor, slug, joined.account.id, True, joined.account.version
    )
    return Member(joined.actor, account)


def listing(
    db: Session,
    who: Member,
    kind: str = "offer",
    title: str = "A chat and a cuppa",
    slug: str = SLUG,
) -> Listing:
    """Add an offer (or request) by a member."""
    return services.create_listing(
        db,
        who.actor,
        slug,
        {
            "kind": kind,
            "title": title,
            "description": "Happy to help.",
            "category": CATEGORY,
            "area": AREA,
        },
        get_content().banks.get(slug),
        TODAY,
    )


def propose(
    db: Session,
    who: Member,
    listed: Listing,
    hours: str = "2",
    day: dt.date = TODAY,
    key: str | None = None,
    slug: str = SLUG,
) -> Exchange:
    """Propose an exchange from a listing."""
    return exchanges.propose(
        db,
        who.actor,
        slug,
        listed.id,
        {"hours": hours, "happens_on": day.isoformat(), "key": key or exchanges.new_key()},
        TODAY,
    )
