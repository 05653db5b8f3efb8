"""The time bank: banks and their members, offers and requests, exchanges confirmed by both
sides, and the double-entry ledger the hours move in.

Hours are kept as whole quarter hours (an hour is 4), so no sum is ever rounded.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from webapp.db import utcnow


class TimeBank(SQLModel, table=True):
    """One community's time bank, set up from content/timebank/<slug>.yaml."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=80)
    description: str = Field(max_length=500)
    # Balance limits, in quarter hours: shown to members and flagged to coordinators.
    lower_limit: int = Field(default=-40)
    upper_limit: int = Field(default=160)
    # Moved on by every change its members' pages show, so kept pages are drawn again.
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow)


class BankMember(SQLModel, table=True):
    """One person in one time bank, with the profile other members see; also a member a
    coordinator keeps for someone who does not use the app (no person)."""

    __table_args__ = (
        UniqueConstraint("bank_id", "person_id"),
        Index("ix_bankmember_bank_status", "bank_id", "status", "requested_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="timebank.id", ondelete="CASCADE")
    # None for someone the coordinators keep the account for, and once an account is closed.
    person_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL", index=True
    )
    # member or coordinator
    role: str = Field(default="member", max_length=20)
    # pending (asked to join), active, declined, left or removed
    status: str = Field(max_length=20)
    display_name: str = Field(max_length=40)
    # A neighbourhood from the bank's list, never an address.
    area: str = Field(default="", max_length=60)
    offers: str = Field(default="", max_length=500)
    needs: str = Field(default="", max_length=500)
    availability: str = Field(default="", max_length=200)
    # The coordinators' own note (for example that checks for home visits were done).
    note: str = Field(default="", max_length=1000)
    # Why they were declined or removed, as the coordinator wrote it for them.
    reason: str = Field(default="", max_length=500)
    # Kept in step with the ledger in the same transaction; `flask timebank check` proves it.
    balance: int = Field(default=0)
    version: int = Field(default=1)
    requested_at: dt.datetime = Field(default_factory=utcnow)
    joined_at: dt.datetime | None = None


class Listing(SQLModel, table=True):
    """An offer of help or a request for it."""

    __table_args__ = (Index("ix_listing_bank_open", "bank_id", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="timebank.id", ondelete="CASCADE")
    member_id: int = Field(foreign_key="bankmember.id", ondelete="CASCADE", index=True)
    # offer or request
    kind: str = Field(max_length=10)
    title: str = Field(max_length=80)
    description: str = Field(max_length=1000)
    category: str = Field(max_length=40)
    area: str = Field(max_length=60)
    # Hidden from the listings after this day.
    ends_on: dt.date | None = None
    # open or closed
    status: str = Field(default="open", max_length=10)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Exchange(SQLModel, table=True):
    """Help given by one member to another: proposed, accepted, then confirmed by both sides
    (or settled by a coordinator) before any hours move.

    What was agreed is copied from the listing when proposed, so a later edit of the listing
    never changes an exchange already under way.
    """

    __table_args__ = (
        # Made where the proposal form was drawn, so a double submit proposes once.
        UniqueConstraint("proposer_id", "key"),
        # What waits for a member (by status), and a member's exchanges newest first.
        Index("ix_exchange_giver", "giver_id", "status"),
        Index("ix_exchange_receiver", "receiver_id", "status"),
        Index("ix_exchange_giver_recent", "giver_id", "id"),
        Index("ix_exchange_receiver_recent", "receiver_id", "id"),
        Index("ix_exchange_bank_status", "bank_id", "status", "happens_on"),
        CheckConstraint("giver_id <> receiver_id", name="ck_exchange_two_members"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="timebank.id", ondelete="CASCADE")
    listing_id: int | None = Field(
        default=None, foreign_key="listing.id", ondelete="SET NULL", index=True
    )
    giver_id: int = Field(foreign_key="bankmember.id")
    receiver_id: int = Field(foreign_key="bankmember.id")
    proposer_id: int = Field(foreign_key="bankmember.id")
    # Who pressed the button: the member, a carer acting for them, or a coordinator.
    proposed_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    title: str = Field(max_length=80)
    details: str = Field(default="", max_length=500)
    category: str = Field(max_length=40)
    happens_on: dt.date
    # Quarter hours.
    estimate: int
    # waiting (for a coordinator, as it would take the receiver past the lower limit),
    # proposed, accepted, declined, withdrawn, cancelled, disputed, held (both confirmed
    # more than agreed, past the lower limit), done, settled, recorded
    status: str = Field(max_length=20)
    # The day the other side accepted: each side has 14 days from then (or from the day of
    # the help, if later) to confirm.
    accepted_on: dt.date | None = None
    # What each side said was given, in quarter hours (0: it did not happen), and who said it.
    giver_hours: int | None = None
    receiver_hours: int | None = None
    giver_confirmed_by_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL"
    )
    receiver_confirmed_by_id: int | None = Field(
        default=None, foreign_key="person.id", ondelete="SET NULL"
    )
    # The hours that moved, all corrections included.
    moved: int = Field(default=0)
    # A coordinator who agreed to the lower limit being passed, settled it, or recorded it.
    coordinator_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    reason: str = Field(default="", max_length=500)
    key: str = Field(max_length=40)
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class LedgerEntry(SQLModel, table=True):
    """One side of a movement of hours. Rows are only ever added: every movement is two
    entries that sum to zero, and a correction is a new movement."""

    __table_args__ = (
        # One movement takes each member once: an exchange's step cannot be made twice.
        UniqueConstraint("exchange_id", "step", "member_id"),
        Index("ix_ledgerentry_member", "member_id", "id"),
        Index("ix_ledgerentry_bank_time", "bank_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="timebank.id", ondelete="CASCADE")
    member_id: int = Field(foreign_key="bankmember.id")
    exchange_id: int = Field(foreign_key="exchange.id")
    # 1 for the movement that settled the exchange, then 2, 3 ... for corrections.
    step: int
    # Quarter hours: positive earned, negative spent.
    amount: int
    # The member's balance just after this entry, for a statement's running balance.
    balance_after: int
    # exchange, settlement, record or correction
    kind: str = Field(max_length=20)
    made_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    reason: str = Field(default="", max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow)
