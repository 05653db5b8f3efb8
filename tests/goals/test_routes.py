"""Goal pages through HTTP: add, read, edit (with a stale form), actions, status, order."""

from __future__ import annotations

from sqlmodel import select

from tests.conftest import sign_in
from webapp.goals.models import GoalAction, ProgressEntry
from webapp.planning.models import Goal


def _add(client, text="Walk to the shop", **form):
    return client.form("/goals", {"text": text, **form})


def test_a_goal_is_added_read_and_edited(app, client, db, patient):
    sign_in(app, client, patient)
    page = client.get("/goals").get_data(as_text=True)
    assert "You have no goals yet." in page
    added = _add(client, "Lose weight before my brother's wedding", why="To dance")
    assert added.status_code == 303
    goal = db.exec(select(Goal)).one()
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Lose weight before my brother&#39;s wedding" in page and "To dance" in page
    assert "when they will start, or by when" in page  # a gentle prompt, nothing required
    edited = client.form(
        f"/goals/{goal.id}/edit", {"text": "Lose a stone by June", "version": str(goal.version)}
    )
    assert edited.status_code == 303
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Lose a stone by June" in page and "edited, by you" in page


def test_bad_input_is_explained_and_kept(app, client, db, patient):
    sign_in(app, client, patient)
    bad = _add(client, "", target_date="2020-01-01", importance="12")
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "There is a problem" in body
    assert "Write your goal in your own words." in body
    assert "That date has passed." in body and "Choose a number from 0 to 10" in body
    assert 'value="2020-01-01"' in body and 'value="12"' in body  # what was typed stays
    assert db.exec(select(Goal)).all() == []


def test_a_stale_edit_shows_both_versions_and_saves_nothing(app, client, db, patient):
    sign_in(app, client, patient)
    _add(client, "Walk to the shop")
    goal = db.exec(select(Goal)).one()
    old = str(goal.version)
    client.form(f"/goals/{goal.id}/edit", {"text": "Walk to the park", "version": old})
    stale = client.form(f"/goals/{goal.id}/edit", {"text": "Walk with Jo", "version": old})
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "Two versions of this goal" in body
    assert "Walk to the park" in body and "Walk with Jo" in body
    db.refresh(goal)
    assert goal.text == "Walk to the park"


def test_actions_status_and_order(app, client, db, patient):
    sign_in(app, client, patient)
    _add(client, "First")
    _add(client, "Second")
    first, second = db.exec(select(Goal).order_by(Goal.id)).all()
    bad = client.form(f"/goals/{first.id}/actions", {"text": "", "owner": "nobody"})
    assert bad.status_code == 422
    assert "Say what the action is." in bad.get_data(as_text=True)
    client.form(
        f"/goals/{first.id}/actions",
        {"text": "Walking group", "owner": "community", "who": "Riverside walkers"},
    )
    action = db.exec(select(GoalAction)).one()
    client.form(f"/goals/actions/{action.id}/done", {"done": "1"})
    page = client.get(f"/goals/{first.id}").get_data(as_text=True)
    assert "Riverside walkers" in page and "Not done yet" in page
    client.form(f"/goals/{second.id}/move", {"direction": "up"})
    page = client.get("/goals").get_data(as_text=True)
    assert page.index(">Second<") < page.index(">First<")
    done = client.form(
        f"/goals/{first.id}/status", {"status": "achieved", "version": str(first.version)}
    )
    assert done.status_code == 303
    page = client.get("/goals").get_data(as_text=True)
    assert "Earlier goals" in page and "(achieved)" in page


def test_one_tap_progress_is_logged_once(app, client, db, patient):
    import re

    sign_in(app, client, patient)
    _add(client)
    goal = db.exec(select(Goal)).one()
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    for _tap in range(2):  # a double tap
        sent = client.form(f"/goals/{goal.id}/progress", {"outcome": "did", "key": key})
        assert sent.status_code == 303
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "That was logged already." in page and page.count(": Did it") == 1
    bad = client.form(f"/goals/{goal.id}/progress", {"outcome": "did", "value": "80", "key": "x"})
    assert bad.status_code == 422
    assert "Say what you measured" in bad.get_data(as_text=True)


def test_entries_queued_offline_are_answered_in_json_and_counted_once(app, client, db, patient):
    sign_in(app, client, patient)
    _add(client)
    goal = db.exec(select(Goal)).one()
    when = "2026-11-20T08:15:00.000Z"
    queued = {"outcome": "partly", "key": "phone-1", "logged_at": when, "note": "Short walk"}
    answers = [
        client.form(f"/goals/{goal.id}/progress", queued, headers={"X-Outbox": "1"})
        for _replay in range(3)
    ]
    assert [a.get_json()["logged"] for a in answers] == [True, False, False]
    (entry,) = db.exec(select(ProgressEntry)).all()
    assert entry.logged_at.isoformat().startswith("2026-11-20T08:15")  # when it was logged
    refused = client.form(
        f"/goals/{goal.id}/progress",
        {"outcome": "maybe", "key": "phone-2"},
        headers={"X-Outbox": "1"},
    )
    assert refused.status_code == 422 and "outcome" in refused.get_json()["problems"]


def test_a_queued_entry_for_a_goal_stopped_meanwhile_is_kept_and_marked(app, client, db, patient):
    sign_in(app, client, patient)
    _add(client)
    goal = db.exec(select(Goal)).one()
    client.form(f"/goals/{goal.id}/status", {"status": "stopped", "version": str(goal.version)})
    late = client.form(
        f"/goals/{goal.id}/progress", {"outcome": "did", "key": "late"}, headers={"X-Outbox": "1"}
    )
    assert late.get_json() == {"logged": True, "after_goal_ended": True}
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "logged after the goal ended" in page


