"""Page cost that does not depend on the machine: queries flat with data, bytes within budget.

Every page in bench/pages.py is measured with the demo data at small scale, then again after
hundreds more patients and invitations are added: the SQL query count must not change (no
per-row queries), and the compressed first load and repeat visit must stay within budget.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from flask import Flask
from sqlmodel import Session, select

from bench import timebank as timebank_bench
from bench.measure import (
    FIRST_LOAD_BUDGET,
    REPEAT_VISIT_BUDGET,
    path_ids,
    signed_in_client,
    weigh,
)
from bench.pages import PAGES
from webapp import demo
from webapp.accounts.models import Person, Practice
from webapp.goals.models import ProgressEntry
from webapp.results.models import Result
from webapp.timebank.models import BankMember, TimeBank

MORE_PATIENTS = 300  # enough to show any per-row query; the benchmark uses 10,000


def grow(app: Flask) -> None:
    """Add many patients (each with an invitation and results) to the demo practice, and
    five more years of results and progress entries for Pat."""
    with app.app_context(), Session(app.extensions["db_engine"], expire_on_commit=False) as db:
        practice = db.exec(select(Practice)).first()
        demo._add_patients(db, practice, MORE_PATIENTS, random.Random(1))
        pat = db.exec(select(Person).where(Person.email == "pat@example.org")).one()
        older = [
            Result(
                **{
                    **row.model_dump(exclude={"id"}),
                    "taken_at": row.taken_at - dt.timedelta(days=5 * 365),
                    "fingerprint": f"older-{row.id}",
                }
            )
            for row in db.exec(select(Result).where(Result.patient_id == pat.id))
        ]
        db.add_all(older)
        # Five more years of "how did it go" on Pat's goals.
        earlier = [
            ProgressEntry(
                **{
                    **entry.model_dump(exclude={"id"}),
                    "logged_at": entry.logged_at - dt.timedelta(days=5 * 365),
                    "key": f"older-{entry.id}",
                }
            )
            for entry in db.exec(select(ProgressEntry).where(ProgressEntry.patient_id == pat.id))
        ]
        db.add_all(earlier)
        db.commit()
        # Hundreds more movements on Pat's time-bank statement.
        bank = db.exec(select(TimeBank).where(TimeBank.slug == "riverside")).one()
        account = db.exec(
            select(BankMember).where(BankMember.bank_id == bank.id, BankMember.person_id == pat.id)
        ).one()
        others = list(
            db.exec(
                select(BankMember.id).where(
                    BankMember.bank_id == bank.id, BankMember.id != account.id
                )
            )
        )
        timebank_bench.history(
            db, bank.id, account.id, others, MORE_PATIENTS, random.Random(3), key="grow-"
        )
        db.commit()


@pytest.fixture
def seeded(app: Flask) -> Flask:
    """The app with the small demo data."""
    with app.app_context(), Session(app.extensions["db_engine"]) as db:
        demo.seed(db, "small")
    return app


def measure_all(app: Flask) -> dict[str, object]:
    """Weigh every page in the list as its reader."""
    practice = path_ids(app)
    return {
        page.name: weigh(app, signed_in_client(app, page.reader), page.path.format(**practice))
        for page in PAGES
    }


def test_query_counts_stay_flat_and_pages_stay_light(seeded):
    small = measure_all(seeded)
    grow(seeded)
    large = measure_all(seeded)
    for name in small:
        assert small[name].queries == large[name].queries, (name, small[name], large[name])
        for weight in (small[name], large[name]):
            assert weight.first_load <= FIRST_LOAD_BUDGET, (name, weight)
            assert weight.repeat_visit <= REPEAT_VISIT_BUDGET, (name, weight)
    # A page of the list really is compressed and really does read the database.
    assert 0 < large["invitations"].html < 10 * 1024
    assert large["invitations"].queries > 0


def test_the_check_catches_a_per_row_query(seeded):
    @seeded.get("/bench-bad-page")
    def bad_page():
        with Session(seeded.extensions["db_engine"]) as db:
            ids = db.exec(select(Person.id)).all()
            names = [db.exec(select(Person.name).where(Person.id == i)).one() for i in ids]
        return "<p>" + ", ".join(names) + "</p>"

    client = seeded.test_client()
    before = weigh(seeded, client, "/bench-bad-page").queries
    grow(seeded)
    after = weigh(seeded, client, "/bench-bad-page").queries
    assert after - before == MORE_PATIENTS


def test_the_check_catches_a_heavy_page(seeded):
    @seeded.get("/bench-heavy-page")
    def heavy_page():
        import os

        return "<p>" + os.urandom(60 * 1024).hex() + "</p>"

    weight = weigh(seeded, seeded.test_client(), "/bench-heavy-page")
    assert weight.first_load > FIRST_LOAD_BUDGET
