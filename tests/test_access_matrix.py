"""The route-by-role access matrix: every route, every role, the answer each must get.

A route missing from MATRIX fails the suite, so each new route declares who may use it.
Carers are roles too: one acting for the patient with each single scope (so each scope is
seen with and without), one with a permission who is not acting, and one acting under a
permission the patient has since stopped. Roles that later parts add (peer supporters,
coordinators) join ROLES then.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select

from tests.conftest import add_person, make_app, sign_in
from tests.worlds import Worlds, module_fixture
from webapp.access import SCOPES
from webapp.accounts import services
from webapp.accounts.models import AuthSession, Passkey, Person, Practice, Role
from webapp.carers import services as carers
from webapp.carers.models import CarerGrant
from webapp.conditions.models import Condition
from webapp.contact.models import ContactRequest
from webapp.goals.models import CarePlan, GoalAction, GoalScore
from webapp.groups.models import PeerProfile
from webapp.notifications.models import PushSubscription
from webapp.planning import conversations
from webapp.planning.models import AgendaItem, CrisisPlan, Goal
from webapp.results import services as results
from webapp.results.models import Result
from webapp.reviews import services as reviews
from webapp.reviews.models import Review

# A browser's push keys: a P-256 point (65 bytes, 0x04 first) and a 16-byte auth secret.
DEVICE_KEYS = {"p256dh": "BA" + "A" * 85, "auth": "A" * 22}
FUTURE_DAY = (dt.date.today() + dt.timedelta(days=30)).isoformat()
ROLES = [
    "anonymous",
    "patient",
    "other_patient",
    "clinician",
    "other_clinician",
    "admin",
    "commissioner",
    "carer_results",
    "carer_planning",
    "carer_goals",
    "carer_crisis",
    "carer_timebank",
    "carer_idle",
    "carer_lapsed",
]
# Carers acting for the patient, each with the one scope in their name.
ACTING = ["carer_results", "carer_planning", "carer_goals", "carer_crisis", "carer_timebank"]
OK, SIGNIN, NOT_FOUND, BAD = "ok", "signin", "404", "400"
# A carer whose permission has ended is sent to the carers page, whatever they asked for.
LAPSED = "lapsed"
# What a carer whose permission has lapsed may still open: the carers page, and signing out.
LAPSE_ALLOWED = {
    "static",
    "carers.index",
    "carers.stop_acting",
    "accounts.signout",
    "main.service_worker",
}


@dataclass(frozen=True)
class Entry:
    """Who gets what from one route: a path built from the test's records, and answers by role."""

    path: Callable[[dict], str]
    expect: dict[str, str]
    json: bool = False
    data: dict[str, str] | Callable[[dict], dict[str, str]] | None = None


def everyone(answer: str) -> dict[str, str]:
    """The same answer for every role."""
    return dict.fromkeys(ROLES, answer)


def signed_in(answer: str = OK) -> dict[str, str]:
    """Anyone signed in gets the answer; anonymous visitors are sent to sign in."""
    return {**everyone(answer), "anonymous": SIGNIN}


def owner_only() -> dict[str, str]:
    """Only the patient who owns the record; anyone else signed in gets 404."""
    return {**everyone(NOT_FOUND), "anonymous": SIGNIN, "patient": OK}


def acting(answer: str = OK) -> dict[str, str]:
    """The same answer for every carer acting for the patient."""
    return dict.fromkeys(ACTING, answer)


def record_page(scope: str) -> dict[str, str]:
    """A page of whose record is being read: everyone signed in has their own, and a carer
    acting for the patient sees it only with the scope."""
    return {**signed_in(), **acting(NOT_FOUND), f"carer_{scope}": OK}


def owner_or(scope: str, answer: str = OK) -> dict[str, str]:
    """The patient's own, and a carer acting for them with the scope."""
    return {**owner_only(), f"carer_{scope}": answer}


def clinician_only() -> dict[str, str]:
    """Only the practice's clinicians; everyone else signed in gets 404."""
    return {**everyone(NOT_FOUND), "anonymous": SIGNIN, "clinician": OK}


def practice_staff() -> dict[str, str]:
    """Only the practice's clinicians and admins; everyone else signed in gets 404."""
    return {**everyone(NOT_FOUND), "anonymous": SIGNIN, "clinician": OK, "admin": OK}


def practice_staff_asked() -> dict[str, str]:
    """Practice staff are asked to put a form right (422); everyone else signed in gets 404."""
    return {**practice_staff(), "clinician": "422", "admin": "422"}


LIVING, BREATHING = "/groups/living-with-diabetes", "/groups/breathing-space"


RIVERSIDE = "/timebank/riverside"


def bank_users() -> dict[str, str]:
    """Anyone signed in, as themselves or for a person with the time-bank scope."""
    return {**signed_in(), **acting(NOT_FOUND), "carer_timebank": OK}


def bank_members() -> dict[str, str]:
    """The bank's active members: Pat (and a carer acting for Pat with the time-bank scope)
    and Oli, its coordinator, who is a member too."""
    return {
        **everyone(NOT_FOUND),
        "anonymous": SIGNIN,
        "patient": OK,
        "other_patient": OK,
        "carer_timebank": OK,
    }


def pats_account() -> dict[str, str]:
    """Pat's own listings and exchanges: Pat, and a carer with the time-bank scope."""
    return {**everyone(NOT_FOUND), "anonymous": SIGNIN, "patient": OK, "carer_timebank": OK}


def coordinator_only() -> dict[str, str]:
    """The bank's coordinators (Oli), as themselves; everyone else signed in gets 404."""
    return {**everyone(NOT_FOUND), "anonymous": SIGNIN, "other_patient": OK}


def member_only() -> dict[str, str]:
    """Only the group's active members (Pat, of Living with diabetes); others get 404."""
    return {**everyone(NOT_FOUND), "anonymous": SIGNIN, "patient": OK}


def supporter_only() -> dict[str, str]:
    """Only the group's peer supporters (Oli, of Breathing space); others get 404."""
    return {**everyone(NOT_FOUND), "anonymous": SIGNIN, "other_patient": OK}


def _static(ctx: dict) -> str:
    return "/static/" + ctx["app"].extensions["assets"].hashed["css/app.css"]


