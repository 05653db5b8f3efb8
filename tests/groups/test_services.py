"""Groups without HTTP: display names that cannot hide or impersonate, the directory,
joining each kind of group, leaving, and peer supporters answering requests (one wins)."""

from __future__ import annotations

import pytest
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from webapp.accounts.services import load_actor, load_session, start_session
from webapp.carers import services as carers
from webapp.content import get_content
from webapp.groups import services as groups
from webapp.groups.models import Membership, PeerGroup
from webapp.groups.services import GroupError


@pytest.fixture
def ctx(app, db):
    with app.test_request_context():
        groups.sync_groups(db, get_content().groups)
        yield


@pytest.fixture
def pat(ctx, db, patient):
    actor = load_actor(db, patient)
    groups.set_display_name(db, actor, "Pat M")
    return actor


def person(db, name, email, display=None):
    actor = load_actor(db, add_person(db, name, email))
    if display:
        groups.set_display_name(db, actor, display)
    return actor


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("Pat\u200bM", "hidden character"),  # zero-width space
        ("\u202eevil", "hidden character"),  # right-to-left override
        ("Sam\u2066x", "hidden character"),  # left-to-right isolate
        ("<img src=x onerror=alert(1)>", "Take out"),
        ("javascript:alert(1)", "Take out"),
        ("a", "at least 2"),
        ("x" * 31, "at most 30"),
        ("\u0301\u0301", "needs a letter"),  # combining marks alone
        ("a" + "\u0301" * 28, "too many accents"),
        ("Pat M\ufe0f", "hidden character"),  # variation selector
        ("Pat M\u034f", "hidden character"),  # combining grapheme joiner
        ("Pat\u3164M", "hidden character"),  # Hangul filler
        ("\u0420at M", "different alphabets"),  # Cyrillic Р in a Latin name
        ("a former member", "kept for the app"),
        ("Coproduce", "kept for the app"),
        ("   ", "at least 2"),
    ],
)
def test_display_names_refuse_tricks_with_a_clear_message(db, pat, typed, words):
    with pytest.raises(GroupError) as error:
        groups.set_display_name(db, pat, typed)
    assert words in error.value.message
    assert groups.profile(db, pat).display_name == "Pat M"  # nothing saved is lost


def test_display_names_are_tidied_and_unique_whatever_the_spacing(db, pat):
    sam = person(db, "Sam Lee", "sam@example.org")
    # Full-width letters become plain ones (NFKC); spaces are tidied.
    assert groups.set_display_name(db, sam, "  Ｓａｍ   L ").display_name == "Sam L"
    other = person(db, "Eve Ng", "eve@example.org")
    for lookalike in ("pat m", "PAT-M", "Pat.M", "patm"):
        with pytest.raises(GroupError, match="already uses that display name"):
            groups.set_display_name(db, other, lookalike)
    # Look-alikes from one other alphabet, or small capitals, count as the same name.
    for lookalike in ("Рат М", "Pat ᴍ"):
        with pytest.raises(GroupError, match="already uses that display name"):
            groups.set_display_name(db, other, lookalike)
    # A name whose folded form is longer than itself still fits.
    assert groups.set_display_name(db, other, "ß" * 30).name_key == "ss" * 30
    # Letters of any script are welcome.
    assert groups.set_display_name(db, other, "Zoë Ó'Brien").display_name == "Zoë Ó'Brien"
    assert groups.set_display_name(db, other, "سارة").display_name == "سارة"


def test_the_directory_is_searchable_and_shows_where_the_viewer_stands(db, pat):
    found, more = groups.directory(db, pat, "Asthma")
    assert [row.group.slug for row in found] == ["breathing-space"] and not more
    groups.join(db, pat, "living-with-diabetes")
    everything, _more = groups.directory(db, pat)
    mine = {row.group.slug: (row.status, row.members) for row in everything}
    assert mine["living-with-diabetes"] == ("active", 1)
    assert mine["breathing-space"] == (None, 0)
    # Control characters and wildcards typed are plain characters, never errors.
    assert groups.directory(db, pat, "zz\x00zz")[0] == []
    assert groups.directory(db, pat, "%")[0] == []
    assert groups.directory(db, None, "_")[0] == []


