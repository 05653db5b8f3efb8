"""Every group route for every kind of person in one group: a member, a peer supporter of this
group, its administrator, a peer supporter of another group, someone not in it, a member whose
posting is paused, and a removed member. (The app-wide matrix covers the other roles, carers
among them.)"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from tests.conftest import add_person, sign_in
from tests.worlds import Worlds, module_fixture
from webapp.accounts.services import load_actor
from webapp.content import get_content
from webapp.groups import checkins, moderation, threads
from webapp.groups import services as groups
from webapp.groups.models import Membership, ModAction

SLUG = "living-with-diabetes"
G = f"/groups/{SLUG}"
ROLES = [
    "anonymous",
    "member",
    "supporter_here",
    "admin_here",
    "supporter_other",
    "non_member",
    "muted",
    "removed",
]
OK, NO, SIGNIN, ASKED = "ok", "404", "signin", "422"
MEMBERS = ("member", "supporter_here", "admin_here", "muted")
SUPPORTERS = ("supporter_here", "admin_here")


def answers(who: tuple[str, ...], **special: str) -> dict[str, str]:
    return {
        role: special.get(role, OK if role in who else SIGNIN if role == "anonymous" else NO)
        for role in ROLES
    }


# (method, path, form, answers): the path and form are filled from the world.
ROUTES = {
    "GET groups.thread": ("GET", "{G}/threads/{thread}", None, answers(MEMBERS)),
    "GET groups.first_unread": ("GET", "{G}/threads/{thread}/unread", None, answers(MEMBERS)),
    "GET groups.since": ("GET", "{G}/threads/{thread}/since?after=0", None, answers(MEMBERS)),
    "GET groups.post": ("GET", "{G}/posts/{post}", None, answers(MEMBERS)),
    "GET groups.new_thread": ("GET", "{G}/threads/new", None, answers(MEMBERS)),
    "GET groups.edit_post": ("GET", "{G}/posts/{own}/edit", None, answers(MEMBERS)),
    "GET groups.report_form": ("GET", "{G}/posts/{post}/report", None, answers(MEMBERS)),
    "POST groups.reply": (
        "POST",
        "{G}/threads/{thread}/reply",
        {"body": "Me too", "key": "k"},
        answers(MEMBERS, muted=ASKED),
    ),
    "POST groups.start_thread": (
        "POST",
        "{G}/threads",
        {"title": "Hi", "body": "Hello", "key": "k2"},
        answers(MEMBERS, muted=ASKED),
    ),
    "POST groups.save_post": (
        "POST",
        "{G}/posts/{own}/edit",
        {"body": "Changed", "version": "{own_version}"},
        answers(MEMBERS, muted=ASKED),
    ),
    "POST groups.thanks": ("POST", "{G}/posts/{post}/thanks", {"thanked": "yes"}, answers(MEMBERS)),
    "POST groups.mute_thread": (
        "POST",
        "{G}/threads/{thread}/mute",
        {"muted": "yes"},
        answers(MEMBERS),
    ),
    "POST groups.report": (
        "POST",
        "{G}/posts/{post}/report",
        {"reason": "unkind"},
        answers(MEMBERS),
    ),
    # Asking one's care team from the safety step: members here have no practice, so they
    # are told why not (422); nobody else learns the thread exists.
    "POST groups.care_team": (
        "POST",
        "{G}/threads/{thread}/care-team",
        {"body": "I want to die", "key": "k3"},
        answers(MEMBERS, **dict.fromkeys(MEMBERS, ASKED)),
    ),
    "GET groups.queue": ("GET", "{G}/queue", None, answers(SUPPORTERS)),
    "GET groups.members": ("GET", "{G}/members", None, answers(SUPPORTERS)),
    "GET groups.log": ("GET", "{G}/log", None, answers(SUPPORTERS)),
    "GET groups.requests": ("GET", "{G}/requests", None, answers(SUPPORTERS)),
    "GET groups.hide_form": ("GET", "{G}/posts/{post}/hide", None, answers(SUPPORTERS)),
    "POST groups.hide": ("POST", "{G}/posts/{post}/hide", {"reason": "Off"}, answers(SUPPORTERS)),
    "POST groups.decide_item": (
        "POST",
        "{G}/queue/{report}",
        {"decision": "keep", "reason": "Fine", "version": "1"},
        answers(SUPPORTERS),
    ),
    "POST groups.lock": (
        "POST",
        "{G}/threads/{thread}/lock",
        {"lock": "yes", "reason": "Heated"},
        answers(SUPPORTERS),
    ),
    "POST groups.pin": (
        "POST",
        "{G}/threads/{thread}/pin",
        {"pin": "yes", "reason": "Useful"},
        answers(SUPPORTERS),
    ),
    "POST groups.slow_mode": (
        "POST",
        "{G}/slow-mode",
        {"minutes": "10", "reason": "Busy"},
        answers(SUPPORTERS),
    ),
    "POST groups.mute": (
        "POST",
        "{G}/members/{gus_member}/mute",
        {"length": "1h", "reason": "Cool off"},
        answers(SUPPORTERS),
    ),
    "POST groups.remove": (
        "POST",
        "{G}/members/{gus_member}/remove",
        {"reason": "Unkind"},
        answers(SUPPORTERS),
    ),
    "POST groups.invite": (
        "POST",
        "{G}/invite",
        {"display_name": "Nat N"},
        answers(SUPPORTERS),
    ),
    # What needs a look: anyone who supports a group, this one or another.
    "GET groups.needs_look": (
        "GET",
        "/groups/needs-a-look",
        None,
        answers((*SUPPORTERS, "supporter_other")),
    ),
    # A private check-in with a post's author: this group's peer supporters; reading it, the
    # member it was sent to alone.
    "GET groups.check_in_form": ("GET", "{G}/posts/{post}/check-in", None, answers(SUPPORTERS)),
    "POST groups.check_in": (
        "POST",
        "{G}/posts/{post}/check-in",
        {"words": "Thinking of you"},
        answers(SUPPORTERS),
    ),
    "GET groups.check_in_message": (
        "GET",
        "/groups/check-ins/{check_in}",
        None,
        answers(("member",)),
    ),
    "GET groups.appeals": ("GET", "{G}/appeals", None, answers(("admin_here",))),
    "POST groups.answer_appeal": (
        "POST",
        "{G}/appeals/{appeal}",
        {"decision": "uphold", "answer": "It stands", "version": "1"},
        answers(("admin_here",)),
    ),
    # The removed member may ask about their removal; peer supporters may too.
    "GET groups.appeal_form": (
        "GET",
        "{G}/appeal/{removal}",
        None,
        answers((*SUPPORTERS, "removed")),
    ),
    "POST groups.appeal": (
        "POST",
        "{G}/appeal/{removal}",
        {"words": "Please look again"},
        answers((*SUPPORTERS, "removed")),
    ),
    "GET groups.show": ("GET", "{G}", None, dict.fromkeys(ROLES, OK)),
}


def _world(app, role):
    with (
        app.test_request_context(),
        Session(app.extensions["db_engine"], expire_on_commit=False) as db,
    ):
        groups.sync_groups(db, get_content().groups)

        def person(key: str, display: str, slug: str = SLUG, role_in: str = "member"):
            found = add_person(db, key.title(), f"{key}@example.org")
            actor = load_actor(db, found)
            groups.set_display_name(db, actor, display)
            if role_in:
                groups.set_role(db, slug, f"{key}@example.org", role_in)
            return found, actor

        _gus, gus = person("gus", "Gus H")
        kim, kim_actor = person("kim", "Kim O", role_in="admin")
        people = {
            "member": person("mia", "Mia M")[0],
            "supporter_here": person("ali", "Ali R", role_in="supporter")[0],
            "admin_here": kim,
            "supporter_other": person("oli", "Oli R", "breathing-space", "supporter")[0],
            "non_member": person("nat", "Nat N", role_in="")[0],
            "muted": person("mo", "Mo M")[0],
            "removed": person("rey", "Rey R")[0],
        }
        db.exec(update(Membership).values(posts_approved=threads.NEW_MEMBER_POSTS))
        db.commit()
        first = threads.start_thread(db, gus, SLUG, "Snacks", "Nuts help", "g1")
        own = first
        if role in people and role not in ("non_member", "supporter_other"):
            own = threads.reply(db, load_actor(db, people[role]), first.thread_id, "Mine", "o")
        moderation.report(db, load_actor(db, people["member"]), first.id, "spam", "")
        report_id = moderation.queue(db, kim_actor, SLUG)[1][0].report.id
        members = {
            m.person_id: m
            for m in db.exec(select(Membership).where(Membership.status == "active")).all()
        }
        moderation.mute_member(db, kim_actor, SLUG, members[people["muted"].id].id, "1d", "Pause")
        moderation.remove_member(db, kim_actor, SLUG, members[people["removed"].id].id, "Rude")
        removal = db.exec(select(ModAction).where(ModAction.action == "remove")).one()
        mute = db.exec(select(ModAction).where(ModAction.action == "mute")).one()
        appeal = moderation.appeal(
            db, load_actor(db, people["muted"]), SLUG, mute.id, "I was upset"
        )
        mia = load_actor(db, people["member"])
        worried = threads.reply(db, mia, first.thread_id, "i want to end it all", "w")
        check_in, _sent = checkins.send_check_in(db, kim_actor, SLUG, worried.id, "Thinking of you")
        db.refresh(own)
        world = {
            "check_in": check_in.id,
            "G": G,
            "thread": first.thread_id,
            "post": first.id,
            "own": own.id,
            "own_version": own.version,
            "report": report_id,
            "gus_member": members[gus.id].id,
            "removal": removal.id,
            "appeal": appeal.id,
        }
    client = app.test_client()
    if role != "anonymous":
        sign_in(app, client, people[role])
    return world, client


_WORLDS = Worlds(_world)


worlds = module_fixture(
    _WORLDS, "Each kind of person's world, built once per process and put back after any change."
)


# Cases are grouped by role (the module-scoped parameter), so a world serves a run of cases.
@pytest.mark.parametrize("role", ROLES, scope="module")
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_group_route_answers_each_kind_of_person(worlds, route, role):
    method, path, form, expect = ROUTES[route]
    world, client = worlds.enter(role)
    url = path.format(**world)
    if method == "GET":
        response = client.get(url)
    else:
        data = {key: value.format(**world) for key, value in (form or {}).items()}
        response = client.form(url, data) if role != "anonymous" else client.post(url, data=data)
    status = response.status_code
    signin = "/account/signin" in response.headers.get("Location", "")
    # Anonymous posts have no form token: refused (400) before anything else.
    if (status in (302, 303) and signin) or (role == "anonymous" and status == 400):
        answer = SIGNIN
    elif status < 400:
        answer = OK
    else:
        answer = str(status)
    assert answer == expect[role], (route, role, status)


def test_every_group_route_is_in_this_matrix(app):
    endpoints = {
        f"{method} {rule.endpoint}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("groups.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    left = (
        endpoints
        - set(ROUTES)
        - {
            "GET groups.index",
            "GET groups.profile",
            "POST groups.save_profile",
            "POST groups.join",
            "POST groups.leave",
            "POST groups.decide",
        }
    )
    assert left == set()