MATRIX: dict[str, Entry] = {
    "GET main.index": Entry(lambda c: "/", everyone(OK)),
    "GET main.page": Entry(lambda c: "/pages/about", everyone(OK)),
    "GET main.healthz": Entry(lambda c: "/healthz", everyone(OK)),
    "GET main.offline": Entry(lambda c: "/offline", everyone(OK)),
    "GET main.manifest": Entry(lambda c: "/manifest.webmanifest", everyone(OK)),
    "GET main.service_worker": Entry(lambda c: "/sw.js", everyone(OK)),
    "GET static": Entry(_static, everyone(OK)),
    "GET accounts.signin": Entry(lambda c: "/account/signin", everyone(OK)),
    "POST accounts.signin_options": Entry(
        lambda c: "/account/signin/options", everyone(OK), json=True
    ),
    "POST accounts.signin_verify": Entry(
        lambda c: "/account/signin/verify", everyone(BAD), json=True
    ),
    "POST accounts.request_link": Entry(
        lambda c: "/account/signin/link", everyone(OK), data={"email": "someone@example.org"}
    ),
    "GET accounts.signin_link": Entry(lambda c: "/account/signin/link/unknown", everyone(BAD)),
    "POST accounts.use_link": Entry(lambda c: "/account/signin/link/unknown", everyone(BAD)),
    "GET accounts.recover": Entry(lambda c: "/account/recover", everyone(OK)),
    "POST accounts.use_recovery_code": Entry(lambda c: "/account/recover", everyone("422")),
    # Signing out sends everyone to the sign-in page; anonymous visitors are sent there too.
    "POST accounts.signout": Entry(lambda c: "/account/signout", everyone(SIGNIN)),
    "GET accounts.join": Entry(lambda c: "/account/join", everyone(OK)),
    "POST accounts.join_code": Entry(lambda c: "/account/join", everyone("422")),
    "GET accounts.join_link": Entry(lambda c: f"/account/join/{c['token']}", everyone(OK)),
    "POST accounts.join_options": Entry(
        lambda c: "/account/join/options", everyone(BAD), json=True
    ),
    "POST accounts.join_verify": Entry(lambda c: "/account/join/verify", everyone(BAD), json=True),
    "POST accounts.join_by_email": Entry(
        lambda c: "/account/join/email",
        everyone(OK),
        data=lambda c: {"token": c["token"], "email": "jo@example.org"},
    ),
    "GET accounts.join_email": Entry(lambda c: "/account/join/email/unknown", everyone(BAD)),
    "POST accounts.use_join_link": Entry(lambda c: "/account/join/email/unknown", everyone(BAD)),
    "GET accounts.show": Entry(lambda c: "/account", signed_in()),
    "POST accounts.passkey_options": Entry(
        lambda c: "/account/passkeys/options", signed_in(), json=True
    ),
    "POST accounts.passkey_verify": Entry(
        lambda c: "/account/passkeys/verify", signed_in(BAD), json=True
    ),
    "POST accounts.rename_passkey": Entry(
        lambda c: f"/account/passkeys/{c['passkey_id']}/rename",
        owner_only(),
        data={"name": "Renamed"},
    ),
    "POST accounts.delete_passkey": Entry(
        lambda c: f"/account/passkeys/{c['passkey_id']}/delete", owner_only()
    ),
    "POST accounts.create_recovery_codes": Entry(lambda c: "/account/recovery-codes", signed_in()),
    "GET clinicians.invitations": Entry(
        lambda c: f"/care-team/practices/{c['practice_id']}/invitations", practice_staff()
    ),
    "POST clinicians.create_invitation": Entry(
        lambda c: f"/care-team/practices/{c['practice_id']}/invitations",
        practice_staff(),
        data={"name": "Jo Lee"},
    ),
    "POST clinicians.withdraw_invitation": Entry(
        lambda c: (
            f"/care-team/practices/{c['practice_id']}/invitations/{c['invitation_id']}/withdraw"
        ),
        practice_staff(),
    ),
    "GET reviews.index": Entry(
        lambda c: f"/reviews/practices/{c['practice_id']}", practice_staff()
    ),
    "GET reviews.new": Entry(
        lambda c: f"/reviews/practices/{c['practice_id']}/patients/{c['patient_id']}/new",
        practice_staff(),
    ),
    "POST reviews.create": Entry(
        lambda c: f"/reviews/practices/{c['practice_id']}/patients/{c['patient_id']}",
        practice_staff(),
        data={"day": FUTURE_DAY, "time": "10:30"},
    ),
    "GET reviews.edit": Entry(lambda c: f"/reviews/{c['review_id']}/edit", practice_staff()),
    "POST reviews.update": Entry(
        lambda c: f"/reviews/{c['review_id']}/reschedule",
        practice_staff(),
        data={"day": FUTURE_DAY, "time": "11:00"},
    ),
    # The review's date goes with every scope a carer may have.
    "GET reviews.calendar": Entry(
        lambda c: f"/reviews/{c['review_id']}/calendar.ics",
        {**owner_only(), **acting(), "carer_timebank": NOT_FOUND},
    ),
    "GET notifications.index": Entry(lambda c: "/notifications", signed_in()),
    "GET results.review": Entry(lambda c: f"/results/reviews/{c['review_id']}", practice_staff()),
    "POST results.enter": Entry(
        lambda c: f"/results/reviews/{c['review_id']}/entered",
        practice_staff(),
        data={"test-0": "hba1c", "value-0": "50", "date_taken-0": "2026-01-01"},
    ),
    # Staff without a file are asked for one (422); nobody else learns the review exists.
    "POST results.upload": Entry(
        lambda c: f"/results/reviews/{c['review_id']}/upload", practice_staff_asked()
    ),
    "POST results.release": Entry(
        lambda c: f"/results/reviews/{c['review_id']}/release", practice_staff()
    ),
    "POST results.release_date": Entry(
        lambda c: f"/results/reviews/{c['review_id']}/release-date",
        practice_staff(),
        data={"release_on": ""},
    ),
    "POST results.hold": Entry(
        lambda c: f"/results/reviews/{c['review_id']}/results/{c['result_id']}/hold",
        practice_staff(),
        data={"note": "Talk first"},
    ),
    "POST results.unhold": Entry(
        lambda c: f"/results/reviews/{c['review_id']}/results/{c['result_id']}/unhold",
        practice_staff(),
    ),
    "POST results.target": Entry(
        lambda c: f"/results/reviews/{c['review_id']}/targets",
        practice_staff(),
        data={"test": "hba1c", "high": "60"},
    ),
    "GET results.practice_import": Entry(
        lambda c: f"/results/practices/{c['practice_id']}/import", practice_staff()
    ),
    "POST results.practice_import_file": Entry(
        lambda c: f"/results/practices/{c['practice_id']}/import", practice_staff_asked()
    ),
    # Everyone reads only their own results: a page of nothing for those who have none.
    "GET results.mine": Entry(lambda c: "/results", record_page("results")),
    "GET results.letter": Entry(lambda c: "/results/letter", record_page("results")),
    "GET results.explain": Entry(lambda c: "/results/tests/hba1c", record_page("results")),
    "GET results.download": Entry(lambda c: "/results/my-results.csv", record_page("results")),
    "POST results.ask": Entry(
        lambda c: "/results/ask", owner_or("results"), data={"test": "hba1c"}
    ),
    # Conversations are the person's own; anyone signed in may hold their own.
    "GET planning.index": Entry(lambda c: "/planning", record_page("planning")),
    "POST planning.start": Entry(lambda c: "/planning/check-in/start", record_page("planning")),
    "GET planning.conversation": Entry(
        lambda c: f"/planning/conversations/{c['conversation_id']}", owner_or("planning")
    ),
    "POST planning.answer": Entry(
        lambda c: f"/planning/conversations/{c['conversation_id']}/answer",
        owner_or("planning"),
        data={"step": "going-well", "answer": "A walk", "key": "matrix"},
    ),
    "POST planning.change": Entry(
        lambda c: f"/planning/conversations/{c['conversation_id']}/change/overall",
        owner_or("planning"),
    ),
    "POST results.remove": Entry(
        lambda c: f"/results/agenda/{c['agenda_item_id']}/remove", owner_or("results")
    ),
    "GET planning.transcript": Entry(
        lambda c: f"/planning/conversations/{c['conversation_id']}/transcript",
        owner_or("planning"),
    ),
    # Goals are the person's own; everyone signed in has a list of their own.
    "GET goals.index": Entry(lambda c: "/goals", record_page("goals")),
    "POST goals.create": Entry(lambda c: "/goals", record_page("goals"), data={"text": "Walk"}),
    "GET goals.show": Entry(lambda c: f"/goals/{c['goal_id']}", owner_only()),
    "POST goals.edit": Entry(
        lambda c: f"/goals/{c['goal_id']}/edit", owner_only(), data={"text": "Walk", "version": "1"}
    ),
    "POST goals.set_status": Entry(
        lambda c: f"/goals/{c['goal_id']}/status",
        owner_only(),
        data={"status": "achieved", "version": "1"},
    ),
    "POST goals.move": Entry(
        lambda c: f"/goals/{c['goal_id']}/move", owner_only(), data={"direction": "up"}
    ),
    "POST goals.add_action": Entry(
        lambda c: f"/goals/{c['goal_id']}/actions", owner_only(), data={"text": "Go", "owner": "me"}
    ),
    "POST goals.log_progress": Entry(
        lambda c: f"/goals/{c['goal_id']}/progress",
        owner_only(),
        data={"outcome": "did", "key": "matrix"},
    ),
    "POST goals.reminder": Entry(
        lambda c: f"/goals/{c['goal_id']}/reminder", owner_only(), data={"days": "0", "at": "08:30"}
    ),
    # Each person's own devices and weekly summary.
    "POST notifications.add_device": Entry(
        lambda c: "/notifications/devices", signed_in(), json=True, data=lambda c: c["device"]
    ),
    "POST notifications.forget_device": Entry(
        lambda c: "/notifications/devices/forget",
        signed_in(),
        json=True,
        data=lambda c: {"endpoint": c["device"]["subscription"]["endpoint"]},
    ),
    "POST notifications.remove_device": Entry(
        lambda c: f"/notifications/devices/{c['device_id']}/remove", owner_only()
    ),
    "POST notifications.weekly": Entry(
        lambda c: "/notifications/weekly", signed_in(), data={"weekly": "1"}
    ),
    "POST goals.action_done": Entry(
        lambda c: f"/goals/actions/{c['action_id']}/done", owner_only(), data={"done": "1"}
    ),
    "POST goals.remove_action": Entry(
        lambda c: f"/goals/actions/{c['action_id']}/remove", owner_only()
    ),
    # One patient as the care team sees them: the practice's staff only.
    "GET clinicians.patient": Entry(
        lambda c: f"/care-team/practices/{c['practice_id']}/patients/{c['patient_id']}",
        practice_staff(),
    ),
    # Long-term conditions: the practice's staff record and change them; the person (and a
    # carer helping them prepare) reads them and says which matter most. Everyone signed in
    # has a list of their own, empty for most.
    "POST conditions.create": Entry(
        lambda c: f"/conditions/practices/{c['practice_id']}/patients/{c['patient_id']}",
        practice_staff(),
        data={"code": "195967001"},
    ),
    "POST conditions.set_status": Entry(
        lambda c: f"/conditions/practices/{c['practice_id']}/{c['condition_id']}/status",
        practice_staff(),
        data={"status": "resolved"},
    ),
    "POST conditions.remove": Entry(
        lambda c: f"/conditions/practices/{c['practice_id']}/{c['condition_id']}/remove",
        practice_staff(),
    ),
    "GET conditions.mine": Entry(lambda c: "/conditions", record_page("planning")),
    "POST conditions.choose": Entry(
        lambda c: "/conditions/matters",
        record_page("planning"),
        data=lambda c: {"matters": str(c["condition_id"])},
    ),
    # Outcomes: the practice's staff and its commissioners (aggregates, never a record).
    "GET outcomes.practice": Entry(
        lambda c: f"/outcomes/practices/{c['practice_id']}",
        {**practice_staff(), "commissioner": OK},
    ),
    "GET outcomes.practice_csv": Entry(
        lambda c: f"/outcomes/practices/{c['practice_id']}/outcomes.csv",
        {**practice_staff(), "commissioner": OK},
    ),
    # Deleting one's own account: the page for anyone signed in; confirming needs a passkey
    # answer (an empty one is refused, 400), and never deletes anyone else.
    "GET accounts.delete_page": Entry(lambda c: "/account/delete", signed_in()),
    # Without a passkey: a recovery code (a wrong one is asked again, 422), or an emailed link
    # (a link not theirs is refused, 400). Nobody deletes anyone else.
    "POST accounts.delete_by_code": Entry(
        lambda c: "/account/delete/code", signed_in("422"), data={"code": "ABCD-EFGH-JKMN-PQRS"}
    ),
    "POST accounts.delete_email": Entry(lambda c: "/account/delete/email", signed_in()),
    "GET accounts.delete_link": Entry(
        lambda c: "/account/delete/confirm/not-a-link", signed_in(BAD)
    ),
    "POST accounts.use_delete_link": Entry(
        lambda c: "/account/delete/confirm/not-a-link", signed_in(BAD)
    ),
    "POST accounts.delete_options": Entry(
        lambda c: "/account/delete/options", signed_in(), json=True
    ),
    "POST accounts.delete_verify": Entry(
        lambda c: "/account/delete/verify", signed_in(BAD), json=True
    ),
    # Data rights: each person's own record of who has seen it, and their own data.
    "GET rights.index": Entry(lambda c: "/account/my-data", signed_in()),
    "GET rights.everything_json": Entry(lambda c: "/account/my-data/everything.json", signed_in()),
    "GET rights.everything_fhir": Entry(
        lambda c: "/account/my-data/everything.fhir.json", signed_in()
    ),
    # The agreed plan: the person's own pages; agreeing from the clinician's side is for the
    # practice's clinicians (its admins read the shared goals but do not agree them).
    "GET plan.mine": Entry(lambda c: "/plan", record_page("goals")),
    "GET plan.printable": Entry(lambda c: "/plan/print", record_page("goals")),
    "GET plan.fhir": Entry(lambda c: "/plan/careplan.json", owner_or("goals")),
    # Only the person agrees their goals: a carer with the goals scope is told so (422).
    "POST plan.agree": Entry(
        lambda c: f"/plan/goals/{c['shared_goal_id']}/agree",
        owner_or("goals", "422"),
        data={"agreed": "1", "version": "1"},
    ),
    # The person's note goes with their coming review: only a patient with one booked. It is
    # the person's own words: a carer with the goals scope is told so (422).
    "POST plan.person_note": Entry(
        lambda c: "/plan/note",
        {**everyone("422"), **acting(NOT_FOUND), "anonymous": SIGNIN, "patient": OK}
        | {"carer_goals": "422"},
        data={"person_note": "Mornings are hard"},
    ),
    "GET plan.look_back": Entry(lambda c: "/plan/look-back", record_page("goals")),
    "POST plan.score": Entry(
        lambda c: f"/plan/goals/{c['agreed_goal_id']}/score",
        owner_or("goals", "422"),  # looking back is the person's own view
        data={"score": "1"},
    ),
    "POST plan.clinician_score": Entry(
        lambda c: f"/reviews/plan/goals/{c['agreed_goal_id']}/score",
        clinician_only(),
        data={"score": "0"},
    ),
    "GET plan.review": Entry(lambda c: f"/reviews/{c['review_id']}/plan", practice_staff()),
    "POST plan.note": Entry(
        lambda c: f"/reviews/{c['review_id']}/plan/note", clinician_only(), data={"note": "Hi"}
    ),
    "POST plan.clinician_agree": Entry(
        lambda c: f"/reviews/plan/goals/{c['shared_goal_id']}/agree",
        clinician_only(),
        data={"agreed": "1", "version": "1"},
    ),
    "POST plan.care_team_action": Entry(
        lambda c: f"/reviews/plan/goals/{c['shared_goal_id']}/actions",
        clinician_only(),
        data={"text": "Refer"},
    ),
    "POST planning.safety": Entry(
        lambda c: f"/planning/conversations/{c['conversation_id']}/safety",
        owner_or("planning"),
        data={"choice": "carry-on"},
    ),
    # Only the person asks their care team to contact them: never a carer acting for them.
    "POST planning.care_team": Entry(
        lambda c: f"/planning/conversations/{c['conversation_id']}/care-team", owner_only()
    ),
    # Saying a person who asked has been contacted: the practice's clinicians and admins.
    "POST contact.acknowledge": Entry(
        lambda c: (
            f"/contact/practices/{c['practice_id']}/requests/{c['contact_request_id']}/acknowledge"
        ),
        practice_staff(),
    ),
    # Everyone signed in has a summary and a crisis-plan page of their own (perhaps empty).
    "GET planning.summary_page": Entry(lambda c: "/planning/summary", record_page("planning")),
    "GET planning.crisis_plan": Entry(lambda c: "/planning/crisis-plan", record_page("crisis")),
    # Only someone with a review booked can be ready for it.
    "POST planning.ready": Entry(lambda c: "/planning/ready", owner_or("planning")),
    "POST planning.share": Entry(
        lambda c: f"/planning/goal/{c['goal_id']}/share", owner_only(), data={"shared": "1"}
    ),
    "POST planning.edit": Entry(
        lambda c: f"/planning/crisis-plan/{c['plan_id']}/edit",
        owner_or("crisis"),
        data={"helps": "Music"},
    ),
    "POST planning.remove": Entry(
        # A result on the list is both scopes' (planning and results): no one-scope carer.
        lambda c: f"/planning/item/{c['agenda_item_id']}/remove",
        owner_only(),
    ),
    # Carers: anyone may invite their own carers (not while acting for someone else); only
    # the patient sees and changes theirs; anyone may open an invitation.
    "GET carers.index": Entry(lambda c: "/carers", signed_in()),
    "POST carers.invite": Entry(
        lambda c: "/carers",
        {**signed_in(), **acting(NOT_FOUND)},
        data={"name": "Sam Lee", "scopes": "goals"},
    ),
    "GET carers.invitation": Entry(
        lambda c: f"/carers/{c['invite_grant_id']}/invitation", owner_only()
    ),
    "GET carers.show": Entry(lambda c: f"/carers/{c['carer_grant_id']}", owner_only()),
    "POST carers.update": Entry(
        lambda c: f"/carers/{c['carer_grant_id']}",
        owner_only(),
        data={"scopes": "results", "version": "1"},
    ),
    "POST carers.stop": Entry(lambda c: f"/carers/{c['invite_grant_id']}/stop", owner_only()),
    "GET carers.accept_link": Entry(lambda c: f"/carers/accept/{c['carer_token']}", everyone(OK)),
    "GET carers.code_form": Entry(lambda c: "/carers/code", everyone(OK)),
    "POST carers.code": Entry(lambda c: "/carers/code", everyone("422")),
    # The patient's own invitation, and carers who already help them, are told why not.
    "POST carers.accept": Entry(
        lambda c: "/carers/accept",
        {**signed_in(), **acting("422"), "patient": "422", "carer_idle": "422"},
        data=lambda c: {"token": c["carer_token"]},
    ),
    "POST carers.join_options": Entry(
        lambda c: "/carers/join/options",
        everyone(OK),
        json=True,
        data=lambda c: {"token": c["carer_token"]},
    ),
    "POST carers.join_verify": Entry(lambda c: "/carers/join/verify", everyone(BAD), json=True),
    # Acting for someone: only under one's own permission.
    "POST carers.act": Entry(
        lambda c: f"/carers/act/{c['idle_grant_id']}",
        {**everyone(NOT_FOUND), "anonymous": SIGNIN, "carer_idle": OK},
    ),
    "POST carers.stop_acting": Entry(lambda c: "/carers/stop-acting", signed_in()),
    # Groups: names and guidelines are public; a carer acting for someone never sees groups.
    "GET groups.index": Entry(lambda c: "/groups", {**everyone(OK), **acting(NOT_FOUND)}),
    "GET groups.show": Entry(
        lambda c: "/groups/living-with-diabetes", {**everyone(OK), **acting(NOT_FOUND)}
    ),
    # Joining: those without a display name are sent to choose one first (a redirect).
    "POST groups.join": Entry(
        lambda c: "/groups/living-with-diabetes/join", {**signed_in(), **acting(NOT_FOUND)}
    ),
    "POST groups.leave": Entry(
        lambda c: "/groups/living-with-diabetes/leave",
        {**everyone(NOT_FOUND), "anonymous": SIGNIN, "patient": OK},
    ),
    "GET groups.profile": Entry(lambda c: "/groups/profile", {**signed_in(), **acting(NOT_FOUND)}),
    "POST groups.save_profile": Entry(
        lambda c: "/groups/profile",
        {**signed_in(), **acting(NOT_FOUND)},
        data={"display_name": "Matrix Tester"},
    ),
    # Requests to join: the group's peer supporters only (Oli supports Breathing space).
    "GET groups.requests": Entry(
        lambda c: "/groups/breathing-space/requests",
        {**everyone(NOT_FOUND), "anonymous": SIGNIN, "other_patient": OK},
    ),
    "POST groups.decide": Entry(
        lambda c: f"/groups/breathing-space/requests/{c['pending_member_id']}",
        {**everyone(NOT_FOUND), "anonymous": SIGNIN, "other_patient": OK},
        data={"decision": "approve", "version": "1"},
    ),
    # Conversations: the group's active members only (Pat is one of Living with diabetes).
    # tests/groups/test_group_matrix.py answers them for every role in a group too.
    **{
        f"{method} groups.{name}": Entry(path, member_only(), data=data)
        for method, name, path, data in (
            ("GET", "thread", lambda c: f"{LIVING}/threads/{c['thread_id']}", None),
            ("GET", "first_unread", lambda c: f"{LIVING}/threads/{c['thread_id']}/unread", None),
            ("GET", "since", lambda c: f"{LIVING}/threads/{c['thread_id']}/since?after=0", None),
            ("GET", "post", lambda c: f"{LIVING}/posts/{c['post_id']}", None),
            ("GET", "new_thread", lambda c: f"{LIVING}/threads/new", None),
            ("GET", "edit_post", lambda c: f"{LIVING}/posts/{c['own_post_id']}/edit", None),
            ("GET", "report_form", lambda c: f"{LIVING}/posts/{c['post_id']}/report", None),
            (
                "POST",
                "reply",
                lambda c: f"{LIVING}/threads/{c['thread_id']}/reply",
                {"body": "Me too", "key": "m1"},
            ),
            (
                "POST",
                "start_thread",
                lambda c: f"{LIVING}/threads",
                {"title": "Hello", "body": "Hi all", "key": "m2"},
            ),
            (
                "POST",
                "save_post",
                lambda c: f"{LIVING}/posts/{c['own_post_id']}/edit",
                {"body": "Changed", "version": "1"},
            ),
            (
                "POST",
                "thanks",
                lambda c: f"{LIVING}/posts/{c['post_id']}/thanks",
                {"thanked": "yes"},
            ),
            (
                "POST",
                "mute_thread",
                lambda c: f"{LIVING}/threads/{c['thread_id']}/mute",
                {"muted": "yes"},
            ),
            (
                "POST",
                "report",
                lambda c: f"{LIVING}/posts/{c['post_id']}/report",
                {"reason": "spam"},
            ),
            # From the safety step: Pat is a patient of the practice, so it is asked.
            (
                "POST",
                "care_team",
                lambda c: f"{LIVING}/threads/{c['thread_id']}/care-team",
                {"body": "I want to die", "key": "m3"},
            ),
        )
    },
    # Moderation: the group's peer supporters (Oli is Breathing space's administrator).
    **{
        f"{method} groups.{name}": Entry(path, supporter_only(), data=data)
        for method, name, path, data in (
            ("GET", "queue", lambda c: f"{BREATHING}/queue", None),
            ("GET", "members", lambda c: f"{BREATHING}/members", None),
            ("GET", "log", lambda c: f"{BREATHING}/log", None),
            ("GET", "appeals", lambda c: f"{BREATHING}/appeals", None),
            ("GET", "hide_form", lambda c: f"{BREATHING}/posts/{c['b_post_id']}/hide", None),
            (
                "POST",
                "decide_item",
                lambda c: f"{BREATHING}/queue/{c['b_report_id']}",
                {"decision": "keep", "reason": "Fine", "version": "1"},
            ),
            (
                "POST",
                "hide",
                lambda c: f"{BREATHING}/posts/{c['b_post_id']}/hide",
                {"reason": "Off topic"},
            ),
            (
                "POST",
                "lock",
                lambda c: f"{BREATHING}/threads/{c['b_thread_id']}/lock",
                {"lock": "yes", "reason": "Heated"},
            ),
            (
                "POST",
                "pin",
                lambda c: f"{BREATHING}/threads/{c['b_thread_id']}/pin",
                {"pin": "yes", "reason": "Useful"},
            ),
            (
                "POST",
                "mute",
                lambda c: f"{BREATHING}/members/{c['b_member_id']}/mute",
                {"length": "1h", "reason": "Cool off"},
            ),
            (
                "POST",
                "remove",
                lambda c: f"{BREATHING}/members/{c['b_member_id']}/remove",
                {"reason": "Unkind"},
            ),
            (
                "POST",
                "slow_mode",
                lambda c: f"{BREATHING}/slow-mode",
                {"minutes": "10", "reason": "Busy"},
            ),
            ("POST", "invite", lambda c: f"{BREATHING}/invite", {"display_name": "Ivy N"}),
            (
                "POST",
                "answer_appeal",
                lambda c: f"{BREATHING}/appeals/{c['b_appeal_id']}",
                {"decision": "uphold", "answer": "It stands", "version": "1"},
            ),
        )
    },
    # What needs a look across one's groups: anyone who supports a group (Oli); a private
    # check-in: the group's peer supporters send it, and only its author (Pat) reads it.
    "GET groups.needs_look": Entry(lambda c: "/groups/needs-a-look", supporter_only()),
    "GET groups.check_in_form": Entry(
        lambda c: f"{BREATHING}/posts/{c['b_post_id']}/check-in", supporter_only()
    ),
    "POST groups.check_in": Entry(
        lambda c: f"{BREATHING}/posts/{c['b_post_id']}/check-in",
        supporter_only(),
        data={"words": "Thinking of you"},
    ),
    "GET groups.check_in_message": Entry(
        lambda c: f"/groups/check-ins/{c['b_check_in_id']}", owner_only()
    ),
    # Second looks: the person a decision was about (Pat's hidden post), and the peer supporters.
    "GET groups.appeal_form": Entry(
        lambda c: f"{BREATHING}/appeal/{c['b_pat_action_id']}",
        {**supporter_only(), "patient": OK},
    ),
    "POST groups.appeal": Entry(
        lambda c: f"{BREATHING}/appeal/{c['b_pat_action_id']}",
        {**supporter_only(), "patient": OK},
        data={"words": "Please look again"},
    ),
    # The time bank: anyone signed in may read about a bank and ask to join.
    "GET timebank.index": Entry(lambda c: "/timebank", bank_users()),
    "GET timebank.show": Entry(lambda c: RIVERSIDE, bank_users()),
    "POST timebank.join": Entry(
        lambda c: f"{RIVERSIDE}/join",
        bank_users(),
        data={"display_name": "Matrix", "area": "Riverside"},
    ),
    # The profile and leaving: members and those who asked to join (Alex).
    **{
        f"{method} timebank.{name}": Entry(path, {**bank_members(), "admin": OK}, data=data)
        for method, name, path, data in (
            ("GET", "profile", lambda c: f"{RIVERSIDE}/profile", None),
            (
                "POST",
                "update_profile",
                lambda c: f"{RIVERSIDE}/profile",
                {"display_name": "Matrix", "area": "Riverside"},
            ),
            ("POST", "leave", lambda c: f"{RIVERSIDE}/leave", None),
        )
    },
    # Listings, proposals and statements: active members.
    **{
        f"{method} timebank.{name}": Entry(path, bank_members(), data=data)
        for method, name, path, data in (
            ("GET", "listings", lambda c: f"{RIVERSIDE}/listings?q=lift", None),
            ("GET", "new_listing", lambda c: f"{RIVERSIDE}/listings/new", None),
            (
                "POST",
                "create_listing",
                lambda c: f"{RIVERSIDE}/listings",
                {
                    "kind": "offer",
                    "title": "Gardening",
                    "description": "Weeding",
                    "category": "home-garden",
                    "area": "Riverside",
                },
            ),
            ("GET", "show_listing", lambda c: f"{RIVERSIDE}/listings/{c['gus_listing_id']}", None),
            (
                "POST",
                "propose",
                lambda c: f"{RIVERSIDE}/listings/{c['gus_listing_id']}/exchanges",
                lambda c: {"hours": "1", "happens_on": c["today"], "key": "matrix-key-1"},
            ),
            ("GET", "exchange_list", lambda c: f"{RIVERSIDE}/exchanges", None),
            ("GET", "statement", lambda c: f"{RIVERSIDE}/statement", None),
            ("GET", "statement_download", lambda c: f"{RIVERSIDE}/statement.csv", None),
        )
    },
    # Pat's own listing and exchanges.
    **{
        f"{method} timebank.{name}": Entry(path, pats_account(), data=data)
        for method, name, path, data in (
            (
                "GET",
                "edit_listing",
                lambda c: f"{RIVERSIDE}/listings/{c['pat_listing_id']}/edit",
                None,
            ),
            (
                "POST",
                "update_listing",
                lambda c: f"{RIVERSIDE}/listings/{c['pat_listing_id']}",
                {
                    "kind": "request",
                    "title": "A lift",
                    "description": "To the surgery",
                    "category": "getting-about",
                    "area": "Riverside",
                },
            ),
            (
                "POST",
                "close_listing",
                lambda c: f"{RIVERSIDE}/listings/{c['pat_listing_id']}/close",
                None,
            ),
            (
                "POST",
                "answer",
                lambda c: f"{RIVERSIDE}/exchanges/{c['tb_proposal_id']}/answer",
                {"answer": "accept"},
            ),
            (
                "POST",
                "call_off",
                lambda c: f"{RIVERSIDE}/exchanges/{c['tb_exchange_id']}/call-off",
                None,
            ),
            (
                "POST",
                "confirm",
                lambda c: f"{RIVERSIDE}/exchanges/{c['tb_exchange_id']}/confirm",
                {"hours": "1"},
            ),
        )
    },
    # An exchange is seen by its two members and the bank's coordinators.
    "GET timebank.show_exchange": Entry(
        lambda c: f"{RIVERSIDE}/exchanges/{c['tb_exchange_id']}",
        {**pats_account(), "other_patient": OK},
    ),
    # Coordinating: Oli only.
    **{
        f"{method} timebank.{name}": Entry(path, coordinator_only(), data=data)
        for method, name, path, data in (
            ("GET", "coordinate", lambda c: f"{RIVERSIDE}/coordinate", None),
            ("GET", "members", lambda c: f"{RIVERSIDE}/members", None),
            ("GET", "new_member", lambda c: f"{RIVERSIDE}/members/new", None),
            (
                "POST",
                "create_member",
                lambda c: f"{RIVERSIDE}/members",
                {"display_name": "Nan", "area": "Riverside"},
            ),
            ("GET", "member", lambda c: f"{RIVERSIDE}/members/{c['gus_member_id']}", None),
            (
                "GET",
                "member_statement",
                lambda c: f"{RIVERSIDE}/members/{c['gus_member_id']}/statement.csv",
                None,
            ),
            (
                "POST",
                "save_note",
                lambda c: f"{RIVERSIDE}/members/{c['gus_member_id']}/note",
                {"note": "Checks done"},
            ),
            (
                "POST",
                "remove",
                lambda c: f"{RIVERSIDE}/members/{c['gus_member_id']}/remove",
                {"reason": "Moved away"},
            ),
            (
                "POST",
                "decide",
                lambda c: f"{RIVERSIDE}/members/{c['tb_pending_id']}/decide",
                {"decision": "approve", "version": "1"},
            ),
            ("GET", "new_record", lambda c: f"{RIVERSIDE}/record", None),
            (
                "POST",
                "record",
                lambda c: f"{RIVERSIDE}/record",
                lambda c: {
                    "giver_id": str(c["nan_member_id"]),
                    "receiver_id": str(c["pat_member_id"]),
                    "title": "Shopping",
                    "category": "shopping",
                    "happens_on": c["today"],
                    "hours": "1",
                    "key": "matrix-record-1",
                },
            ),
            (
                "POST",
                "agree",
                lambda c: f"{RIVERSIDE}/exchanges/{c['tb_waiting_id']}/agree",
                {"decision": "agree"},
            ),
            (
                "POST",
                "settle",
                lambda c: f"{RIVERSIDE}/exchanges/{c['tb_disputed_id']}/settle",
                {"hours": "1", "reason": "Spoke to both"},
            ),
            (
                "POST",
                "correct",
                lambda c: f"{RIVERSIDE}/exchanges/{c['tb_done_id']}/correct",
                {"hours": "2", "reason": "It was two"},
            ),
            ("GET", "report", lambda c: f"{RIVERSIDE}/report", None),
            ("GET", "report_download", lambda c: f"{RIVERSIDE}/report.csv", None),
        )
    },
}


