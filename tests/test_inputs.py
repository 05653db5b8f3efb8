"""What comes in from outside is made safe once, for every route (webapp/inputs.py)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError, PendingRollbackError
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

from tests.conftest import sign_in
from webapp.db import get_session
from webapp.inputs import (
    JSON_DEPTH,
    LARGEST_ID,
    CleanPath,
    CleanString,
    CleanValues,
    TooDeep,
    clean,
    clean_json,
)

OVERLONG = (LARGEST_ID + 1, 2**63, 10**30)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Walk\x00 to the shop", "Walk to the shop"),
        ("a\x01b\x08c\x1bd\x7fe\x85f", "abcdef"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("\u2066isolated\u2069 \u200emarked\u200f \u061c", "isolated marked "),
        ("Line one\r\nLine two\tand a tab", "Line one\r\nLine two\tand a tab"),
        ("Zoë, 😊, 👩\u200d👩\u200d👧 and ١٢٣", "Zoë, 😊, 👩\u200d👩\u200d👧 and ١٢٣"),
    ],
)
def test_control_and_direction_characters_are_taken_out_and_nothing_else(typed, kept):
    assert clean(typed) == kept


def test_forms_and_query_strings_are_cleaned_and_overlong_numbers_count_as_missing():
    values = CleanValues([("text", "a\x00b"), ("text", "c\u202ed"), ("n", "12"), ("big", "9" * 30)])
    assert values.getlist("text") == ["ab", "cd"]
    assert values.get("n", type=int) == 12
    assert values.get("big", 0, type=int) == 0
    assert values.get("big", type=int) is None
    assert values.get("big") == "9" * 30  # as text it is only text


def test_json_bodies_are_cleaned_and_too_deep_ones_refused():
    body = {"na\x00me": "Phone\u202e", "list": ["a\x00", {"b": "c\x1b"}], "n": 1, "ok": True}
    assert clean_json(body) == {"name": "Phone", "list": ["a", {"b": "c"}], "n": 1, "ok": True}
    assert clean_json("x\x00") == "x"
    nested: list = []
    deepest = nested
    for _ in range(JSON_DEPTH + 1):
        deepest.append([])
        deepest = deepest[0]
    with pytest.raises(TooDeep):
        clean_json(nested)


def test_the_app_reads_every_form_and_query_string_clean(app):
    assert app.request_class.parameter_storage_class is CleanValues
    assert app.request_class.__name__ == "CleanRequest"


def _int_rules(app: Flask) -> list:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]


def test_every_int_in_every_route_is_bounded(app):
    rules = _int_rules(app)
    assert len(rules) > 50
    for rule in rules:
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                assert converter.max is not None and converter.max <= LARGEST_ID, (rule, name)


def _urls(app: Flask, number: int) -> list[tuple[str, str]]:
    """Every route with a number in it, with `number` for each, as (method, url)."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in _int_rules(app):
        values = {
            name: number
            if isinstance(converter, IntegerConverter)
            else next(iter(getattr(converter, "items", ["riverside"])))
            for name, converter in rule._converters.items()
        }
        url = adapter.build(rule.endpoint, values)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


@pytest.mark.parametrize("number", [LARGEST_ID, *OVERLONG])
def test_no_id_in_any_route_answers_with_a_server_error(app, client, patient, clinician, number):
    sign_in(app, client, clinician)
    token = client.csrf_token()
    for method, url in _urls(app, number):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        assert response.status_code < 500, (method, url, response.status_code)
        if number > LARGEST_ID:  # beyond any id: no route has the address
            assert response.status_code in (404, 405), (method, url)


