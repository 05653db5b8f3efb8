"""Links built once and reused: the same addresses url_for gives."""

from __future__ import annotations

from flask import url_for

from webapp.links import link, link_with


def test_links_for_list_rows_match_url_for(app):
    with app.test_request_context():
        for review_id in (1, 7, 42, 987654321):
            assert link_with("results.review", "review_id", review_id) == url_for(
                "results.review", review_id=review_id
            )
        assert link_with("clinicians.patient", "patient_id", 5, practice_id=3) == url_for(
            "clinicians.patient", practice_id=3, patient_id=5
        )
        assert link("main.index") == url_for("main.index")