def unlisted_routes(app: Flask, matrix: dict[str, Entry]) -> list[str]:
    """Return every 'METHOD endpoint' in the app's URL map that the matrix does not declare."""
    missing = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            key = f"{method} {rule.endpoint}"
            if key not in matrix:
                missing.append(key)
    return sorted(missing)


def test_every_route_is_in_the_matrix(app):
    assert unlisted_routes(app, MATRIX) == []


def test_a_route_missing_from_the_matrix_fails_the_check(migrated):
    app = make_app()
    app.add_url_rule("/new-thing", "new_thing", lambda: "new")
    app.add_url_rule("/account/other", "other", lambda: "x", methods=["GET", "POST"])
    assert unlisted_routes(app, MATRIX) == ["GET new_thing", "GET other", "POST other"]


def test_the_matrix_names_no_routes_that_are_gone(app):
    present = {f"{m} {r.endpoint}" for r in app.url_map.iter_rules() for m in r.methods or ()}
    assert sorted(set(MATRIX) - present) == []


def _arrange(app: Flask, role: str) -> tuple[dict, object]:
    """Make the records every route needs, and a client signed in as the role."""
    engine = app.extensions["db_engine"]
    with app.app_context(), Session(engine, expire_on_commit=False) as db:
        practice, elsewhere = Practice(name="Riverside"), Practice(name="Hillside")
        db.add_all([practice, elsewhere])
        db.commit()
        people = {
            "patient": add_person(db, "Pat Morgan", "pat@example.org", (practice, Role.PATIENT)),
            "other_patient": add_person(
                db, "Oli Reed", "oli@example.org", (practice, Role.PATIENT)
            ),
            "clinician": add_person(
                db, "Priya Shah", "priya@example.org", (practice, Role.CLINICIAN)
            ),
            "other_clinician": add_person(
                db, "Olu Ade", "olu@example.org", (elsewhere, Role.CLINICIAN)
            ),
            "admin": add_person(db, "Alex Kim", "alex@example.org", (practice, Role.ADMIN)),
            "commissioner": add_person(
                db, "Cam Ward", "cam@example.org", (practice, Role.COMMISSIONER)
            ),
        }
        for person in people.values():
            db.add(
                Passkey(
                    person_id=person.id,
                    credential_id=secrets.token_bytes(16),
                    public_key=b"key",
                    name="Phone",
                )
            )
        db.commit()
        services.generate_recovery_codes(db, services.load_actor(db, people["patient"]))
        passkey = db.exec(
            Passkey.__table__.select().where(Passkey.person_id == people["patient"].id)
        ).first()
        invitation, token, _code = services.create_invitation(db, None, practice.id, "Jo Lee")
        review = reviews.create_review(
            db,
            services.load_actor(db, people["clinician"]),
            practice.id,
            people["patient"].id,
            dt.datetime.now(dt.UTC) + dt.timedelta(days=10),
        )
        result = Result(
            practice_id=practice.id,
            patient_id=people["patient"].id,
            test="hba1c",
            system="http://loinc.org",
            code="59261-8",
            display="HbA1c",
            value=50,
            unit="mmol/mol",
            taken_at=dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC),
            source="form",
            fingerprint="x",
        )
        condition = Condition(
            patient_id=people["patient"].id,
            practice_id=practice.id,
            code="44054006",
            display="Type 2 diabetes mellitus",
            source="care_team",
        )
        db.add_all([result, condition])
        db.commit()
        # Sent to the person, then a new reading waits for the next release.
        with app.test_request_context():
            results.release_results(db, None, review)
        db.add(Result(**{**result.model_dump(exclude={"id", "released_at"}), "fingerprint": "z"}))
        item = AgendaItem(
            patient_id=people["patient"].id,
            review_id=review.id,
            kind="result",
            test="hba1c",
            text="My HbA1c result",
        )
        goal = Goal(patient_id=people["patient"].id, text="Walk to the shop")
        plan = CrisisPlan(patient_id=people["patient"].id, helps="Music")
        # Oli asked the practice to contact them (Pat's own request is made by the route).
        contact_request = ContactRequest(
            person_id=people["other_patient"].id,
            practice_id=practice.id,
            source="planning",
            due_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
        )
        db.add(contact_request)
        db.add_all([item, goal, plan])
        db.commit()
        action = GoalAction(goal_id=goal.id, text="Walk", owner="me")
        # A shared draft to agree, and a plan agreed at an earlier review.
        shared_goal = Goal(
            patient_id=people["patient"].id, review_id=review.id, text="Sleep", shared=True
        )
        agreed_at = dt.datetime.now(dt.UTC)
        agreed = Goal(
            patient_id=people["patient"].id,
            review_id=review.id,
            text="Swim",
            shared=True,
            status="agreed",
            person_agreed_at=agreed_at,
            clinician_agreed_at=agreed_at,
        )
        careplan = CarePlan(
            review_id=review.id, patient_id=people["patient"].id, agreed_at=agreed_at
        )
        device = PushSubscription(
            person_id=people["patient"].id,
            endpoint="https://fcm.googleapis.com/fcm/send/pats-phone",
            p256dh=DEVICE_KEYS["p256dh"],
            auth=DEVICE_KEYS["auth"],
        )
        # The review after, that the agreed goal is looked back on for.
        later = Review(
            practice_id=practice.id,
            patient_id=people["patient"].id,
            scheduled_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=100),
        )
        db.add_all([action, shared_goal, agreed, careplan, device, later])
        db.commit()
        # The person has looked back on the agreed goal, so a clinician may too.
        db.add(
            GoalScore(
                goal_id=agreed.id,
                patient_id=agreed.patient_id,
                side="person",
                score=1,
                for_review_id=later.id,
            )
        )
        db.commit()
        with app.test_request_context():
            chat = conversations.start(
                db, services.load_actor(db, people["patient"]), people["patient"].id, "check-in"
            ).conversation
            conversations.answer(
                db, services.load_actor(db, people["patient"]), chat.id, "overall", "6", "first"
            )
        # Sam helps Pat with everything but is not acting; Cas acts for Pat as the role says.
        pat = services.load_actor(db, people["patient"])
        sam = add_person(db, "Sam Lee", "sam@example.org")
        cas = add_person(db, "Cas Doe", "cas@example.org")
        people["carer_idle"] = sam
        for person in (sam, cas):
            db.add(
                Passkey(
                    person_id=person.id,
                    credential_id=secrets.token_bytes(16),
                    public_key=b"key",
                    name="Phone",
                )
            )
        db.commit()
        form = {"name": "Sam Lee"}
        with app.test_request_context():
            idle, sam_token, _c = carers.invite_carer(db, pat, pat.id, form, list(SCOPES))
            carers.accept(db, services.load_actor(db, sam), token=sam_token)
            scope = role.removeprefix("carer_") if role in ACTING else "goals"
            acting_grant, cas_token, _c = carers.invite_carer(
                db, pat, pat.id, {"name": "Cas Doe"}, [scope]
            )
            carers.accept(db, services.load_actor(db, cas), token=cas_token)
            waiting, carer_token, _c = carers.invite_carer(
                db, pat, pat.id, {"name": "Jo Lee"}, ["results"]
            )
        # Groups: Pat is a member of one, Oli supports another, where Alex asked to join.
        from webapp.content import get_content
        from webapp.groups import services as groups

        groups.sync_groups(db, get_content().groups)
        for key, name in (("patient", "Pat M"), ("other_patient", "Oli R"), ("admin", "Alex K")):
            db.add(PeerProfile(person_id=people[key].id, display_name=name, name_key=name))
        db.commit()
        groups.set_role(db, "living-with-diabetes", "pat@example.org", "member")
        groups.set_role(db, "breathing-space", "oli@example.org", "admin")
        with app.test_request_context():
            pending = groups.join(db, services.load_actor(db, people["admin"]), "breathing-space")
            conversation = _group_conversations(db, people)
            bank = _time_bank(db, people)
    client = app.test_client()
    if role in ACTING or role == "carer_lapsed":
        people[role] = cas
    if role != "anonymous":
        sign_in(app, client, people[role])
    # A carer whose permission is stopped after they opened a page (with its form token).
    csrf = client.csrf_token() if role != "anonymous" else None
    if role in ACTING or role == "carer_lapsed":
        with app.app_context(), Session(engine) as db:
            db.exec(
                update(AuthSession)
                .where(AuthSession.person_id == cas.id)
                .values(acting_grant_id=acting_grant.id)
            )
            if role == "carer_lapsed":
                db.exec(
                    update(CarerGrant)
                    .where(CarerGrant.id == acting_grant.id)
                    .values(revoked_at=dt.datetime.now(dt.UTC))
                )
            db.commit()
    ctx = {
        **conversation,
        **bank,
        "pending_member_id": pending.id,
        "csrf": csrf,
        "idle_grant_id": idle.id,
        "carer_grant_id": acting_grant.id,
        "invite_grant_id": waiting.id,
        "carer_token": carer_token,
        "app": app,
        "practice_id": practice.id,
        "passkey_id": passkey.id,
        "invitation_id": invitation.id,
        "token": token,
        "patient_id": people["patient"].id,
        "review_id": review.id,
        "result_id": result.id,
        "condition_id": condition.id,
        "agenda_item_id": item.id,
        "conversation_id": chat.id,
        "goal_id": goal.id,
        "shared_goal_id": shared_goal.id,
        "device_id": device.id,
        "agreed_goal_id": agreed.id,
        "device": {
            "subscription": {
                "endpoint": f"https://fcm.googleapis.com/fcm/send/{role}",
                "keys": DEVICE_KEYS,
            },
            "label": "Phone",
        },
        "action_id": action.id,
        "plan_id": plan.id,
        "contact_request_id": contact_request.id,
    }
    return ctx, client


