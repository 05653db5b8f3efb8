"""Group pages through HTTP: the public directory and group page, choosing a display name,
joining and leaving, and answering requests; never while a carer acts for someone."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.conftest import add_person, sign_in
from webapp.content import get_content
from webapp.groups import services as groups
from webapp.groups.models import Membership, PeerProfile


@pytest.fixture(autouse=True)
def synced(app, db):
    with app.test_request_context():
        groups.sync_groups(db, get_content().groups)


def test_anyone_reads_the_directory_and_a_groups_guidelines(client):
    page = client.get("/groups?q=diabetes").get_data(as_text=True)
    assert "Living with diabetes" in page and "Breathing space" not in page
    group = client.get("/groups/living-with-diabetes").get_data(as_text=True)
    assert "Guidelines" in group and "Share your experience, not medical advice" in group
    assert "Sign in to join" in group
    assert client.get("/groups/no-such-group").status_code == 404


def test_joining_asks_for_a_display_name_first_then_welcomes(app, client, db, patient):
    sign_in(app, client, patient)
    first = client.form("/groups/living-with-diabetes/join")
    assert (
        first.status_code == 303
        and "/groups/profile?next=living-with-diabetes" in (first.headers["Location"])
    )
    bad = client.form("/groups/profile", {"display_name": "Pat\u200bM"})
    assert bad.status_code == 422 and "hidden character" in bad.get_data(as_text=True)
    # Direction overrides, like control characters, are taken out of everything typed.
    client.form("/groups/profile", {"display_name": "Pat\u202eM"})
    assert db.exec(select(PeerProfile.display_name)).one() == "PatM"
    saved = client.form("/groups/profile?next=living-with-diabetes", {"display_name": "Pat M"})
    assert saved.headers["Location"].endswith("/groups/living-with-diabetes")
    joined = client.form("/groups/living-with-diabetes/join", follow_redirects=True)
    assert "Welcome to the group." in joined.get_data(as_text=True)
    left = client.form("/groups/living-with-diabetes/leave", follow_redirects=True)
    assert "You have left the group" in left.get_data(as_text=True)


def test_a_peer_supporter_welcomes_or_declines_with_a_reason(app, client, db, patient):
    ali = add_person(db, "Ali Rao", "ali@example.org")
    with app.test_request_context():
        from webapp.accounts.services import load_actor

        groups.set_display_name(db, load_actor(db, patient), "Pat M")
        groups.set_display_name(db, load_actor(db, ali), "Ali R")
        groups.set_role(db, "breathing-space", "ali@example.org", "supporter")
    sign_in(app, client, patient)
    asked = client.form("/groups/breathing-space/join", follow_redirects=True)
    assert "A peer supporter will look at your request soon" in asked.get_data(as_text=True)
    member = db.exec(select(Membership).where(Membership.person_id == patient.id)).one()
    supporter = app.test_client()
    sign_in(app, supporter, ali)
    page = supporter.get("/groups/breathing-space/requests").get_data(as_text=True)
    assert "Pat M" in page and "Pat Morgan" not in page  # never the real name
    no_reason = supporter.form(
        f"/groups/breathing-space/requests/{member.id}", {"decision": "decline", "version": "1"}
    )
    assert no_reason.status_code == 422 and "Say why" in no_reason.get_data(as_text=True)
    declined = supporter.form(
        f"/groups/breathing-space/requests/{member.id}",
        {"decision": "decline", "version": "1", "reason": "This group is full for now."},
    )
    assert declined.status_code == 303
    shown = client.get("/groups/breathing-space").get_data(as_text=True)
    assert "This group is full for now." in shown
    again = supporter.form(
        f"/groups/breathing-space/requests/{member.id}", {"decision": "approve", "version": "1"}
    )
    assert again.status_code == 422 and "already answered" in again.get_data(as_text=True)
