"""The ledger: hours move as pairs of entries that sum to zero, balances are kept in step in
the same transaction, and `check` proves both against the entries.

Writers take the write lock first (`begin_writing`): on PostgreSQL by locking the rows they
change, in a fixed order; on SQLite with an immediate transaction, so two requests never
both read the same state and then both write.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from webapp.db import utcnow
from webapp.timebank.models import BankMember, Exchange, LedgerEntry, TimeBank


def begin_writing(session: Session) -> None:
    """Start this request's writing transaction: on SQLite end the read snapshot and take
    the database's write lock now (other writers wait, up to the busy timeout); PostgreSQL
    locks rows as they are read for update."""
    if session.get_bind().dialect.name == "sqlite":
        session.commit()
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def touch(session: Session, bank_id: int | None) -> None:
    """Move the bank's version on: pages kept for its members show the change at the next
    visit. Taken last in every transaction (after exchanges and members), so no lock cycle."""
    session.exec(
        update(TimeBank)
        .where(col(TimeBank.id) == bank_id)
        .values(version=TimeBank.version + 1)
        .execution_options(synchronize_session=False)
    )


def lock_exchange(session: Session, exchange_id: int) -> Exchange | None:
    """Read an exchange afresh and hold it until the transaction ends."""
    return session.exec(
        select(Exchange)
        .where(col(Exchange.id) == exchange_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def lock_row(session: Session, model: type, row_id: int | None):
    """Read a row afresh and hold it until the transaction ends."""
    return session.exec(
        select(model)
        .where(col(model.id) == row_id)  # type: ignore[attr-defined]
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lock_members(session: Session, *member_ids: int) -> list[BankMember]:
    """Read members afresh and hold them, always in the same order (no deadlock); return
    them in the order asked."""
    rows = {
        m.id: m
        for m in session.exec(
            select(BankMember)
            .where(col(BankMember.id).in_(set(member_ids)))
            .order_by(col(BankMember.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    return [rows[i] for i in member_ids]


def move(
    session: Session,
    exchange: Exchange,
    quarters: int,
    kind: str,
    made_by_id: int | None,
    reason: str = "",
) -> int:
    """Move hours from the exchange's receiver to its giver (negative: back again) as one
    pair of entries, and return the step it made (0 when nothing moved)."""
    if quarters == 0:
        return 0
    assert exchange.id is not None
    step = (
        session.exec(
            select(func.max(LedgerEntry.step)).where(LedgerEntry.exchange_id == exchange.id)
        ).one()
        or 0
    ) + 1
    now = utcnow()
    amounts = {exchange.giver_id: quarters, exchange.receiver_id: -quarters}
    # Always in the same order, so two movements between the same people cannot deadlock.
    for member_id in sorted(amounts):
        balance = session.exec(
            update(BankMember)
            .where(col(BankMember.id) == member_id)
            .values(balance=BankMember.balance + amounts[member_id])
            .returning(BankMember.balance)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        session.add(
            LedgerEntry(
                bank_id=exchange.bank_id,
                member_id=member_id,
                exchange_id=exchange.id,
                step=step,
                amount=amounts[member_id],
                balance_after=balance,
                kind=kind,
                made_by_id=made_by_id,
                reason=reason,
                created_at=now,
            )
        )
    exchange.moved += quarters
    session.flush()
    return step


@dataclass(frozen=True)
class Problem:
    """One way the ledger and the balances kept beside it disagree."""

    what: str

    def __str__(self) -> str:
        return self.what


def check(session: Session, bank_id: int | None = None) -> list[Problem]:
    """Check the whole ledger (or one bank's): every movement is a pair summing to zero,
    each bank sums to zero, each member's balance and every running balance equal the
    entries, and each exchange's hours moved equal its giver's entries."""
    problems: list[Problem] = []

    def scoped(query, model=LedgerEntry):
        return query if bank_id is None else query.where(model.bank_id == bank_id)

    for bank, total in session.exec(
        scoped(
            select(LedgerEntry.bank_id, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.bank_id)
        )
    ):
        if total:
            problems.append(Problem(f"bank {bank}: the ledger sums to {total}, not 0"))
    for exchange, step, count, total in session.exec(
        scoped(
            select(
                LedgerEntry.exchange_id,
                LedgerEntry.step,
                func.count(),
                func.sum(LedgerEntry.amount),
            )
            .group_by(LedgerEntry.exchange_id, LedgerEntry.step)
            .having((func.count() != 2) | (func.sum(LedgerEntry.amount) != 0))
        )
    ):
        problems.append(
            Problem(f"exchange {exchange} step {step}: {count} entries summing to {total}")
        )
    sums = (
        select(LedgerEntry.member_id, func.sum(LedgerEntry.amount).label("total"))
        .group_by(LedgerEntry.member_id)
        .subquery()
    )
    for member, balance, total in session.exec(
        scoped(
            select(BankMember.id, BankMember.balance, func.coalesce(sums.c.total, 0))
            .outerjoin(sums, sums.c.member_id == BankMember.id)
            .where(BankMember.balance != func.coalesce(sums.c.total, 0)),
            BankMember,
        )
    ):
        problems.append(
            Problem(f"member {member}: the balance kept is {balance}, the entries say {total}")
        )
    running = scoped(
        select(
            LedgerEntry.id,
            LedgerEntry.balance_after,
            func.sum(LedgerEntry.amount)
            .over(partition_by=LedgerEntry.member_id, order_by=LedgerEntry.id)
            .label("running"),
        )
    ).subquery()
    for entry, after, total in session.exec(
        select(running.c.id, running.c.balance_after, running.c.running).where(
            running.c.balance_after != running.c.running
        )
    ):
        problems.append(
            Problem(f"entry {entry}: the running balance says {after}, the entries say {total}")
        )
    given = (
        select(LedgerEntry.exchange_id, func.sum(LedgerEntry.amount).label("total"))
        .join(Exchange, col(Exchange.id) == LedgerEntry.exchange_id)
        .where(col(LedgerEntry.member_id) == Exchange.giver_id)
        .group_by(LedgerEntry.exchange_id)
        .subquery()
    )
    for exchange, moved, total in session.exec(
        scoped(
            select(Exchange.id, Exchange.moved, func.coalesce(given.c.total, 0))
            .outerjoin(given, given.c.exchange_id == Exchange.id)
            .where(Exchange.moved != func.coalesce(given.c.total, 0)),
            Exchange,
        )
    ):
        problems.append(
            Problem(f"exchange {exchange}: {moved} recorded as moved, the entries say {total}")
        )
    return problems