def _time_bank(db: Session, people: dict) -> dict[str, object]:
    """The Riverside time bank: Oli coordinates; Pat and Gus are members with an offer each;
    Alex asked to join. Between Pat and Gus: an agreed exchange, a proposal to Pat, one that
    waits past the lower limit, one where they disagree, and one done."""
    from webapp.content import get_content
    from webapp.formatting import local_date
    from webapp.timebank import exchanges
    from webapp.timebank import services as timebank

    today = local_date(dt.datetime.now(dt.UTC))
    bank = get_content().banks["riverside"]
    timebank.sync_banks(db, get_content().banks)
    actors = {key: services.load_actor(db, people[key]) for key in ("patient", "other_patient")}
    gus = services.load_actor(
        db, db.exec(select(Person).where(Person.email == "gus@example.org")).one()
    )
    timebank.set_role(db, "riverside", people["other_patient"].id, "Oli", "coordinator")
    oli = actors["other_patient"]
    accounts = {}
    for name, actor in (("pat", actors["patient"]), ("gus", gus)):
        asked = timebank.ask_to_join(
            db, actor, "riverside", {"display_name": name.title(), "area": "Riverside"}, bank
        )
        accounts[name] = timebank.decide_request(db, oli, "riverside", asked.id, True, 1)
    pending = timebank.ask_to_join(
        db,
        services.load_actor(db, people["admin"]),
        "riverside",
        {"display_name": "Alex", "area": "Northfield"},
        bank,
    )
    nan = timebank.add_member_without_app(
        db, oli, "riverside", {"display_name": "Nan", "area": "Riverside"}, bank
    )
    form = {"description": "Happy to", "category": "company", "area": "Riverside"}
    listings = {
        name: timebank.create_listing(
            db,
            actor,
            "riverside",
            {**form, "kind": "offer", "title": f"Chat with {name}"},
            bank,
            today,
        )
        for name, actor in (("pat", actors["patient"]), ("gus", gus))
    }

    def exchange(by, listing, hours="1"):
        return exchanges.propose(
            db,
            by,
            "riverside",
            listing.id,
            {"hours": hours, "happens_on": today.isoformat(), "key": exchanges.new_key()},
            today,
        )

    agreed = exchange(actors["patient"], listings["gus"])
    exchanges.answer(db, gus, "riverside", agreed.id, True, today)
    proposal = exchange(gus, listings["pat"])
    waiting = exchange(gus, listings["pat"], "11")
    disputed = exchange(actors["patient"], listings["gus"])
    done = exchange(actors["patient"], listings["gus"])
    for made, pat_says in ((disputed, "2"), (done, "1")):
        exchanges.answer(db, gus, "riverside", made.id, True, today)
        exchanges.confirm(db, gus, "riverside", made.id, "1", today)
        exchanges.confirm(db, actors["patient"], "riverside", made.id, pat_says, today)
    return {
        "today": today.isoformat(),
        "gus_listing_id": listings["gus"].id,
        "pat_listing_id": listings["pat"].id,
        "gus_member_id": accounts["gus"].id,
        "pat_member_id": accounts["pat"].id,
        "nan_member_id": nan.id,
        "tb_pending_id": pending.id,
        "tb_exchange_id": agreed.id,
        "tb_proposal_id": proposal.id,
        "tb_waiting_id": waiting.id,
        "tb_disputed_id": disputed.id,
        "tb_done_id": done.id,
    }


