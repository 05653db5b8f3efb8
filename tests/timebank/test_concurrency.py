"""Time-bank writes at the same instant: many confirmations of one exchange, confirmations
of different exchanges of one member, and a coordinator settling while a member confirms.
Exactly the right hours move. On PostgreSQL the requests really run side by side (row
locks); on SQLite they queue for the write lock (immediate transactions)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.conftest import together
from tests.timebank.helpers import SLUG, TODAY, coordinator, listing, member, propose
from webapp.accounts.services import load_actor
from webapp.content import get_content
from webapp.timebank import exchanges, ledger, services
from webapp.timebank.models import BankMember, Exchange, LedgerEntry
from webapp.timebank.services import TimebankError


@pytest.fixture
def people(app, db):
    with app.test_request_context():
        services.sync_banks(db, get_content().banks)
        cora = coordinator(db)
        ann = member(db, cora, "Ann Jones", "ann@example.org")
        ben = member(db, cora, "Ben Ode", "ben@example.org")
        yield cora, ann, ben


def _accepted(db, giver, receiver, hours="1"):
    made = propose(db, receiver, listing(db, giver), hours)
    exchanges.answer(db, giver.actor, SLUG, made.id, True, TODAY)
    return made


def test_many_confirmations_of_one_exchange_move_the_hours_once(app, db, people):
    _cora, ann, ben = people
    made = _accepted(db, ann, ben, "2")
    sides = [ann.actor.person, ben.actor.person] * 4

    def confirm(session: Session, n: int) -> object:
        actor = load_actor(session, sides[n])
        return exchanges.confirm(session, actor, SLUG, made.id, "2", TODAY).status

    results = together(app, len(sides), confirm)
    unexpected = [r for r in results if not isinstance(r, (str, TimebankError))]
    assert not unexpected, unexpected
    db.expire_all()
    assert db.get(Exchange, made.id).moved == 8
    assert len(db.exec(select(LedgerEntry)).all()) == 2
    assert db.get(BankMember, ann.account.id).balance == 8
    assert ledger.check(db) == []


def test_confirmations_of_different_exchanges_of_one_member_all_count(app, db, people):
    _cora, ann, ben = people
    made = [_accepted(db, ann, ben, "1") for _ in range(6)]
    for one in made:
        exchanges.confirm(db, ann.actor, SLUG, one.id, "1", TODAY)

    def confirm(session: Session, n: int) -> object:
        actor = load_actor(session, ben.actor.person)
        return exchanges.confirm(session, actor, SLUG, made[n].id, "1", TODAY).status

    results = together(app, len(made), confirm)
    assert results == ["done"] * len(made), results
    db.expire_all()
    assert db.get(BankMember, ben.account.id).balance == -24
    assert db.get(BankMember, ann.account.id).balance == 24
    assert ledger.check(db) == []


def test_a_coordinator_settling_while_a_member_confirms_moves_hours_once(app, db, people):
    cora, ann, ben = people
    made = _accepted(db, ann, ben, "1")
    exchanges.confirm(db, ann.actor, SLUG, made.id, "2", TODAY)
    exchanges.confirm(db, ben.actor, SLUG, made.id, "1", TODAY)  # they disagree

    def act(session: Session, n: int) -> object:
        if n == 0:
            actor = load_actor(session, cora.actor.person)
            return exchanges.settle(session, actor, SLUG, made.id, "1.5", "Spoke to both", TODAY)
        actor = load_actor(session, ben.actor.person)
        return exchanges.confirm(session, actor, SLUG, made.id, "2", TODAY)

    results = together(app, 2, act)
    assert not [r for r in results if not isinstance(r, (Exchange, TimebankError))], results
    db.expire_all()
    final = db.get(Exchange, made.id)
    # Whichever came first stands: settled at 1.5 hours, or agreed at 2 (then settling is
    # refused with what happened).
    assert (final.status, final.moved) in {("settled", 6), ("done", 8)}
    assert len(db.exec(select(LedgerEntry)).all()) == 2
    assert ledger.check(db) == []
