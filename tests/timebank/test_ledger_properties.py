"""The ledger under random sequences of proposals, answers, confirmations (agreeing or
not), settlements, records, corrections, calls-off and removals: it always sums to zero,
no exchange moves hours twice, and every balance equals the sum of its entries and the
hours each exchange was agreed at."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from tests.timebank.helpers import TODAY
from webapp.accounts.services import load_actor
from webapp.timebank import exchanges, ledger, services
from webapp.timebank.models import BankMember, Exchange, LedgerEntry, TimeBank
from webapp.timebank.services import TimebankError

# Hours as typed, and what each is in quarter hours (None: refused).
HOURS = {"1": 4, "0.25": 1, "2.5": 10, "24": 96}
LATE = TODAY + dt.timedelta(days=15)
_banks = itertools.count()

member = st.integers(min_value=0, max_value=2)
# The listing's maker, counted on from the proposer: 0 is themselves (refused).
other = st.sampled_from([1, 1, 1, 2, 2, 2, 0])
exchange = st.integers(min_value=0, max_value=7)
# Mostly hours that are fine, sometimes not.
hours = st.sampled_from(["1", "0.25", "2.5", "24", "1", "2.5", "0", "-1", "1.3", "25"])
propose = st.tuples(st.just("propose"), member, other, st.sampled_from(["offer", "request"]), hours)
answer = st.tuples(st.just("answer"), exchange, st.sampled_from([True, True, True, False]))
confirm = st.tuples(st.just("confirm"), exchange, st.booleans(), hours, st.booleans())
STEPS = st.one_of(
    propose,
    propose,
    propose,
    answer,
    answer,
    confirm,
    confirm,
    confirm,
    st.tuples(st.just("settle"), exchange, st.sampled_from(["0", "1", "2.5", "-1"]), st.booleans()),
    st.tuples(st.just("correct"), exchange, st.sampled_from(["0", "1", "3", "1.3"])),
    st.tuples(st.just("record"), member, member, hours),
    st.tuples(st.just("call_off"), exchange, st.booleans()),
    st.tuples(st.just("agree"), exchange, st.booleans()),
    # Now and then a member is removed, exchanges open or not.
    st.tuples(st.just("remove"), member, st.integers(min_value=0, max_value=3)),
)


def _bank(db):
    n = next(_banks)
    slug = f"prop-{n}"
    db.add(TimeBank(slug=slug, name=f"Bank {n}", description="", lower_limit=-40))
    db.commit()
    people = []
    for i in range(4):
        person = add_person(db, f"P{n}x{i}", f"p{n}x{i}@example.org")
        people.append(load_actor(db, person))
    cora = people.pop()
    services.set_role(db, slug, cora.id, "Cora", "coordinator")
    members = []
    for i, actor in enumerate(people):
        joined = services.ask_to_join(db, actor, slug, {"display_name": f"M{i}"}, None)
        services.decide_request(db, cora, slug, joined.id, True, joined.version)
        members.append(actor)
    listings = {}
    for i, actor in enumerate(members):
        for kind in ("offer", "request"):
            listings[i, kind] = services.create_listing(
                db,
                actor,
                slug,
                {
                    "kind": kind,
                    "title": f"{kind} {i}",
                    "description": "d",
                    "category": "c",
                    "area": "a",
                },
                None,
                TODAY,
            ).id
    return slug, cora, members, listings


def _apply(db, step, slug, cora, members, listings, made, expected) -> None:
    name = step[0]
    if name == "propose":
        _, who, offset, kind, typed = step
        done = exchanges.propose(
            db,
            members[who],
            slug,
            listings[(who + offset) % 3, kind],
            {"hours": typed, "happens_on": TODAY.isoformat(), "key": exchanges.new_key()},
            TODAY,
        )
        made.append(done.id)
    elif name == "record":
        _, giver, receiver, typed = step
        accounts = _accounts(db, slug)
        done = exchanges.record(
            db,
            cora,
            slug,
            {
                "giver_id": str(accounts[giver]),
                "receiver_id": str(accounts[receiver]),
                "title": "Help",
                "category": "c",
                "happens_on": TODAY.isoformat(),
                "hours": typed,
                "key": exchanges.new_key(),
            },
            {"c": "C"},
            TODAY,
        )
        made.append(done.id)
        expected[done.id] = HOURS[typed]
    elif (exchange_id := _pick(db, made, step[1], PREFER.get(name, ()))) is None:
        return
    elif name == "answer":
        ex = db.get(Exchange, exchange_id)
        actor = _party(db, members, slug, ex, not_proposer=True)
        exchanges.answer(db, actor, slug, exchange_id, step[2], TODAY)
    elif name == "confirm":
        _, _i, giver_side, typed, happened = step
        ex = db.get(Exchange, exchange_id)
        actor = _party(db, members, slug, ex, giver=giver_side)
        done = exchanges.confirm(db, actor, slug, exchange_id, typed, TODAY, happened)
        if done.status == "done":
            assert done.giver_hours == done.receiver_hours
            expected[exchange_id] = done.giver_hours
    elif name == "settle":
        _, _i, typed, late = step
        exchanges.settle(db, cora, slug, exchange_id, typed, "because", LATE if late else TODAY)
        expected[exchange_id] = {"0": 0, "1": 4, "2.5": 10}[typed]
    elif name == "correct":
        _, _i, typed = step
        exchanges.correct(db, cora, slug, exchange_id, typed, "fixing")
        expected[exchange_id] = {"0": 0, "1": 4, "3": 12}[typed]
    elif name == "agree":
        exchanges.agree(db, cora, slug, exchange_id, step[2], "" if step[2] else "too far")
    elif name == "call_off":
        ex = db.get(Exchange, exchange_id)
        actor = _party(db, members, slug, ex, giver=step[2])
        exchanges.call_off(db, actor, slug, exchange_id)
    elif name == "remove" and step[2] == 0:
        services.remove_member(db, cora, slug, _accounts(db, slug)[step[1] % 3], "gone", TODAY)


# The exchanges each step is most likely to apply to: chosen among those first (else any),
# so that long chains (proposed, accepted, confirmed twice, settled, corrected) happen often.
PREFER = {
    "answer": ("proposed",),
    "confirm": ("accepted", "disputed"),
    "settle": ("accepted", "disputed"),
    "correct": ("done", "settled", "recorded"),
    "call_off": ("waiting", "proposed", "accepted"),
    "agree": ("waiting",),
}


def _pick(db, made, index, statuses) -> int | None:
    if not made:
        return None
    db.expire_all()
    likely = [i for i in made if db.get(Exchange, i).status in statuses]
    pool = likely or made
    return pool[index % len(pool)]


def _accounts(db, slug) -> list[int]:
    bank = services.get_bank(db, slug)
    return list(
        db.exec(
            select(BankMember.id)
            .where(BankMember.bank_id == bank.id, BankMember.role == "member")
            .order_by(BankMember.id)
        )
    )


def _party(db, members, slug, ex, giver=True, not_proposer=False):
    accounts = _accounts(db, slug)
    if not_proposer:
        target = ex.receiver_id if ex.proposer_id == ex.giver_id else ex.giver_id
    else:
        target = ex.giver_id if giver else ex.receiver_id
    if target not in accounts:
        raise NotFound()
    return members[accounts.index(target)]


def _check(db, slug, expected) -> None:
    db.expire_all()
    bank = services.get_bank(db, slug)
    assert ledger.check(db, bank.id) == []
    total = db.exec(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.bank_id == bank.id))
    assert (total.one() or 0) == 0
    balances: dict[int, int] = {}
    for ex in db.exec(select(Exchange).where(Exchange.bank_id == bank.id)):
        assert ex.moved == (expected.get(ex.id) or 0), (ex.id, ex.status)
        first_moves = db.exec(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.exchange_id == ex.id, LedgerEntry.kind != "correction")
        ).one()
        assert first_moves in (0, 2), "an exchange moved hours more than once"
        balances[ex.giver_id] = balances.get(ex.giver_id, 0) + ex.moved
        balances[ex.receiver_id] = balances.get(ex.receiver_id, 0) - ex.moved
    for account in db.exec(select(BankMember).where(BankMember.bank_id == bank.id)):
        assert account.balance == balances.get(account.id, 0)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=10, max_size=30))
def test_the_ledger_balances_whatever_happens(app, db, steps):
    with app.test_request_context():
        slug, cora, members, listings = _bank(db)
        made: list[int] = []
        expected: dict[int, int | None] = {}
        for step in steps:
            try:
                _apply(db, step, slug, cora, members, listings, made, expected)
                event(f"{step[0]} done")
            except (TimebankError, NotFound):
                db.rollback()
                event(f"{step[0]} refused")
            _check(db, slug, expected)