def _group_conversations(db: Session, people: dict) -> dict[str, int]:
    """A thread in each group: Gus writes in Pat's group (Pat wrote too); in Oli's group Pat
    has a post that Oli hid and Pat asked about, and Gus a reported post."""
    from webapp.groups import checkins, moderation, threads
    from webapp.groups import services as groups
    from webapp.groups.models import Membership, ModAction, Report

    gus = services.load_actor(db, add_person(db, "Gus Hale", "gus@example.org"))
    groups.set_display_name(db, gus, "Gus H")
    ivy = services.load_actor(db, add_person(db, "Ivy Noor", "ivy@example.org"))
    groups.set_display_name(db, ivy, "Ivy N")  # in no group: one to invite
    pat = services.load_actor(db, people["patient"])
    oli = services.load_actor(db, people["other_patient"])
    groups.set_role(db, "living-with-diabetes", "gus@example.org", "member")
    groups.set_role(db, "breathing-space", "gus@example.org", "member")
    groups.set_role(db, "breathing-space", "pat@example.org", "member")
    db.exec(update(Membership).values(posts_approved=threads.NEW_MEMBER_POSTS))
    db.commit()
    first = threads.start_thread(db, gus, "living-with-diabetes", "Snacks", "Nuts help", "g1")
    own = threads.reply(db, pat, first.thread_id, "Apples for me", "p1")
    b_first = threads.start_thread(db, gus, "breathing-space", "Pacing", "Slowly does it", "g2")
    moderation.report(db, pat, b_first.id, "spam", "")
    hidden = threads.reply(db, pat, b_first.thread_id, "Try my shop", "p2")
    moderation.hide_post(db, oli, "breathing-space", hidden.id, "Advertising")
    pat_action = db.exec(select(ModAction).where(ModAction.post_id == hidden.id)).one()
    extra = threads.reply(db, gus, b_first.thread_id, "Buy now", "g3")
    moderation.hide_post(db, oli, "breathing-space", extra.id, "Advertising")
    action = db.exec(select(ModAction).where(ModAction.post_id == extra.id)).one()
    appeal = moderation.appeal(db, gus, "breathing-space", action.id, "It was a joke")
    check_in, _sent = checkins.send_check_in(db, oli, "breathing-space", hidden.id, "Hello Pat")
    report = db.exec(select(Report).where(Report.post_id == b_first.id)).one()
    gus_member = db.exec(
        select(Membership).where(
            Membership.person_id == gus.id, Membership.group_id == report.group_id
        )
    ).one()
    return {
        "thread_id": first.thread_id,
        "post_id": first.id,
        "own_post_id": own.id,
        "b_thread_id": b_first.thread_id,
        "b_post_id": b_first.id,
        "b_report_id": report.id,
        "b_member_id": gus_member.id,
        "b_pat_action_id": pat_action.id,
        "b_appeal_id": appeal.id,
        "b_check_in_id": check_in.id,
    }