def test_one_tap_from_the_home_page(app, client, db, patient):
    import re

    sign_in(app, client, patient)
    _add(client, "Drink water with lunch")
    home = client.get("/").get_data(as_text=True)
    assert "My goals: how did it go?" in home and "Drink water with lunch" in home
    key = re.search(r'name="key" value="([^"]+)"', home).group(1)
    goal = db.exec(select(Goal)).one()
    sent = client.form(f"/goals/{goal.id}/progress", {"outcome": "did", "key": key, "back": "home"})
    # Back where the person was: beside the goal, which the address scrolls to, and where
    # the page script puts focus; not at the top of the page.
    assert sent.status_code == 303 and re.search(
        rf"/\?logged=[\w-]+#logged-{goal.id}$", sent.headers["Location"]
    )
    home = client.get("/").get_data(as_text=True)
    said = re.search(r'<p class="flash flash-info" id="logged-(\d+)"[^>]*>([^<]+)</p>', home)
    assert said and said.group(1) == str(goal.id) and said.group(2) == "Thank you. It is logged."
    assert 'tabindex="-1" role="status" data-focus-here' in home
    assert home.index("Drink water with lunch") < home.index("Thank you. It is logged.")
    assert home.count("Thank you. It is logged.") == 1  # not again at the top
    assert len(db.exec(select(ProgressEntry)).all()) == 1
    # A second tap goes to a new address (the same one with only an #anchor loads nothing).
    key = re.search(r'name="key" value="([^"]+)"', home).group(1)
    again = client.form(
        f"/goals/{goal.id}/progress", {"outcome": "did", "key": key, "back": "home"}
    )
    assert again.headers["Location"] != sent.headers["Location"]
    assert len(db.exec(select(ProgressEntry)).all()) == 2


def test_reminders_are_chosen_explained_and_cleared(app, client, db, patient):
    sign_in(app, client, patient)
    _add(client)
    goal = db.exec(select(Goal)).one()
    bad = client.form(f"/goals/{goal.id}/reminder", {"days": ["0", "2"], "at": "quarter past"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Enter a time like 08:30." in body
    assert 'value="0" checked' in body and 'value="2" checked' in body  # kept as chosen
    none = client.form(f"/goals/{goal.id}/reminder", {"at": "08:30"})
    assert "Choose at least one day" in none.get_data(as_text=True)
    saved = client.form(f"/goals/{goal.id}/reminder", {"days": ["0", "2"], "at": "08:30"})
    assert saved.status_code == 303
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "On Monday, Wednesday at 08:30." in page
    client.form(f"/goals/{goal.id}/reminder", {"none": "1"})
    assert "No reminders. You can choose" in client.get(f"/goals/{goal.id}").get_data(as_text=True)


def test_kept_goal_pages_follow_every_change_and_carry_the_visitors_own_values(
    app, client, db, patient
):
    import re

    from webapp.kept import fill

    sign_in(app, client, patient)
    _add(client, "Walk to the shop")
    goal = db.exec(select(Goal)).one()
    path = f"/goals/{goal.id}"
    client.get(path)  # the flash after adding is shown, then the page is kept
    first = client.get(path).get_data(as_text=True)
    second = client.get(path).get_data(as_text=True)
    keys = re.findall(r'name="key" value="([^"]+)"', first + second)
    assert len(keys) == 2 and keys[0] != keys[1]  # each visit, its own form key
    assert "kept:" not in first
    # Words that look like the markers stay words.
    client.form(path + "/actions", {"text": "__csrf_token__ <kept:csrf-token>", "owner": "me"})
    client.get(path)
    page = client.get(path).get_data(as_text=True)
    assert "__csrf_token__ &lt;kept:csrf-token&gt;" in page
    # Changes made without a message to show (as the offline queue sends them) still show.
    client.form(path + "/progress", {"outcome": "partly", "key": "q1"}, headers={"X-Outbox": "1"})
    assert ": Partly" in client.get(path).get_data(as_text=True)
    client.form(path + "/reminder", {"days": ["4"], "at": "19:00"})
    client.get(path)  # shows the "saved" message
    assert "On Friday at 19:00." in client.get(path).get_data(as_text=True)
    other = Goal(patient_id=patient.id, text="Sleep", position=9)
    db.add(other)
    db.commit()
    assert "Sleep" in client.get("/goals").get_data(as_text=True)
    with app.test_request_context():
        assert "<kept:" not in fill("a <kept:form-key> b <kept:form-key>")
        filled = fill("<kept:form-key>|<kept:form-key>").split("|")
        token = fill('{"t": "\\u003ckept:csrf-token\\u003e"}')
    assert filled[0] != filled[1] and "kept" not in token


def test_a_queued_entry_sent_after_the_session_ended_is_refused_not_redirected(
    app, client, db, patient
):
    sign_in(app, client, patient)
    _add(client)
    goal = db.exec(select(Goal)).one()
    from webapp.accounts import services as accounts

    with client.session_transaction() as browser:
        token = browser["_user_id"]
    accounts.end_session(db, token)  # the session ends (as after 30 idle minutes)
    late = client.form(
        f"/goals/{goal.id}/progress", {"outcome": "did", "key": "k"}, headers={"X-Outbox": "1"}
    )
    assert late.status_code == 401 and "sign in again" in late.get_json()["error"]
    assert db.exec(select(ProgressEntry)).all() == []