def test_the_directory_pages_through_many_groups(db, pat):
    for number in range(45):
        db.add(
            PeerGroup(slug=f"g{number:02}", name=f"Group {number:02}", description="x", kind="open")
        )
    db.commit()
    first, more = groups.directory(db, pat, "group", page=1)
    last, more_after = groups.directory(db, pat, "group", page=3)
    assert len(first) == groups.PAGE_SIZE and more
    assert len(last) == 5 and not more_after


def test_joining_each_kind_of_group(db, pat):
    assert groups.join(db, pat, "living-with-diabetes").status == "active"
    assert groups.join(db, pat, "living-with-diabetes").status == "active"  # twice is once
    asked = groups.join(db, pat, "breathing-space")
    assert asked.status == "pending"
    again = groups.join(db, pat, "breathing-space")  # asked twice: the place is kept
    assert (again.requested_at, again.version) == (asked.requested_at, asked.version)
    with pytest.raises(GroupError, match="by invitation"):
        groups.join(db, pat, "carers-circle")
    members = db.exec(select(Membership).where(Membership.person_id == pat.id)).all()
    assert len(members) == 2


def test_a_display_name_comes_before_joining(db, ctx):
    nobody = person(db, "Noa Bell", "noa@example.org")
    with pytest.raises(GroupError, match="display name") as error:
        groups.join(db, nobody, "living-with-diabetes")
    assert error.value.field == "display_name"


def test_leaving_and_coming_back_but_not_after_removal(db, pat):
    groups.join(db, pat, "living-with-diabetes")
    groups.leave(db, pat, "living-with-diabetes")
    member = db.exec(select(Membership).where(Membership.person_id == pat.id)).one()
    assert member.status == "left"
    with pytest.raises(NotFound):
        groups.leave(db, pat, "living-with-diabetes")
    assert groups.join(db, pat, "living-with-diabetes").status == "active"
    member.status = "removed"
    db.add(member)
    db.commit()
    with pytest.raises(GroupError, match="removed you"):
        groups.join(db, pat, "living-with-diabetes")


def test_a_peer_supporter_who_leaves_and_comes_back_is_a_member(db, pat):
    groups.set_role(db, "living-with-diabetes", "pat@example.org", "supporter")
    groups.leave(db, pat, "living-with-diabetes")
    assert groups.join(db, pat, "living-with-diabetes").role == "member"


def test_peer_supporters_answer_requests_and_one_wins(db, pat):
    supporter = person(db, "Ali Rao", "ali@example.org", "Ali R")
    other = person(db, "Bea Cole", "bea@example.org", "Bea C")
    groups.set_role(db, "breathing-space", "ali@example.org", "supporter")
    groups.set_role(db, "breathing-space", "bea@example.org", "supporter")
    request = groups.join(db, pat, "breathing-space")
    (row,) = groups.waiting(db, supporter, "breathing-space")
    assert row.display_name == "Pat M"
    with pytest.raises(GroupError, match="Say why"):
        groups.decide(db, supporter, "breathing-space", request.id, False, request.version)
    groups.decide(db, supporter, "breathing-space", request.id, True, request.version)
    with pytest.raises(GroupError, match="already answered"):
        groups.decide(db, other, "breathing-space", request.id, False, request.version, "No")
    db.refresh(request)
    assert request.status == "active" and groups.waiting(db, other, "breathing-space") == []


def test_only_the_groups_own_supporters_see_requests(db, pat):
    outsider = person(db, "Ali Rao", "ali@example.org", "Ali R")
    groups.set_role(db, "living-with-diabetes", "ali@example.org", "supporter")
    groups.join(db, pat, "breathing-space")
    for who in (outsider, pat):
        with pytest.raises(NotFound):
            groups.waiting(db, who, "breathing-space")


def test_a_carer_acting_for_someone_never_takes_part_in_groups(db, pat, ctx):
    sam_person = add_person(db, "Sam Lee", "sam@example.org")
    grant, token, _code = carers.invite_carer(db, pat, pat.id, {"name": "Sam"}, ["goals"])
    carers.accept(db, load_actor(db, sam_person), token=token)
    session_token = start_session(db, sam_person, "test")
    carers.start_acting(db, load_session(db, session_token), grant.id)
    sam = load_session(db, session_token)
    group = groups.get_group(db, "living-with-diabetes")
    groups.join(db, pat, "living-with-diabetes")
    assert groups.membership(db, sam, group) is None
    with pytest.raises(NotFound):
        groups.profile(db, sam)
    with pytest.raises(NotFound):
        groups.join(db, sam, "living-with-diabetes")
