"""Conversation pages through HTTP: plain form posts (no JavaScript) and htmx turns."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.conftest import sign_in
from tests.results.helpers import plan_review
from webapp.planning.models import AgendaItem, Turn
from webapp.reviews.models import Review


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
    client.form(answer_url, {"step": "support-what", "answer": "Lifts", "key": "k-what"})
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
    assert len(db.exec(select(Turn)).all()) == 8
    transcript = client.get(url + "/transcript").get_data(as_text=True)
    assert "3 / 10" in transcript and "8 / 10" in transcript  # the changed answer stays
    assert transcript.count('<td data-label="Typed by">You</td>') == 8


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
    # The new message is announced by the region that stays on the page.
    assert '<div id="chat-announce" hx-swap-oob="innerHTML">What has gone well' in body
    again = client.form(
        url + "/answer",
        {"step": "overall", "answer": "9", "key": _key(page)},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200  # the same form twice: one turn, no error


def _to_hard(app, client, patient):
    url = _start(app, client, patient)
    page = client.get(url).get_data(as_text=True)
    client.form(url + "/answer", {"step": "overall", "answer": "2", "key": _key(page)})
    return url


def test_the_safety_step_without_javascript(app, client, patient):
    url = _to_hard(app, client, patient)
    sent = client.form(url + "/answer", {"step": "hard", "answer": "I want to die", "key": "k2"})
    assert sent.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "are you safe right now?" in page and "Samaritans, 116 123" in page
    assert "I want to die" in page  # what they wrote stays, never blocked
    assert 'name="answer"' not in page  # the next question waits
    unchosen = client.form(url + "/safety", {})
    assert unchosen.status_code == 422
    assert "Choose one of the answers, then Confirm." in unchosen.get_data(as_text=True)
    urgent = client.form(url + "/safety", {"choice": "not-safe"})
    assert urgent.status_code == 200 and "Please get help now." in urgent.get_data(as_text=True)
    stopped = client.form(url + "/safety", {"choice": "stop"})
    assert stopped.status_code == 303 and stopped.headers["Location"].endswith("/planning")
    assert "are you safe right now?" in client.get(url).get_data(as_text=True)
    carried = client.form(url + "/safety", {"choice": "carry-on"})
    assert carried.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "are you safe right now?" not in page and "What has gone well" in page


def test_the_safety_step_with_htmx_announces_itself_and_shows_the_crisis_plan(
    app, client, db, patient
):
    from webapp.planning.models import CrisisPlan

    db.add(CrisisPlan(patient_id=patient.id, helps="Ringing my sister"))
    db.commit()
    url = _to_hard(app, client, patient)
    turn = client.form(
        url + "/answer",
        {"step": "hard", "answer": "I keep wanting to hurt myself", "key": "k2"},
        headers={"HX-Request": "true"},
    )
    body = turn.get_data(as_text=True)
    assert "Ringing my sister" in body and "What helps me" in body
    assert 'id="safety-heading" tabindex="-1" data-focus' in body
    assert 'hx-swap-oob="innerHTML">Before we go on: are you safe right now?' in body
    # Help lines a phone can act on: call, or text with the words the text must hold.
    assert 'href="tel:116123"' in body and 'href="tel:999"' in body
    assert 'href="sms:85258?&amp;body=SHOUT"' in body


def test_the_summary_page_shares_edits_and_marks_the_review_prepared(
    app, client, db, practice, patient
):
    review = plan_review(db, practice.id, patient.id)
    for words in ["My knee", "Sleep", "Feet"]:
        db.add(AgendaItem(patient_id=patient.id, review_id=review.id, kind="agenda", text=words))
    db.commit()
    sign_in(app, client, patient)
    page = client.get("/planning/summary").get_data(as_text=True)
    assert "Everything here is private until you share it." in page
    assert page.count("Share with my care team") == 3
    items = db.exec(select(AgendaItem).order_by(AgendaItem.id)).all()
    shared = client.form(f"/planning/item/{items[0].id}/share", {"shared": "1"})
    assert shared.status_code == 303
    page = client.get("/planning/summary").get_data(as_text=True)
    assert "Shared with your care team." in page and "Make private" in page
    bad = client.form(f"/planning/item/{items[1].id}/edit", {"text": "x" * 1001})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Keep the item to 1000 characters (it is 1001)." in body and "x" * 1001 in body
    assert '<details class="edit" open>' in body
    db.refresh(items[1])
    assert items[1].text == "Sleep"  # nothing saved is lost
    ready = client.form("/planning/ready")
    assert ready.status_code == 303
    page = client.get("/planning/summary").get_data(as_text=True)
    assert "You said you were ready on" in page and "the one thing you shared" in page
    db.expire_all()
    assert db.exec(select(Review)).one().status == "prepared"


def test_staff_see_only_what_was_shared(app, client, db, practice, patient, clinician):
    review = plan_review(db, practice.id, patient.id)
    db.add(
        AgendaItem(
            patient_id=patient.id,
            review_id=review.id,
            kind="agenda",
            text="Shared one",
            shared=True,
        )
    )
    db.add(
        AgendaItem(patient_id=patient.id, review_id=review.id, kind="question", text="Kept private")
    )
    db.commit()
    sign_in(app, client, clinician)
    page = client.get(f"/results/reviews/{review.id}").get_data(as_text=True)
    assert "What Pat shared for this review" in page
    assert "Shared one" in page and "Kept private" not in page