def _answer(response) -> str:
    """Classify a response as the matrix does."""
    if response.status_code in (302, 303) and "/account/signin" in response.headers["Location"]:
        return SIGNIN
    if response.status_code == 401:  # the passkey script's "sign in again"
        return SIGNIN
    if response.status_code == 403 and b"permission to help" in response.data:
        return LAPSED
    if response.status_code < 400:
        return OK
    return str(response.status_code)


_WORLDS = Worlds(_arrange)


worlds = module_fixture(
    _WORLDS, "Each role's world, built once per process and put back whenever a case changed it."
)


# Cases are grouped by role (the module-scoped parameter), so a world serves a run of cases.
@pytest.mark.parametrize("role", ROLES, scope="module")
@pytest.mark.parametrize("route", sorted(MATRIX))
def test_route_answers_each_role_as_declared(worlds, route, role):
    ctx, client = worlds.enter(role)
    answer, status = _ask(route, role, ctx, client)
    entry = MATRIX[route]
    expected = entry.expect[role] if role != "carer_lapsed" else _lapsed_answer(route, entry)
    assert answer == expected, (route, role, status)


def _ask(route: str, role: str, ctx: dict, client, spoil=lambda value: value) -> tuple[str, int]:
    """Send the route's request as the role (each form value passed through `spoil`), and
    return the answer as the matrix names it, with the status."""
    entry = MATRIX[route]
    method = route.split()[0]
    path = entry.path(ctx)
    if method == "GET":
        response = client.get(path)
    elif entry.json:
        body = entry.data(ctx) if callable(entry.data) else entry.data
        headers = {"X-CSRFToken": ctx["csrf"]} if ctx["csrf"] else {}
        response = client.json(path, body, headers=headers)
    else:
        data = {
            key: spoil(value)
            for key, value in (
                (entry.data(ctx) if callable(entry.data) else entry.data) or {}
            ).items()
        }
        if ctx["csrf"]:
            data["csrf_token"] = ctx["csrf"]
        if role in ACTING:  # the page a carer's form came from names the person's record
            data["record"] = str(ctx["patient_id"])
        response = client.form(path, data)
    response.close()
    answer = _answer(response)
    # A carer whose permission ended is sent to the carers page, which says so.
    sent_to_carers = response.headers.get("Location", "").endswith("/carers")
    if role == "carer_lapsed" and response.status_code == 303 and sent_to_carers:
        answer = LAPSED
    return answer, response.status_code


