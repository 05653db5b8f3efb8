"""Exchanges without HTTP: proposed, answered, confirmed by both sides before hours move;
coordinators agree, settle, record and correct; every bad input is refused with words that
say what to do, and nothing moves twice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from tests.timebank.helpers import SLUG, TODAY, Member, coordinator, listing, member, propose
from webapp.content import get_content
from webapp.timebank import exchanges, ledger, services
from webapp.timebank.hours import parse_hours
from webapp.timebank.models import BankMember, Exchange, LedgerEntry
from webapp.timebank.services import TimebankError


@pytest.fixture
def ctx(app, db):
    with app.test_request_context():
        services.sync_banks(db, get_content().banks)
        yield


@pytest.fixture
def people(ctx, db):
    cora = coordinator(db)
    ann = member(db, cora, "Ann Jones", "ann@example.org")
    ben = member(db, cora, "Ben Ode", "ben@example.org")
    return cora, ann, ben


def balance(db, who) -> int:
    db.expire_all()
    return db.get(BankMember, who.account.id).balance


def test_both_confirm_and_the_hours_move_once(db, people):
    _cora, ann, ben = people
    offer = listing(db, ann)
    proposed = propose(db, ben, offer, "1.5")
    assert (proposed.giver_id, proposed.receiver_id) == (ann.account.id, ben.account.id)
    assert proposed.status == "proposed" and proposed.estimate == 6
    with pytest.raises(TimebankError, match="You proposed this"):
        exchanges.answer(db, ben.actor, SLUG, proposed.id, True, TODAY)
    exchanges.answer(db, ann.actor, SLUG, proposed.id, True, TODAY)
    first = exchanges.confirm(db, ann.actor, SLUG, proposed.id, "1.75", TODAY)
    assert first.status == "accepted" and first.giver_hours == 7
    with pytest.raises(TimebankError, match="already confirmed 1¾ hours"):
        exchanges.confirm(db, ann.actor, SLUG, proposed.id, "1.75", TODAY)
    done = exchanges.confirm(db, ben.actor, SLUG, proposed.id, "1:45", TODAY)
    assert done.status == "done" and done.moved == 7
    assert (balance(db, ann), balance(db, ben)) == (7, -7)
    with pytest.raises(TimebankError, match="Both sides confirmed it"):
        exchanges.confirm(db, ben.actor, SLUG, proposed.id, "1.75", TODAY)
    assert ledger.check(db) == []
    entries = db.exec(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    assert [(e.amount, e.balance_after) for e in entries] == [(7, 7), (-7, -7)] or [
        (e.amount, e.balance_after) for e in entries
    ] == [(-7, -7), (7, 7)]


def test_a_disagreement_goes_to_a_coordinator_who_settles_it(db, people):
    cora, ann, ben = people
    asked = listing(db, ben, kind="request", title="Help with a form")
    proposed = propose(db, ann, asked, "1")
    assert (proposed.giver_id, proposed.receiver_id) == (ann.account.id, ben.account.id)
    exchanges.answer(db, ben.actor, SLUG, proposed.id, True, TODAY)
    exchanges.confirm(db, ann.actor, SLUG, proposed.id, "2", TODAY)
    disputed = exchanges.confirm(db, ben.actor, SLUG, proposed.id, "1", TODAY)
    assert disputed.status == "disputed" and disputed.moved == 0
    assert [
        row.exchange.id for row in exchanges.to_settle(db, services.get_bank(db, SLUG), TODAY)
    ] == [proposed.id]
    with pytest.raises(TimebankError, match="Say why"):
        exchanges.settle(db, cora.actor, SLUG, proposed.id, "1.5", "", TODAY)
    settled = exchanges.settle(db, cora.actor, SLUG, proposed.id, "1.5", "Spoke to both", TODAY)
    assert settled.status == "settled" and settled.moved == 6 and settled.reason == "Spoke to both"
    with pytest.raises(TimebankError, match="coordinator settled it"):
        exchanges.confirm(db, ben.actor, SLUG, proposed.id, "1.5", TODAY)
    with pytest.raises(TimebankError, match="changed"):
        exchanges.settle(db, cora.actor, SLUG, proposed.id, "2", "again", TODAY)
    corrected = exchanges.correct(db, cora.actor, SLUG, proposed.id, "1", "It was an hour")
    assert corrected.moved == 4
    assert (balance(db, ann), balance(db, ben)) == (4, -4)
    kinds = [e.kind for e in db.exec(select(LedgerEntry).order_by(LedgerEntry.id))]
    assert kinds == ["settlement"] * 2 + ["correction"] * 2
    assert ledger.check(db) == []


def test_unconfirmed_after_fourteen_days_a_coordinator_settles(db, people):
    cora, ann, ben = people
    proposed = propose(db, ben, listing(db, ann), "1")
    exchanges.answer(db, ann.actor, SLUG, proposed.id, True, TODAY)
    exchanges.confirm(db, ann.actor, SLUG, proposed.id, "1", TODAY)
    with pytest.raises(TimebankError, match="until 2026-12-08"):
        exchanges.settle(db, cora.actor, SLUG, proposed.id, "1", "No reply", TODAY)
    later = TODAY + dt.timedelta(days=15)
    bank = services.get_bank(db, SLUG)
    assert [r.exchange.id for r in exchanges.to_settle(db, bank, later)] == [proposed.id]
    settled = exchanges.settle(db, cora.actor, SLUG, proposed.id, "1", "Ben did not reply", later)
    assert settled.moved == 4


@pytest.mark.parametrize(
    ("hours", "words"),
    [
        ("0", "at least a quarter"),
        ("-1", "less than nothing"),
        ("1.3", "quarter hours"),
        ("1:20", "quarter hours"),
        ("25", "more than fits in a day"),
        ("1e400", "more than fits in a day"),
        ("1,000", "more than fits in a day"),
        ("NaN", "as a number"),
        ("two", "as a number"),
        ("", "how many hours"),
    ],
)
def test_bad_hours_are_refused_with_what_to_do(db, people, hours, words):
    _cora, ann, ben = people
    with pytest.raises(TimebankError, match=words):
        propose(db, ben, listing(db, ann), hours)
    assert db.exec(select(Exchange)).all() == []


@pytest.mark.parametrize(
    ("typed", "quarters"),
    [("1.5", 6), ("1,5", 6), ("1½", 6), ("1 ½", 6), ("1:30", 6), ("0.75", 3), ("2 hours", 8)],
)
def test_hours_are_read_as_people_write_them(app, typed, quarters):
    with app.test_request_context():
        assert parse_hours(typed) == quarters


def test_no_exchange_with_oneself_and_a_double_submit_proposes_once(db, people):
    cora, ann, ben = people
    offer = listing(db, ann)
    with pytest.raises(TimebankError, match="your own listing"):
        propose(db, ann, offer)
    first = propose(db, ben, offer, key="same-key-123")
    again = propose(db, ben, offer, key="same-key-123")
    assert first.id == again.id and len(db.exec(select(Exchange)).all()) == 1
    with pytest.raises(TimebankError, match="same member"):
        exchanges.record(
            db,
            cora.actor,
            SLUG,
            {
                "giver_id": str(ann.account.id),
                "receiver_id": str(ann.account.id),
                "title": "Lift",
                "category": "company",
                "happens_on": TODAY.isoformat(),
                "hours": "1",
                "key": exchanges.new_key(),
            },
            dict(get_content().banks[SLUG].categories),
            TODAY,
        )


def test_a_listing_edited_after_a_proposal_leaves_the_exchange_as_agreed(db, people):
    _cora, ann, ben = people
    offer = listing(db, ann, title="Lifts to the surgery")
    proposed = propose(db, ben, offer)
    services.update_listing(
        db,
        ann.actor,
        SLUG,
        offer.id,
        {
            "kind": "request",
            "title": "Now a request",
            "description": "x",
            "category": "shopping",
            "area": "Riverside",
        },
        get_content().banks[SLUG],
        TODAY,
    )
    db.expire_all()
    kept = db.get(Exchange, proposed.id)
    assert (kept.title, kept.category, kept.giver_id) == (
        "Lifts to the surgery",
        "company",
        ann.account.id,
    )


def test_past_the_lower_limit_waits_for_a_coordinator(db, people):
    cora, ann, ben = people
    big = listing(db, ann)
    # Ben has 0 hours; the bank's lower limit is -10 hours: 10 is fine, 10.25 is not.
    fine = propose(db, ben, big, "10")
    assert fine.status == "proposed"
    waits = propose(db, ben, big, "10.25")
    assert waits.status == "waiting"
    with pytest.raises(TimebankError, match="waiting for a coordinator to agree"):
        pass_through = exchanges.answer(db, ann.actor, SLUG, waits.id, True, TODAY)
        assert pass_through is None
    agreed = exchanges.agree(db, cora.actor, SLUG, waits.id, True)
    assert agreed.status == "proposed" and agreed.coordinator_id == cora.actor.id
    with pytest.raises(TimebankError, match="Say why"):
        exchanges.agree(db, cora.actor, SLUG, propose(db, ben, big, "11").id, False)


def test_a_member_removed_with_exchanges_open_loses_no_hours(db, people):
    cora, ann, ben = people
    offer = listing(db, ann)
    future = propose(db, ben, offer, day=TODAY + dt.timedelta(days=3))
    happened = propose(db, ben, offer)
    for made in (future, happened):
        exchanges.answer(db, ann.actor, SLUG, made.id, True, TODAY)
    exchanges.confirm(db, ann.actor, SLUG, happened.id, "2", TODAY)
    called_off = services.remove_member(db, cora.actor, SLUG, ben.account.id, "Moved away", TODAY)
    assert called_off == 1
    db.expire_all()
    assert db.get(Exchange, future.id).status == "cancelled"
    assert db.get(Exchange, happened.id).status == "accepted"
    # Ben cannot confirm now; a coordinator settles at once, without waiting 14 days.
    settled = exchanges.settle(db, cora.actor, SLUG, happened.id, "2", "Ann confirmed", TODAY)
    assert settled.moved == 8 and ledger.check(db) == []


def test_a_coordinator_cannot_settle_their_own_exchange(db, people):
    cora, ann, _ben = people
    proposed = propose(db, cora, listing(db, ann), "1")
    exchanges.answer(db, ann.actor, SLUG, proposed.id, True, TODAY)
    exchanges.confirm(db, ann.actor, SLUG, proposed.id, "1", TODAY)
    exchanges.confirm(db, cora.actor, SLUG, proposed.id, "2", TODAY)
    with pytest.raises(TimebankError, match="Ask another coordinator"):
        exchanges.settle(db, cora.actor, SLUG, proposed.id, "1", "mine", TODAY)


def test_a_closed_account_leaves_the_ledger_whole(db, people):
    from webapp.accounts.services import load_actor
    from webapp.rights.services import delete_account

    _cora, ann, ben = people
    done = propose(db, ben, listing(db, ann), "1")
    exchanges.answer(db, ann.actor, SLUG, done.id, True, TODAY)
    exchanges.confirm(db, ann.actor, SLUG, done.id, "1", TODAY)
    exchanges.confirm(db, ben.actor, SLUG, done.id, "1", TODAY)
    open_one = propose(
        db, ben, listing(db, ann, title="Later"), "1", day=TODAY + dt.timedelta(days=400 - 390)
    )
    delete_account(db, load_actor(db, ben.actor.person), ben.actor.id)
    db.commit()
    db.expire_all()
    gone = db.get(BankMember, ben.account.id)
    assert (gone.person_id, gone.display_name, gone.status) == (None, "A former member", "left")
    assert gone.balance == -4 and db.get(BankMember, ann.account.id).balance == 4
    assert db.get(Exchange, open_one.id).status == "cancelled"
    assert ledger.check(db) == []


def test_the_check_finds_a_balance_changed_behind_the_ledgers_back(db, people):
    _cora, ann, ben = people
    done = propose(db, ben, listing(db, ann), "1")
    exchanges.answer(db, ann.actor, SLUG, done.id, True, TODAY)
    exchanges.confirm(db, ann.actor, SLUG, done.id, "1", TODAY)
    exchanges.confirm(db, ben.actor, SLUG, done.id, "1", TODAY)
    assert ledger.check(db) == []
    db.expire_all()
    tampered = db.get(BankMember, ann.account.id)
    tampered.balance = 40
    db.add(tampered)
    entry = db.exec(select(LedgerEntry).where(LedgerEntry.member_id == ben.account.id)).one()
    entry.amount = -3
    db.add(entry)
    db.commit()
    found = " / ".join(str(p) for p in ledger.check(db))
    assert "sums to 1, not 0" in found
    assert f"member {ann.account.id}: the balance kept is 40, the entries say 4" in found
    assert "2 entries summing to 1" in found
    assert "the running balance says -4, the entries say -3" in found


def test_the_check_command_says_whether_the_ledger_balances(app, db, people):
    _cora, ann, ben = people
    done = propose(db, ben, listing(db, ann), "1")
    exchanges.answer(db, ann.actor, SLUG, done.id, True, TODAY)
    exchanges.confirm(db, ann.actor, SLUG, done.id, "1", TODAY)
    exchanges.confirm(db, ben.actor, SLUG, done.id, "1", TODAY)
    good = app.test_cli_runner().invoke(args=["timebank", "check"])
    assert good.exit_code == 0 and "balances" in good.output
    db.expire_all()
    tampered = db.get(BankMember, ben.account.id)
    tampered.balance = 0
    db.add(tampered)
    db.commit()
    bad = app.test_cli_runner().invoke(args=["timebank", "check"])
    assert bad.exit_code == 1 and "the balance kept is 0, the entries say -4" in bad.output


def test_the_role_command_makes_a_coordinator(app, db, ctx):
    from tests.conftest import add_person

    add_person(db, "Dee Kay", "dee@example.org")
    runner = app.test_cli_runner()
    done = runner.invoke(
        args=["timebank", "role", SLUG, "--email", "dee@example.org", "--role", "coordinator"]
    )
    assert done.exit_code == 0, done.output
    made = db.exec(select(BankMember).where(BankMember.display_name == "Dee")).one()
    assert (made.role, made.status) == ("coordinator", "active")
    nobody = runner.invoke(
        args=["timebank", "role", SLUG, "--email", "x@example.org", "--role", "coordinator"]
    )
    assert nobody.exit_code == 1 and "nobody" in nobody.output
    no_bank = runner.invoke(
        args=["timebank", "role", "nowhere", "--email", "dee@example.org", "--role", "member"]
    )
    assert no_bank.exit_code == 1 and "no time bank" in no_bank.output
    synced = runner.invoke(args=["timebank", "sync"])
    assert synced.exit_code == 0 and "0 new" in synced.output


def test_confirming_more_than_agreed_past_the_lower_limit_goes_to_a_coordinator(db, people):
    cora, ann, ben = people
    small = propose(db, ben, listing(db, ann), "0.25")
    exchanges.answer(db, ann.actor, SLUG, small.id, True, TODAY)
    exchanges.confirm(db, ann.actor, SLUG, small.id, "12", TODAY)
    held = exchanges.confirm(db, ben.actor, SLUG, small.id, "12", TODAY)
    assert held.status == "held" and held.moved == 0
    assert "lower limit" in held.reason
    bank = services.get_bank(db, SLUG)
    assert [r.exchange.id for r in exchanges.to_settle(db, bank, TODAY)] == [small.id]
    settled = exchanges.settle(db, cora.actor, SLUG, small.id, "12", "Agreed with Ben", TODAY)
    assert settled.moved == 48 and balance(db, ben) == -48
    # Within the limit both sides' word is enough.
    fine = propose(db, ann, listing(db, ben, title="Ironing"), "1")
    exchanges.answer(db, ben.actor, SLUG, fine.id, True, TODAY)
    exchanges.confirm(db, ben.actor, SLUG, fine.id, "2", TODAY)
    assert exchanges.confirm(db, ann.actor, SLUG, fine.id, "2", TODAY).status == "done"


def test_a_carer_cannot_trade_with_the_person_they_help(app, db, people):
    from webapp.accounts.services import load_actor
    from webapp.carers import services as carers

    _cora, ann, ben = people
    # Ann proposed to Ben before he became her carer, and Ben had agreed to help her shop.
    made = propose(db, ann, listing(db, ben, title="Another"), "1")
    agreed = propose(db, ann, listing(db, ben, title="Shopping"), "1")
    exchanges.answer(db, ben.actor, SLUG, agreed.id, True, TODAY)
    anns_listing = listing(db, ann, title="Ann's offer")
    with app.test_request_context():
        grant, token, _code = carers.invite_carer(
            db, ann.actor, ann.actor.id, {"name": "Ben Ode"}, ["timebank"]
        )
        carers.accept(db, ben.actor, token=token)
        auth = carers.start_acting(db, ben.actor, grant.id)
    assert auth is not None
    helping = load_actor(db, ben.actor.person)
    helping = type(helping)(**{**helping.__dict__, "acting": carers_acting(db, ben, grant)})
    with pytest.raises(TimebankError, match="someone you are helping"):
        propose(db, Member(helping, ann.account), listing(db, ben, title="Ben's offer"))
    # Ben, acting for Ann, cannot accept it as the other side.
    with pytest.raises(TimebankError, match="cannot answer it for the person you help"):
        exchanges.answer(db, helping, SLUG, made.id, True, TODAY)
    # Nor from his own account, in either direction, however the exchange began.
    carer = "one of you is the other's carer"
    with pytest.raises(TimebankError, match=carer):
        propose(db, ben, anns_listing)
    with pytest.raises(TimebankError, match=carer):
        propose(db, ann, listing(db, ben, title="Gardening"))
    with pytest.raises(TimebankError, match=carer):
        exchanges.answer(db, ben.actor, SLUG, made.id, True, TODAY)
    # An exchange agreed before is confirmed by neither: Ben could confirm both sides.
    for side in (ann, ben):
        with pytest.raises(TimebankError, match=carer):
            exchanges.confirm(db, side.actor, SLUG, agreed.id, "1", TODAY)
    # Declining is always possible; once Ann stops Ben's help, they may trade again.
    assert exchanges.answer(db, ben.actor, SLUG, made.id, False, TODAY).status == "declined"
    with app.test_request_context():
        carers.stop_grant(db, ann.actor, grant.id)
    assert propose(db, ben, anns_listing).status == "proposed"


def carers_acting(db, carer, grant):
    from webapp.access import Acting

    return Acting(grant.id, grant.person_id, "Ann Jones", frozenset({"timebank"}))


def test_a_removed_member_cannot_ask_again_and_removal_stands(db, people):
    cora, _ann, ben = people
    services.remove_member(db, cora.actor, SLUG, ben.account.id, "Unkind to members", TODAY)
    with pytest.raises(TimebankError, match="removed you"):
        services.ask_to_join(
            db,
            ben.actor,
            SLUG,
            {"display_name": "Ben", "area": "Riverside"},
            get_content().banks[SLUG],
        )
    with pytest.raises(TimebankError, match="not a member now"):
        services.remove_member(db, cora.actor, SLUG, ben.account.id, "Again", TODAY)
    db.expire_all()
    assert db.get(BankMember, ben.account.id).reason == "Unkind to members"


def test_recording_is_for_members_without_the_app(db, people):
    cora, ann, ben = people
    categories = dict(get_content().banks[SLUG].categories)
    form = {
        "title": "Lift",
        "category": "company",
        "happens_on": TODAY.isoformat(),
        "hours": "1",
        "key": exchanges.new_key(),
    }
    with pytest.raises(TimebankError, match="Both members use the app"):
        exchanges.record(
            db,
            cora.actor,
            SLUG,
            {**form, "giver_id": str(ann.account.id), "receiver_id": str(ben.account.id)},
            categories,
            TODAY,
        )
    nan = services.add_member_without_app(
        db,
        cora.actor,
        SLUG,
        {"display_name": "Nan", "area": "Riverside"},
        get_content().banks[SLUG],
    )
    made = exchanges.record(
        db,
        cora.actor,
        SLUG,
        {**form, "giver_id": str(nan.id), "receiver_id": str(ben.account.id)},
        categories,
        TODAY,
    )
    assert (made.status, made.moved, made.coordinator_id) == ("recorded", 4, cora.actor.id)
    again = exchanges.record(
        db,
        cora.actor,
        SLUG,
        {**form, "giver_id": str(nan.id), "receiver_id": str(ben.account.id)},
        categories,
        TODAY,
    )
    assert again.id == made.id  # a double submit records once
    corrected = exchanges.correct(db, cora.actor, SLUG, made.id, "0.5", "Half an hour")
    assert corrected.moved == 2
    lines, _older = exchanges.statement(db, db.get(BankMember, ben.account.id))
    assert [(line.other, line.entry.amount, line.entry.balance_after) for line in lines] == [
        ("Nan", 2, -2),
        ("Nan", -4, -4),
    ]
    nan_lines, _older = exchanges.statement(db, nan)
    assert [line.other for line in nan_lines] == ["Ben", "Ben"]


def test_the_days_to_confirm_start_when_it_was_accepted_if_later(db, people):
    cora, ann, ben = people
    past = TODAY - dt.timedelta(days=14)
    made = propose(db, ben, listing(db, ann), "1", day=past)
    exchanges.answer(db, ann.actor, SLUG, made.id, True, TODAY)
    db.expire_all()
    assert exchanges.confirm_by(db.get(Exchange, made.id)) == TODAY + dt.timedelta(days=14)
    with pytest.raises(TimebankError, match="have until"):
        exchanges.settle(db, cora.actor, SLUG, made.id, "1", "x", TODAY + dt.timedelta(days=1))


@pytest.mark.parametrize("typed", ["9e999999", "1e-999999", "-9e99999"])
def test_huge_and_tiny_numbers_are_refused_not_crashed(db, people, typed):
    _cora, ann, ben = people
    with pytest.raises(TimebankError):
        propose(db, ben, listing(db, ann), typed)


def test_a_members_exchanges_come_newest_first_a_page_at_a_time(db, people):
    _cora, ann, ben = people
    offer, request = listing(db, ann), listing(db, ann, kind="request", title="Help me")
    made = [propose(db, ben, offer if n % 2 else request, "1").id for n in range(45)]
    first, more = exchanges.exchanges_of(db, ben.account, TODAY)
    second, more_again = exchanges.exchanges_of(db, ben.account, TODAY, page=2)
    third, last = exchanges.exchanges_of(db, ben.account, TODAY, page=3)
    shown = [row.exchange.id for row in first + second + third]
    assert shown == sorted(made, reverse=True)
    assert (more, more_again, last) == (True, True, False)
    assert {row.giver for row in first} == {"Ann", "Ben"}
    waiting = exchanges.waiting_for(db, ann.account, TODAY)
    assert len(waiting) == 45 and all(row.needs_you for row in waiting)
    assert exchanges.waiting_for(db, ben.account, TODAY) == []
