"""Coordinators' reports: hours exchanged by category and month, members and how active
they are, and who has not exchanged for a while (to reach out to)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from webapp.timebank.models import BankMember, Exchange, LedgerEntry, TimeBank

QUIET_DAYS = 90
MOVED = ("done", "settled", "recorded")


@dataclass(frozen=True)
class Quiet:
    """A member with no exchange in the last 90 days."""

    member: BankMember
    last: dt.datetime | None


@dataclass
class Report:
    """A bank's figures for coordinators."""

    months: list[str]
    # category -> month -> quarter hours
    hours: dict[str, dict[str, int]] = field(default_factory=dict)
    totals_by_month: dict[str, int] = field(default_factory=dict)
    total: int = 0
    members: int = 0
    active: int = 0
    quiet: list[Quiet] = field(default_factory=list)
    beyond_limits: list[BankMember] = field(default_factory=list)


def months_back(today: dt.date, count: int = 12) -> list[str]:
    """Return the last `count` months as YYYY-MM, oldest first, this month last."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def report(session: Session, bank: TimeBank, today: dt.date, now: dt.datetime) -> Report:
    """Return the bank's report: hours given in each category in each of the last twelve
    months (by the day of the help, corrections included), members, those active in the
    last 90 days, those who were not, and balances beyond the bank's limits."""
    months = months_back(today)
    result = Report(months=months)
    first = dt.date.fromisoformat(months[0] + "-01")
    for category, day, moved in session.exec(
        select(Exchange.category, Exchange.happens_on, Exchange.moved).where(
            Exchange.bank_id == bank.id,
            col(Exchange.status).in_(MOVED),
            Exchange.moved != 0,
            col(Exchange.happens_on) >= first,
        )
    ):
        month = day.strftime("%Y-%m")
        if month not in months:
            continue
        by_month = result.hours.setdefault(category, defaultdict(int))
        by_month[month] += moved
        result.totals_by_month[month] = result.totals_by_month.get(month, 0) + moved
        result.total += moved
    last_moves = dict(
        session.exec(
            select(LedgerEntry.member_id, func.max(LedgerEntry.created_at))
            .where(LedgerEntry.bank_id == bank.id)
            .group_by(LedgerEntry.member_id)
        ).all()
    )
    since = now - dt.timedelta(days=QUIET_DAYS)
    members = session.exec(
        select(BankMember)
        .where(BankMember.bank_id == bank.id, BankMember.status == "active")
        .order_by(col(BankMember.display_name), col(BankMember.id))
    ).all()
    for member in members:
        result.members += 1
        last = last_moves.get(member.id)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)
        if last is not None and last >= since:
            result.active += 1
        else:
            result.quiet.append(Quiet(member, last))
        if not bank.lower_limit <= member.balance <= bank.upper_limit:
            result.beyond_limits.append(member)
    return result