# Forms that the people allowed to use them fill in, each as the first role allowed.
FILLED_FORMS = {
    route: next(role for role in ROLES if entry.expect[role] == OK)
    for route, entry in MATRIX.items()
    if route.startswith("POST")
    and entry.data
    and not entry.json
    and any(answer == OK for answer in entry.expect.values())
}


@pytest.mark.parametrize("route", sorted(FILLED_FORMS))
def test_control_characters_in_any_field_change_no_answer(worlds, route):
    """NUL, other control characters and direction overrides typed into any field are taken
    out before a route sees them: the answer is the one the clean form gets."""
    role = FILLED_FORMS[route]
    ctx, client = worlds.enter(role)
    answer, status = _ask(route, role, ctx, client, spoil=lambda value: f"\x00{value}\u202e\x1b")
    assert answer == OK, (route, role, status)


def _lapsed_answer(route: str, entry: Entry) -> str:
    """A carer acting under a stopped permission is refused everything, but may still go to
    the carers page and sign out (then answered as a carer who is not acting)."""
    if route.split()[1] in LAPSE_ALLOWED:
        return entry.expect["carer_idle"]
    return LAPSED


# The worlds are shared between cases: these prove that nothing one case does reaches the next.
def test_a_goal_made_by_one_case_is_gone_in_the_next(worlds):
    ctx, client = worlds.enter("patient")
    made = client.form("/goals", {"text": "Made by the case before", "csrf_token": ctx["csrf"]})
    assert made.status_code == 303
    assert "Made by the case before" in client.get("/goals").get_data(as_text=True)
    _ctx, client = worlds.enter("patient")
    page = client.get("/goals").get_data(as_text=True)
    assert "Made by the case before" not in page
    assert "Walk to the shop" in page  # the world itself is whole