def _text_rules(app: Flask) -> list:
    """Every route with a text part in its address (`<slug>`, `<token>`, `<path:...>`)."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, (UnicodeConverter, PathConverter)) for c in rule._converters.values())
    ]


def test_every_text_part_of_every_route_is_read_clean(app):
    rules = _text_rules(app)
    assert len(rules) > 50
    for rule in rules:
        for name, converter in rule._converters.items():
            if isinstance(converter, (UnicodeConverter, PathConverter)):
                assert isinstance(converter, (CleanString, CleanPath)), (rule, name)


@pytest.mark.parametrize(
    "segment", ["riverside\x00", "\u202eriverside", "a" * 5000], ids=["nul", "rlo", "long"]
)
def test_no_unsafe_text_in_any_route_reaches_it(app, client, patient, clinician, segment):
    sign_in(app, client, clinician)
    token = client.csrf_token()
    adapter = app.url_map.bind("localhost")
    tried = 0
    for rule in _text_rules(app):
        values = {
            name: segment
            if isinstance(converter, (UnicodeConverter, PathConverter))
            else 1
            if isinstance(converter, IntegerConverter)
            else next(iter(converter.items))
            for name, converter in rule._converters.items()
        }
        url = adapter.build(rule.endpoint, values)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            assert response.status_code == 404, (method, url[:80], response.status_code)
            tried += 1
    assert tried > 80


def test_safe_text_in_an_address_still_reaches_its_route(app, client, patient):
    assert client.get("/pages/about").status_code == 200
    with app.test_request_context():
        stylesheet = app.jinja_env.globals["asset"]("css/app.css")
    assert client.get(stylesheet).status_code == 200
    assert client.get("/pages/about-" + "a" * 150).status_code == 404  # no such page
    sign_in(app, client, patient)
    assert client.get("/results/tests/hba1c").status_code == 200


@pytest.mark.parametrize("number", OVERLONG)
def test_overlong_numbers_in_query_strings_and_forms_are_answered_calmly(
    app, client, patient, number
):
    sign_in(app, client, patient)
    pages = [
        f"/groups/living-with-diabetes/threads/1/since?after={number}",
        f"/timebank/riverside/statement?before={number}",
        f"/goals?page={number}",
        f"/notifications?page={number}",
    ]
    for url in pages:
        assert client.get(url).status_code < 500, url
    response = client.form("/goals", {"text": "Walk", "version": str(number)})
    assert response.status_code < 500


def test_the_error_page_starts_the_session_afresh_after_a_failed_flush(app):
    from sqlalchemy import select

    from webapp import errors
    from webapp.planning.models import Goal

    with app.test_request_context("/"):
        db = get_session()
        db.add(Goal(patient_id=999_999, text="Nobody's"))  # no such person
        with pytest.raises(IntegrityError):
            db.flush()
        with pytest.raises(PendingRollbackError):
            db.execute(select(1))
        assert errors._error_response(500).status_code == 500
        assert db.execute(select(1)).scalar() == 1  # the page could read what it needed


def test_the_error_page_renders_after_a_failed_transaction(migrated, patient):
    from tests.conftest import make_app
    from webapp.planning.models import Goal

    app = make_app()

    def fails() -> str:
        db = get_session()
        db.add(Goal(patient_id=999_999, text="Nobody's"))
        db.flush()
        return "never"

    app.add_url_rule("/fails", "fails", fails)
    client = app.test_client()
    sign_in(app, client, patient)
    response = client.get("/fails")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, something went wrong on our side" in page
    # The whole page, with its header for the signed-in person, not the plain fallback.
    assert "Sign out" in page


# The steps that read a JSON body (the passkey ceremonies and a device's push keys).
READ_JSON = {
    "/account/signin/verify",
    "/account/join/options",
    "/account/join/verify",
    "/account/passkeys/verify",
    "/account/delete/verify",
    "/notifications/devices",
    "/notifications/devices/forget",
}


def test_a_json_body_nested_too_deeply_is_refused_plainly(app, client, patient):
    deep = "[" * 100_000 + "]" * 100_000
    deep_enough = "[" * 900 + "]" * 900  # read by Python, but deeper than any page sends
    paths = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("accounts.", "notifications.", "rights."))
        and "POST" in (rule.methods or ())
        and not rule.arguments
        and rule.rule != "/account/signout"  # it would end the session the loop goes on in
    }
    assert paths >= READ_JSON
    for signed_in in (False, True):
        if signed_in:
            sign_in(app, client, patient)
        token = client.csrf_token()
        for path, body in ((p, b) for p in sorted(paths) for b in (deep, deep_enough)):
            response = client.post(
                path,
                data=body,
                headers={"Content-Type": "application/json", "X-CSRFToken": token},
            )
            assert response.status_code < 500, (path, response.status_code)
            reads = path in READ_JSON and (
                signed_in or not path.startswith(("/account/p", "/account/d", "/n"))
            )
            if reads:
                assert response.status_code == 400, (path, response.status_code)
                assert "nested too deeply" in response.get_data(as_text=True), path


def test_digits_from_other_scripts_are_refused_plainly(app, client, practice, patient, clinician):
    """'²' and '٣' are digits to str.isdigit() but not to int(): every form reads numbers in
    a way that says what is wrong instead of failing."""
    sign_in(app, client, clinician)
    review = client.form(
        f"/reviews/practices/{practice.id}/patients/{patient.id}",
        {"day": "2027-01-10", "time": "10:30", "clinician": "²"},
    )
    assert review.status_code < 500
    invited = client.form(
        f"/care-team/practices/{practice.id}/invitations",
        {"name": "Jo Lee", "nhs_number": "٣٤٣٤٧٦٥٩١٩"},
    )
    assert invited.status_code == 422 and "An NHS number is 10 digits" in invited.get_data(
        as_text=True
    )
    scored = client.form("/reviews/plan/goals/1/score", {"score": "1", "review": "²"})
    assert scored.status_code < 500
