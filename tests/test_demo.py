"""The demo data (`flask demo`, `make run`) tells one story: a review whose results were
released says so in its own fields, in the results, and on the clinicians' worklist."""

from __future__ import annotations

import random
import re
from collections import defaultdict

from flask import Flask
from sqlmodel import Session, select

from tests.conftest import sign_in
from webapp import demo
from webapp.accounts.models import Person, Practice
from webapp.results.models import Result
from webapp.reviews.models import Review, ReviewStatus


def _seeded(app: Flask) -> None:
    """The small demo, and 60 more patients (so some are due soon and have results out)."""
    with app.app_context(), Session(app.extensions["db_engine"]) as db:
        practice = demo.seed(db, "small")
        demo._add_patients(db, practice, 60, random.Random(5))


def test_a_review_whose_results_went_out_says_so_in_its_fields_and_its_results(app, db):
    _seeded(app)
    reviews = db.exec(select(Review)).all()
    released_for: dict[int, list] = defaultdict(list)
    for review in reviews:
        past_release = ReviewStatus(review.status).order >= ReviewStatus.RESULTS_RELEASED.order
        assert past_release == (review.results_released_at is not None), (review.id, review.status)
        if review.results_released_at is not None:
            released_for[review.patient_id].append(review.results_released_at)
        if ReviewStatus(review.status).order >= ReviewStatus.PREPARED.order:
            assert review.prepared_at is not None, review.id
    assert len(released_for) >= 3  # Pat and at least two generated patients
    results: dict[int, list] = defaultdict(list)
    for result in db.exec(select(Result)).all():
        if result.released_at is not None:
            assert not result.held, result.id
            results[result.patient_id].append(result.released_at)
    # Results were released for a person exactly when one of their reviews says so; nobody
    # whose reviews all wait has results out.
    assert set(results) == set(released_for)
    for patient_id, moments in results.items():
        assert set(moments) <= set(released_for[patient_id]), patient_id
        assert max(moments) == max(released_for[patient_id]), patient_id


def test_the_worklist_says_sent_for_every_review_whose_results_went_out(app, db, client):
    _seeded(app)
    priya = db.exec(select(Person).where(Person.email == "priya@example.org")).one()
    practice = db.exec(select(Practice)).one()
    sign_in(app, client, priya)
    page = client.get(f"/reviews/practices/{practice.id}").get_data(as_text=True)
    reviews = {review.id: review for review in db.exec(select(Review)).all()}
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL)
    said_sent = 0
    for row in rows[1:]:  # after the heading row
        review = reviews[int(re.search(r"/results/reviews/(\d+)", row).group(1))]
        cells = dict(re.findall(r'<td data-label="([^"]+)">(.*?)</td>', row, re.DOTALL))
        if review.results_released_at is not None:
            assert (cells["Step"], cells["Results sent"]) == ("Results sent", "Yes"), review.id
            said_sent += 1
        else:
            assert (cells["Step"], cells["Results sent"]) == ("Planned", "Not yet"), review.id
    assert len(rows) > 10
    assert said_sent >= 3
    pat = db.exec(select(Person).where(Person.email == "pat@example.org")).one()
    pats = [r for r in reviews.values() if r.patient_id == pat.id and r.status != "plan_agreed"]
    assert [r.status for r in pats] == [ReviewStatus.RESULTS_RELEASED]
