"""Time-bank data for `make bench`, added after `flask demo --scale <scale>`.

The demo makes Pat a member of the Riverside time bank. Here the bank gets many members and
listings, and Pat a long history: 100,000 ledger entries of Pat's at large scale (each
exchange with another member moves hours one way or the other). The rows go in as plain
bulk inserts, each movement a pair summing to zero with the running balance, so
`flask timebank check` passes; they are the same on every run (a seeded random generator).

Both scales render the same rows, so only the data around them grows: the first page of
Pat's statement (50 movements), and a full page of listings for "walk" (one title in ten).

Run as `python -m bench.timebank small|large` with the app's environment (bench/run.py does).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from webapp.accounts.models import Person
from webapp.content import get_content
from webapp.db import utcnow
from webapp.timebank.models import BankMember, Exchange, LedgerEntry, Listing, TimeBank
from webapp.timebank.services import sync_banks

BANK = "riverside"
BATCH = 5_000
# Marks the bench's rows, so a second run adds nothing.
KEY = "bench-"


@dataclass(frozen=True)
class Size:
    """How much time-bank data one scale has."""

    entries: int  # Pat's ledger entries (one per exchange)
    members: int  # other members
    listings: int


SIZES = {
    "small": Size(entries=120, members=20, listings=300),
    "large": Size(entries=100_000, members=400, listings=10_000),
}
TITLES = [
    "A walk and a chat",
    "Lifts to the surgery",
    "Help with the shopping",
    "Weeding the front garden",
    "Batch cooking for the freezer",
    "Filling in a benefits form",
    "Seated exercise together",
    "Learning to knit",
    "An afternoon off for a carer",
    "Setting up a new phone",
]
CATEGORIES = [
    "company",
    "getting-about",
    "shopping",
    "home-garden",
    "cooking",
    "forms-tech",
    "exercise",
    "skills",
    "carer-break",
    "forms-tech",
]


def _members(session: Session, bank_id: int, count: int, areas: tuple[str, ...]) -> list[int]:
    """Add members kept by coordinators (no accounts needed) and return their ids."""
    now = utcnow()
    rows = [
        {
            "bank_id": bank_id,
            "person_id": None,
            "role": "member",
            "status": "active",
            "display_name": f"Neighbour {n + 1}",
            "area": areas[n % len(areas)],
            "offers": "",
            "needs": "",
            "availability": "",
            "note": f"{KEY}{n}",
            "reason": "",
            "balance": 0,
            "version": 1,
            "requested_at": now,
            "joined_at": now,
        }
        for n in range(count)
    ]
    session.execute(insert(BankMember), rows)
    return list(
        session.scalars(
            select(BankMember.id).where(
                BankMember.bank_id == bank_id,
                BankMember.note.like(f"{KEY}%"),  # type: ignore[attr-defined]
            )
        )
    )


def _listings(
    session: Session, bank_id: int, members: list[int], count: int, areas: tuple[str, ...]
) -> None:
    """Add offers and requests, newest last, spread over two years."""
    now = utcnow()
    rows = []
    for n in range(count):
        when = now - dt.timedelta(minutes=count - n)
        rows.append(
            {
                "bank_id": bank_id,
                "member_id": members[n % len(members)],
                "kind": ("offer", "request")[n % 2],
                "title": TITLES[n % len(TITLES)],
                "description": "Happy to help most weekdays; tell me what suits you.",
                "category": CATEGORIES[n % len(CATEGORIES)],
                "area": areas[n % len(areas)],
                "ends_on": None,
                "status": "open",
                "created_at": when,
                "updated_at": when,
            }
        )
    for start in range(0, len(rows), BATCH):
        session.execute(insert(Listing), rows[start : start + BATCH])


def history(
    session: Session,
    bank_id: int,
    pat: int,
    members: list[int],
    count: int,
    rng: random.Random,
    key: str = KEY,
) -> None:
    """Give Pat `count` exchanges that moved hours, with their ledger pairs and running
    balances (going on from the balances already kept), and keep every balance in step."""
    now = utcnow()
    start = now - dt.timedelta(days=3 * 365)
    step = (now - start) / max(count, 1)
    exchanges = []
    for n in range(count):
        other = members[n % len(members)]
        pat_gives = n % 2 == 0
        when = start + n * step
        exchanges.append(
            {
                "bank_id": bank_id,
                "listing_id": None,
                "giver_id": pat if pat_gives else other,
                "receiver_id": other if pat_gives else pat,
                "proposer_id": other,
                "proposed_by_id": None,
                "title": TITLES[n % len(TITLES)],
                "details": "",
                "category": CATEGORIES[n % len(CATEGORIES)],
                "happens_on": when.date(),
                "estimate": 4,
                "accepted_on": when.date(),
                "status": "done",
                "giver_hours": 0,
                "receiver_hours": 0,
                "moved": rng.choice((2, 4, 6, 8)),
                "coordinator_id": None,
                "reason": "",
                "key": f"{key}{n}",
                "version": 1,
                "created_at": when,
                "updated_at": when,
            }
        )
    for row in exchanges:
        row["giver_hours"] = row["receiver_hours"] = row["moved"]
    for first in range(0, len(exchanges), BATCH):
        session.execute(insert(Exchange), exchanges[first : first + BATCH])
    ids = dict(
        session.execute(
            select(Exchange.key, Exchange.id).where(
                Exchange.bank_id == bank_id,
                Exchange.key.like(f"{key}%"),  # type: ignore[attr-defined]
            )
        ).all()
    )
    balances: dict[int, int] = dict(
        session.execute(
            select(BankMember.id, BankMember.balance).where(
                BankMember.id.in_([pat, *members])  # type: ignore[union-attr]
            )
        ).all()
    )
    entries = []
    for row in exchanges:
        for member, amount in sorted(
            ((row["giver_id"], row["moved"]), (row["receiver_id"], -row["moved"]))
        ):
            balances[member] += amount
            entries.append(
                {
                    "bank_id": bank_id,
                    "member_id": member,
                    "exchange_id": ids[row["key"]],
                    "step": 1,
                    "amount": amount,
                    "balance_after": balances[member],
                    "kind": "exchange",
                    "made_by_id": None,
                    "reason": "",
                    "created_at": row["created_at"],
                }
            )
    for first in range(0, len(entries), BATCH):
        session.execute(insert(LedgerEntry), entries[first : first + BATCH])
    for member, balance in balances.items():
        session.execute(
            update(BankMember).where(BankMember.id == member).values(balance=balance)  # type: ignore[arg-type]
        )


def seed(session: Session, scale: str) -> None:
    """Add the time-bank data for the scale (once: a second call changes nothing)."""
    size = SIZES[scale]
    sync_banks(session, get_content().banks)
    bank = session.scalars(select(TimeBank).where(TimeBank.slug == BANK)).one()
    pat = session.scalars(
        select(BankMember.id)
        .join(Person, Person.id == BankMember.person_id)  # type: ignore[arg-type]
        .where(BankMember.bank_id == bank.id, Person.email == "pat@example.org")
    ).first()
    if pat is None:
        raise SystemExit("Pat is not a member of the Riverside time bank: run `flask demo` first.")
    done = session.scalars(
        select(func.count(Exchange.id)).where(
            Exchange.bank_id == bank.id,
            Exchange.key.like(f"{KEY}%"),  # type: ignore[attr-defined]
        )
    ).one()
    if done:
        return
    areas = get_content().banks[BANK].areas
    rng = random.Random(2028)  # noqa: S311
    members = _members(session, bank.id, size.members, areas)
    _listings(session, bank.id, members, size.listings, areas)
    history(session, bank.id, pat, members, size.entries, rng)
    session.commit()


def ensure(app: Flask) -> None:
    """Seed the small scale's data into a database that has none (the weight test)."""
    with app.app_context(), Session(app.extensions["db_engine"]) as db:
        seed(db, "small")


def main() -> int:
    """Seed the database the environment names, at the scale given."""
    from webapp import create_app

    app = create_app()
    with app.app_context(), Session(app.extensions["db_engine"]) as db:
        seed(db, sys.argv[1] if len(sys.argv) > 1 else "small")
    app.extensions["db_engine"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
