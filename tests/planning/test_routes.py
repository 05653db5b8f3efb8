"""Conversation pages through HTTP: plain form posts (no JavaScript) and htmx turns."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.conftest import sign_in
from webapp import content
from webapp.planning import flows
from webapp.planning.flows import Facts
from webapp.planning.models import Turn


def _start(app, client, patient):
    sign_in(app, client, patient)
    assert "A quick check-in" in client.get("/planning").get_data(as_text=True)
    started = client.form("/planning/check-in/start")
    assert started.status_code == 303
    return started.headers["Location"].split("#")[0]


def _key(page: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', page).group(1)


def test_a_check_in_without_javascript(app, client, db, patient):
    url = _start(app, client, patient)
    page = client.get(url).get_data(as_text=True)
    assert "Hello Pat. This is a quick check-in" in page
    assert 'type="range"' in page and "Not well at all" in page
    answer_url = url + "/answer"
    done = client.form(answer_url, {"step": "overall", "answer": "3", "key": _key(page)})
    assert done.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "3 / 10" in page and "the hardest part?" in page
    too_long = client.form(answer_url, {"step": "hard", "answer": "x" * 601, "key": _key(page)})
    assert too_long.status_code == 422
    body = too_long.get_data(as_text=True)
    assert "Keep it to 600 characters (this is 601)." in body and "x" * 601 in body
    client.form(answer_url, {"step": "hard", "skip": "1", "key": "k-hard"})
    client.form(answer_url, {"step": "going-well", "answer": "My walks", "key": "k-well"})
    client.form(answer_url, {"step": "support", "answer": "yes", "key": "k-support"})
    client.form(
        answer_url, {"step": "support-from", "answer": ["family", "group"], "key": "k-from"}
    )
    client.form(answer_url, {"step": "anything-else", "answer": "My feet", "key": "k-else"})
    page = client.get(url).get_data(as_text=True)
    assert "That is the end of this conversation." in page
    assert "Skipped" in page and "Family or friends, A peer-support group" in page
    changed = client.form(url + "/change/overall")
    assert changed.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert 'type="range"' in page  # asked again
    client.form(answer_url, {"step": "overall", "answer": "8", "key": "k-overall-2"})
    page = client.get(url).get_data(as_text=True)
    assert "the hardest part?" not in page  # no longer applies
    assert "That is the end of this conversation." in page  # the rest still fits
    assert len(db.exec(select(Turn)).all()) == 7


def test_an_htmx_turn_returns_the_conversation_and_moves_focus(app, client, patient):
    url = _start(app, client, patient)
    page = client.get(url).get_data(as_text=True)
    turn = client.form(
        url + "/answer",
        {"step": "overall", "answer": "9", "key": _key(page)},
        headers={"HX-Request": "true"},
    )
    body = turn.get_data(as_text=True)
    assert turn.status_code == 200 and body.lstrip().startswith('<div id="conversation"')
    assert "9 / 10" in body and "What has gone well" in body and "data-focus" in body
    again = client.form(
        url + "/answer",
        {"step": "overall", "answer": "9", "key": _key(page)},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200  # the same form twice: one turn, no error


def test_every_branch_of_the_shipped_flows_reaches_its_end():
    loaded, errors = content.load(content.CONTENT_DIR)
    assert errors == []
    check_in = loaded.flows["check-in"]
    facts = Facts(first_name="Pat")
    skipped = {s: flows.SKIPPED for s, step in check_in.steps.items() if step.ask}
    routes = [
        {
            "overall": 2,
            "hard": "Pain",
            "going-well": "x",
            "support": "yes",
            "support-from": ["care-team"],
            "anything-else": "y",
        },
        {"overall": 7, "going-well": "x", "support": "not-now", "anything-else": "y"},
        skipped,
    ]
    seen: set[str] = set()
    for answers in routes:
        walked = flows.walk(check_in, answers, facts)
        assert walked.finished, answers
        seen |= set(walked.path)
    assert seen == set(check_in.steps)  # every step is on some branch