def test_a_get_that_writes_is_put_back_too(worlds):
    from webapp.audit import AuditEvent

    def downloads() -> int:
        with Session(worlds.app.extensions["db_engine"]) as db:
            return len(
                db.exec(select(AuditEvent).where(AuditEvent.action == "rights.download")).all()
            )

    _ctx, client = worlds.enter("patient")
    before = downloads()
    assert client.get("/account/my-data/everything.json").status_code == 200
    assert downloads() == before + 1 and worlds.dirty
    worlds.enter("patient")
    assert downloads() == before


def test_signing_out_in_one_case_leaves_the_next_signed_in(worlds):
    ctx, client = worlds.enter("clinician")
    client.form("/account/signout", {"csrf_token": ctx["csrf"]})
    assert "/account/signin" in client.get("/account").headers["Location"]
    _ctx, client = worlds.enter("clinician")
    assert client.get("/account").status_code == 200


def test_a_case_for_another_role_or_emptied_tables_bring_the_world_back(worlds):
    from tests.conftest import empty_tables

    # Cas acts for Pat with the one scope the role names: the world differs by role.
    _ctx, client = worlds.enter("carer_results")
    assert client.get("/goals").status_code == 404
    _ctx, client = worlds.enter("carer_goals")
    assert client.get("/goals").status_code == 200
    empty_tables(worlds.app)
    _ctx, client = worlds.enter("patient")
    assert "Walk to the shop" in client.get("/goals").get_data(as_text=True)
