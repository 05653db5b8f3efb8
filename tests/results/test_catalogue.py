"""content/results: every required test is there, units convert, bad files name the line."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp import content
from webapp.results import charts
from webapp.results.catalogue import Target
from webapp.results.models import Result
from webapp.results.services import TestSummary as Summary

REQUIRED = {
    "hba1c",
    "blood-pressure",
    "total-cholesterol",
    "hdl-cholesterol",
    "ldl-cholesterol",
    "triglycerides",
    "egfr",
    "acr",
    "weight",
    "bmi",
    "foot-check",
    "eye-screening",
    "smoking",
    "copd-cat",
    "fev1",
    "glucose",
}


@pytest.fixture(scope="module")
def tests():
    loaded, errors = content.load(content.CONTENT_DIR)
    assert errors == []
    return loaded.results


def test_every_test_the_review_needs_has_content(tests):
    assert set(tests.tests) == REQUIRED
    for test in tests.tests.values():
        assert test.codes and test.what_html and test.helps_html and test.questions
        assert test.bands or test.answers


@pytest.mark.parametrize(
    ("slug", "value", "unit", "expected"),
    [
        ("hba1c", 7.0, "%", 53.0),
        ("hba1c", 6.5, "%", 47.54),  # shown as 48, the usual diagnostic threshold
        ("hba1c", 48, "mmol/mol", 48),
        ("total-cholesterol", 193, "mg/dL", 4.99),
        ("ldl-cholesterol", 116, "mg/dl", 3.0),
        ("triglycerides", 150, "mg/dL", 1.69),
        ("glucose", 126, "mg/dL", 6.99),
        ("glucose", 7.0, "mmol/L", 7.0),
        ("weight", 185, "[lb_av]", 83.91),
        ("weight", 185, "lbs", 83.91),
        ("acr", 30, "mg/g", 3.39),
        ("egfr", 75, "mL/min/1.73m2", 75),
    ],
)
def test_units_convert_to_the_unit_people_read(tests, slug, value, unit, expected):
    assert tests.tests[slug].convert(value, unit) == pytest.approx(expected, abs=0.01)


def test_a_unit_that_cannot_be_converted_says_so(tests):
    assert tests.tests["hba1c"].convert(7, "kg") is None
    assert tests.tests["total-cholesterol"].convert(5, "mmol/mol") is None


def test_codes_and_names_find_their_test(tests):
    assert tests.find("http://loinc.org", "59261-8").slug == "hba1c"
    assert tests.find("http://snomed.info/sct", "27113001").slug == "weight"
    assert tests.named("Blood Pressure").slug == "blood-pressure"
    assert tests.named("2093-3").slug == "total-cholesterol"
    assert tests.named("something else") is None
    assert tests.tests["foot-check"].answer("increased risk").text == "Moderate risk"
    assert tests.tests["smoking"].answer("8517006").text == "Ex-smoker"


def test_blood_pressure_bands_and_target_use_both_numbers(tests):
    bp = tests.tests["blood-pressure"]
    assert bp.target.place(132, 84) == "within"
    assert bp.target.place(132, 95) == "above"
    assert "healthy range" in bp.band(115, 75).words
    assert bp.band(115, 95) == bp.band(150, 95)


def test_a_bad_results_file_names_the_line(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.yaml").write_text(
        "order: 1\nname: X\ntitle: X\nkind: number\ncodes:\n  loinc: ['1-1']\nunit: u\n"
        "units:\n  u: {factor: 1}\npossible: {min: 0, max: 9}\n"
        "bands:\n  - below: 5\n    words: low\n  - below: 3\n    words: odd\n  - words: rest\n"
        "what: w\nhelps: h\nquestions: [q]\n"
    )
    (tmp_path / "results" / "y.yaml").write_text("order: 1\nname: Y\ncolour: red\n")
    _loaded, errors = content.load(tmp_path)
    shown = sorted(str(e).replace(str(tmp_path) + "/", "") for e in errors)
    assert shown[0] == "results/x.yaml:14: bands must go up: each below: above the last"
    assert shown[1].startswith("results/y.yaml:3: unknown field 'colour'")


def _reading(value, days_ago, second=None):
    return Result(
        practice_id=1,
        patient_id=1,
        test="hba1c",
        system="s",
        code="c",
        display="HbA1c",
        value=value,
        value_second=second,
        unit="mmol/mol",
        source="form",
        fingerprint="f",
        taken_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC) - dt.timedelta(days=days_ago),
    )


def test_trend_and_target_in_words(app, tests):
    hba1c = tests.tests["hba1c"]
    with app.test_request_context():
        summary = Summary(
            "hba1c", "HbA1c", hba1c, [_reading(58, 0), _reading(64, 180)], hba1c.target
        )
        assert summary.trend == "Lower than last time (64 mmol/mol on 4 April 2026)."
        assert summary.place_words == "Above the usual target of 53 mmol/mol or lower."
        same = Summary(
            "hba1c",
            "HbA1c",
            hba1c,
            [_reading(58, 0), _reading(57, 180)],
            Target(high=60),
            personal_target=True,
        )
        assert same.trend.startswith("About the same as last time")
        assert same.place_words == "Within your own target of 60 mmol/mol or lower."
        first = Summary("hba1c", "HbA1c", hba1c, [_reading(58, 0)], hba1c.target)
        assert first.trend == "This is your first reading of this test here."


def test_the_chart_is_an_image_with_a_title_and_a_hatched_target(app, tests):
    hba1c = tests.tests["hba1c"]
    with app.test_request_context():
        summary = Summary(
            "hba1c",
            "HbA1c",
            hba1c,
            [_reading(58, 0), _reading(64, 180), _reading(61, 360)],
            hba1c.target,
        )
        svg = str(charts.trend_chart(summary, "c1", "Your HbA1c <readings>"))
    assert svg.startswith('<svg class="trend-chart"') and 'role="img"' in svg
    assert '<title id="c1-title">Your HbA1c &lt;readings&gt;</title>' in svg
    assert 'fill="url(#c1-hatch)"' in svg and 'class="target-edge"' in svg
    assert svg.count("<circle") == 3
