"""axe-core finds no violations on any page of the app, in every state a person can see.

Each case also leaves screenshots at 360 px and 1280 px in test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.browser.conftest import LiveServer, axe_violations, screenshot
from tests.conftest import add_person
from webapp import demo
from webapp.accounts import services
from webapp.accounts.models import Practice, Role
from webapp.reviews import services as reviews


def _people(server: LiveServer) -> dict:
    """A practice with a patient and a clinician, and an invitation."""
    with (
        server.app.app_context(),
        Session(server.app.extensions["db_engine"], expire_on_commit=False) as db,
    ):
        practice = Practice(name="Riverside Health Centre")
        db.add(practice)
        db.commit()
        patient = add_person(db, "Pat Morgan", "pat@example.org", (practice, Role.PATIENT))
        clinician = add_person(db, "Priya Shah", "priya@example.org", (practice, Role.CLINICIAN))
        _inv, token, code = services.create_invitation(db, None, practice.id, "Jordan Lee")
        review = reviews.create_review(
            db,
            services.load_actor(db, clinician),
            practice.id,
            patient.id,
            dt.datetime.now(dt.UTC) + dt.timedelta(days=9),
            clinician.id,
        )
        # Five years of results, released, with one held back (as in the demo).
        demo._add_history(db, practice.id, patient.id, review, random.Random(7))
        db.commit()
    return {
        "review": review,
        "practice": practice,
        "patient": patient,
        "clinician": clinician,
        "token": token,
        "code": code,
    }


def _sign_in_by_link(server: LiveServer, page: Page, email: str) -> None:
    """Sign in through the email link, as a person would."""
    page.goto(server.url + "/account/signin")
    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = re.search(
        r"(http://localhost:\d+/account/signin/link/\S+)", server.outbox()[-1].get_content()
    ).group(1)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()


def welcome(server, page, ctx):
    page.goto(server.url + "/")


def signin(server, page, ctx):
    page.goto(server.url + "/account/signin")


def signin_error(server, page, ctx):
    page.goto(server.url + "/account/signin")
    page.get_by_label("Your email address").fill("not-an-address")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def link_sent(server, page, ctx):
    page.goto(server.url + "/account/signin")
    page.get_by_label("Your email address").fill("pat@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


def link_expired(server, page, ctx):
    page.goto(server.url + "/account/signin/link/not-a-real-link")


def join_form(server, page, ctx):
    page.goto(server.url + "/account/join")


def join_error(server, page, ctx):
    page.goto(server.url + "/account/join")
    page.get_by_label("Invitation code").fill("WRONG")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def join_welcome(server, page, ctx):
    page.goto(f"{server.url}/account/join/{ctx['token']}")


def join_email_error(server, page, ctx):
    page.goto(f"{server.url}/account/join/{ctx['token']}")
    page.get_by_label("Your email address").fill("nope")
    page.get_by_role("button", name="Email me a link to join").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def join_email_confirm(server, page, ctx):
    page.goto(f"{server.url}/account/join/{ctx['token']}")
    page.get_by_label("Your email address").fill("jordan@example.org")
    page.get_by_role("button", name="Email me a link to join").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = re.search(
        r"(http://localhost:\d+/account/join/email/\S+)", server.outbox()[-1].get_content()
    ).group(1)
    page.goto(link)
    expect(page.get_by_role("button", name="Join Coproduce")).to_be_visible()


def recover(server, page, ctx):
    page.goto(server.url + "/account/recover")


def recover_error(server, page, ctx):
    page.goto(server.url + "/account/recover")
    page.get_by_label("Recovery code").fill("ABCD-EFGH-JKMN-PQRS")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def patient_home(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")


def account(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name="Your account", exact=True).click()
    expect(page.get_by_role("heading", name="Your passkeys")).to_be_visible()


def recovery_codes(server, page, ctx):
    account(server, page, ctx)
    page.get_by_role("button", name="Make recovery codes").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()


def staff_home(server, page, ctx):
    _sign_in_by_link(server, page, "priya@example.org")


def invitations(server, page, ctx):
    _sign_in_by_link(server, page, "priya@example.org")
    page.get_by_role("link", name="Invite patients").first.click()
    expect(page.get_by_role("heading", name="Invite a patient")).to_be_visible()


def invitation_created(server, page, ctx):
    invitations(server, page, ctx)
    page.get_by_label("Patient's name").fill("Sam Hill")
    page.get_by_label("Patient's email address (optional)").fill("sam@example.org")
    page.get_by_role("button", name="Create invitation").click()
    expect(page.get_by_role("heading", name="Invitation for Sam Hill")).to_be_visible()


def invitation_error(server, page, ctx):
    invitations(server, page, ctx)
    page.get_by_label("Patient's email address (optional)").fill("nope")
    page.get_by_role("button", name="Create invitation").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def reviews_page(server, page, ctx):
    _sign_in_by_link(server, page, "priya@example.org")
    page.get_by_role("link", name="Reviews").first.click()
    page.get_by_label("Find a patient").fill("pat")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("link", name="Plan a review for Pat Morgan")).to_be_visible()


def review_form(server, page, ctx):
    reviews_page(server, page, ctx)
    page.get_by_role("link", name="Plan a review for Pat Morgan").click()
    expect(page.get_by_role("heading", name="Plan a review for Pat Morgan")).to_be_visible()


def review_form_error(server, page, ctx):
    review_form(server, page, ctx)
    page.get_by_role("button", name="Plan the review").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def my_results(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name="My results").first.click()
    expect(page.get_by_role("heading", name="HbA1c", exact=True)).to_be_visible()


def my_results_table(server, page, ctx):
    my_results(server, page, ctx)
    page.get_by_text("Latest 5 readings").first.click()
    expect(page.get_by_role("table").first).to_be_visible()


def explanation(server, page, ctx):
    my_results(server, page, ctx)
    page.get_by_role("link", name="What HbA1c means").click()
    expect(page.get_by_role("heading", name="What your number means")).to_be_visible()


def results_letter(server, page, ctx):
    my_results(server, page, ctx)
    page.get_by_role("link", name="My results letter (to print)").click()
    expect(page.get_by_role("heading", name="Your results before your review")).to_be_visible()
    expect(page.get_by_role("button", name="Print this letter")).to_be_visible()


def notifications(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()


def staff_results(server, page, ctx):
    _sign_in_by_link(server, page, "priya@example.org")
    page.goto(f"{server.url}/results/reviews/{ctx['review'].id}")
    expect(page.get_by_role("heading", name="Results for Pat Morgan")).to_be_visible()


def staff_results_error(server, page, ctx):
    staff_results(server, page, ctx)
    page.get_by_label("Test").first.select_option("hba1c")
    page.get_by_label("Value").first.fill("-4")
    page.get_by_label("Date taken").first.fill("2026-10-01")
    page.get_by_role("button", name="Add these results").click()
    expect(page.get_by_role("heading", name="Nothing was imported")).to_be_visible()


def practice_import(server, page, ctx):
    _sign_in_by_link(server, page, "priya@example.org")
    page.goto(f"{server.url}/results/practices/{ctx['practice'].id}/import")
    expect(page.get_by_role("heading", name="Import results")).to_be_visible()


def _seed_planning(server, ctx, answers: dict) -> int:
    """Give Pat a part-done "Preparing for my review", items to share and a crisis plan."""
    import json

    from webapp.planning.models import AgendaItem, Conversation, CrisisPlan, Goal

    flow = server.app.extensions["content"].flows["prepare-review"]
    patient_id, review_id = ctx["patient"].id, ctx["review"].id
    with Session(server.app.extensions["db_engine"], expire_on_commit=False) as db:
        chat = Conversation(
            patient_id=patient_id,
            flow=flow.slug,
            flow_version=flow.version,
            answers=json.dumps(answers),
        )
        db.add(chat)
        db.add(AgendaItem(patient_id=patient_id, review_id=review_id, kind="agenda", text="Sleep"))
        db.add(
            AgendaItem(
                patient_id=patient_id,
                review_id=review_id,
                kind="question",
                text="Can I see the dietitian?",
                shared=True,
            )
        )
        db.add(
            Goal(
                patient_id=patient_id,
                review_id=review_id,
                text="Walk to the shop",
                why="To keep up with the grandchildren",
                importance=8,
                confidence=6,
            )
        )
        db.add(CrisisPlan(patient_id=patient_id, early_signs="Not sleeping", helps="Music"))
        db.commit()
        return chat.id


def planning_index(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name="Prepare", exact=True).click()
    expect(page.get_by_role("heading", name="Prepare and check in")).to_be_visible()


def decision_step(server, page, ctx):
    chat = _seed_planning(
        server,
        ctx,
        {
            "matters": "__skipped__",
            "going": 7,
            "going-well": "__skipped__",
            "hba1c": "yes",
            "hba1c-question": "Why?",
        },
    )
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(f"{server.url}/planning/conversations/{chat}")
    expect(page.get_by_role("button", name="Not sure yet")).to_be_visible()


def planning_summary(server, page, ctx):
    _seed_planning(server, ctx, {})
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(f"{server.url}/planning/summary")
    expect(page.get_by_role("heading", name="My draft goals")).to_be_visible()


def planning_summary_error(server, page, ctx):
    planning_summary(server, page, ctx)
    page.get_by_text(re.compile("^Edit")).nth(2).click()
    page.get_by_label("How important, 0 to 10").fill("12")
    page.get_by_role("button", name=re.compile("^Save")).last.click()
    expect(page.get_by_text("Choose how important it is from 0 to 10")).to_be_visible()


def crisis_plan(server, page, ctx):
    _seed_planning(server, ctx, {})
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(f"{server.url}/planning/crisis-plan")
    expect(page.get_by_role("definition").filter(has_text="Not sleeping")).to_be_visible()


def crisis_plan_empty(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(f"{server.url}/planning/crisis-plan")
    expect(page.get_by_role("button", name="Write my plan")).to_be_visible()


def _seed_goal(server, ctx) -> int:
    from webapp.goals.models import GoalAction
    from webapp.planning.models import Goal

    with Session(server.app.extensions["db_engine"], expire_on_commit=False) as db:
        goal = Goal(patient_id=ctx["patient"].id, text="Walk to the shop", why="My knees")
        db.add(goal)
        db.commit()
        db.add(
            GoalAction(goal_id=goal.id, text="Walking group", owner="community", who="Riverside")
        )
        db.commit()
        return goal.id


def goals_index(server, page, ctx):
    _seed_goal(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name="Goals", exact=True).click()
    expect(page.get_by_role("heading", name="My goals")).to_be_visible()


def goals_index_error(server, page, ctx):
    goals_index(server, page, ctx)
    page.get_by_text("Add a goal").click()
    page.get_by_role("button", name="Save my goal").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def goal_page(server, page, ctx):
    goal = _seed_goal(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(f"{server.url}/goals/{goal}")
    expect(page.get_by_role("heading", name="Actions")).to_be_visible()


def _seed_plan(server, ctx) -> int:
    """A plan agreed at a past review (one goal looked back on, with progress and a
    reminder), and a shared draft the clinician has agreed for the coming review."""
    from webapp.goals.models import CarePlan, GoalAction, GoalReminder, GoalScore, ProgressEntry
    from webapp.planning.models import Goal
    from webapp.reviews.models import Review

    now = dt.datetime.now(dt.UTC)
    patient, clinician = ctx["patient"].id, ctx["clinician"].id
    with Session(server.app.extensions["db_engine"], expire_on_commit=False) as db:
        earlier = Review(
            practice_id=ctx["practice"].id,
            patient_id=patient,
            clinician_id=clinician,
            scheduled_at=now - dt.timedelta(days=120),
            status="plan_agreed",
        )
        db.add(earlier)
        db.flush()
        agreed = dict(
            patient_id=patient,
            review_id=earlier.id,
            shared=True,
            status="agreed",
            person_agreed_at=now - dt.timedelta(days=120),
            clinician_agreed_at=now - dt.timedelta(days=120),
            agreed_by_id=clinician,
        )
        walk = Goal(text="Walk to the shop every weekday", why="My knees", **agreed)
        fruit = Goal(text="Fruit instead of biscuits", if_then="If I am hungry, fruit", **agreed)
        waiting = Goal(
            patient_id=patient,
            review_id=ctx["review"].id,
            text="Sleep by eleven",
            shared=True,
            clinician_agreed_at=now,
            agreed_by_id=clinician,
        )
        db.add_all([walk, fruit, waiting])
        db.add(
            CarePlan(
                review_id=earlier.id,
                patient_id=patient,
                clinician_id=clinician,
                note="Look again in four months.",
                note_by_id=clinician,
                agreed_at=now - dt.timedelta(days=120),
            )
        )
        db.flush()
        db.add_all(
            [
                GoalAction(
                    goal_id=walk.id, text="Walking group", owner="community", who="Riverside"
                ),
                GoalAction(goal_id=walk.id, text="Check knees", owner="care_team"),
                GoalScore(
                    goal_id=walk.id,
                    patient_id=patient,
                    side="person",
                    score=1,
                    comment="Most days",
                    for_review_id=ctx["review"].id,
                ),
                GoalReminder(
                    goal_id=walk.id,
                    patient_id=patient,
                    days="024",
                    at=dt.time(8, 30),
                    next_due_at=now + dt.timedelta(days=1),
                ),
            ]
        )
        db.add_all(
            [
                ProgressEntry(
                    goal_id=walk.id,
                    patient_id=patient,
                    outcome=("did", "partly", "not_this_time")[day % 3],
                    key=f"a11y-{day}",
                    logged_at=now - dt.timedelta(days=day),
                    measure="weight" if day % 7 == 0 else "",
                    value=f"{90 - day / 10:.1f} kg" if day % 7 == 0 else "",
                )
                for day in range(0, 50, 2)
            ]
        )
        db.commit()
        return walk.id


def goal_with_progress(server, page, ctx):
    goal = _seed_plan(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(f"{server.url}/goals/{goal}")
    page.get_by_text("Show as a table").click()
    page.get_by_text("Choose reminders").click()
    expect(page.get_by_role("img", name="Entries per week")).to_be_visible()


def goal_reminder_error(server, page, ctx):
    goal = _seed_plan(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(f"{server.url}/goals/{goal}")
    page.get_by_text("Choose reminders").click()
    for day in ("Monday", "Wednesday", "Friday"):
        page.get_by_label(day).uncheck()
    page.get_by_role("button", name="Save reminders").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def plan_mine(server, page, ctx):
    _seed_plan(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(server.url + "/plan")
    expect(page.get_by_role("heading", name="Goals to agree at your review")).to_be_visible()


def plan_print(server, page, ctx):
    _seed_plan(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(server.url + "/plan/print")
    expect(page.get_by_role("heading", name="My care and support plan")).to_be_visible()


def look_back(server, page, ctx):
    _seed_plan(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(server.url + "/plan/look-back")
    expect(page.get_by_role("heading", name="Looking back at my plan")).to_be_visible()


def look_back_error(server, page, ctx):
    look_back(server, page, ctx)
    page.get_by_role("button", name=re.compile("^Save.*Fruit instead")).click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def plan_review(server, page, ctx):
    _seed_plan(server, ctx)
    _sign_in_by_link(server, page, "priya@example.org")
    page.goto(f"{server.url}/reviews/{ctx['review'].id}/plan")
    page.get_by_text("Add your score").click()
    expect(page.get_by_role("heading", name="Looking back at the last plan")).to_be_visible()


def my_data(server, page, ctx):
    _seed_plan(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name="Your account", exact=True).click()
    page.get_by_role("link", name="My data", exact=True).click()
    expect(page.get_by_role("heading", name="Who has seen my record")).to_be_visible()
    page.get_by_role("link", name="Include what I did").click()
    expect(page.get_by_text("signed in", exact=False).first).to_be_visible()


def care_team_patient(server, page, ctx):
    _seed_plan(server, ctx)
    _sign_in_by_link(server, page, "priya@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews").click()
    page.get_by_role("link", name="Pat Morgan", exact=True).click()
    expect(page.get_by_role("heading", name="Shared goals and progress")).to_be_visible()


def outcomes_page(server, page, ctx):
    _seed_plan(server, ctx)
    _sign_in_by_link(server, page, "priya@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", name="By quarter")).to_be_visible()


def delete_account(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(server.url + "/account/delete")
    expect(page.get_by_role("heading", name="Delete my account")).to_be_visible()


def _carer_for_pat(server, ctx, scopes=("goals", "results")) -> int:
    """Sam helps Pat with the scopes; return the grant's id."""
    from webapp.carers import services as carers

    with (
        server.app.test_request_context(),
        Session(server.app.extensions["db_engine"], expire_on_commit=False) as db,
    ):
        sam = add_person(db, "Sam Lee", "sam@example.org")
        pat = services.load_actor(db, ctx["patient"])
        grant, token, _code = carers.invite_carer(db, pat, pat.id, {"name": "Sam"}, list(scopes))
        carers.accept(db, services.load_actor(db, sam), token=token)
        return grant.id


def carers_index_error(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(server.url + "/carers")
    page.get_by_label("Last day they may help (optional)").fill("2020-01-01")
    page.get_by_role("button", name="Create the invitation").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def carer_change(server, page, ctx):
    grant_id = _carer_for_pat(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(f"{server.url}/carers/{grant_id}")
    expect(page.get_by_role("heading", name="What Sam Lee can do")).to_be_visible()


def carer_code(server, page, ctx):
    page.goto(server.url + "/carers/code")
    page.get_by_label("Code").fill("nope")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def carer_acting_results(server, page, ctx):
    _carer_for_pat(server, ctx)
    _sign_in_by_link(server, page, "sam@example.org")
    page.get_by_role("button", name="Help Pat Morgan").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Results").click()
    expect(page.get_by_role("region", name="Whose record")).to_be_visible()


def _groups(server, ctx) -> None:
    from webapp.content import get_content
    from webapp.groups import services as groups

    with (
        server.app.test_request_context(),
        Session(server.app.extensions["db_engine"], expire_on_commit=False) as db,
    ):
        groups.sync_groups(db, get_content().groups)
        pat = services.load_actor(db, ctx["patient"])
        groups.set_display_name(db, pat, "Pat M")
        groups.set_role(db, "breathing-space", "pat@example.org", "supporter")
        asker = add_person(db, "Sam Lee", "sam@example.org")
        groups.set_display_name(db, services.load_actor(db, asker), "Sam L")
        groups.join(db, services.load_actor(db, asker), "breathing-space")


def groups_directory(server, page, ctx):
    _groups(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name="Find a group").click()
    expect(page.get_by_role("heading", name="Peer-support groups")).to_be_visible()


def group_page(server, page, ctx):
    _groups(server, ctx)
    page.goto(server.url + "/groups/living-with-diabetes")
    expect(page.get_by_role("heading", name="Guidelines")).to_be_visible()


def group_profile_error(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(server.url + "/groups/profile")
    page.get_by_label("Display name").fill("<b>x</b>")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()


def group_requests(server, page, ctx):
    _groups(server, ctx)
    _sign_in_by_link(server, page, "pat@example.org")
    page.goto(server.url + "/groups/breathing-space/requests")
    expect(page.get_by_role("heading", name="Sam L")).to_be_visible()


def about(server, page, ctx):
    page.goto(server.url + "/pages/about")


def help_page(server, page, ctx):
    page.goto(server.url + "/pages/help-signing-in")


def not_found(server, page, ctx):
    page.goto(server.url + "/no-such-page")


def offline(server, page, ctx):
    page.goto(server.url + "/offline")


CASES: list[Callable] = [
    welcome,
    signin,
    signin_error,
    link_sent,
    link_expired,
    join_form,
    join_error,
    join_welcome,
    join_email_error,
    join_email_confirm,
    recover,
    recover_error,
    patient_home,
    account,
    recovery_codes,
    staff_home,
    invitations,
    invitation_created,
    invitation_error,
    reviews_page,
    review_form,
    review_form_error,
    my_results,
    my_results_table,
    explanation,
    results_letter,
    notifications,
    staff_results,
    staff_results_error,
    practice_import,
    planning_index,
    decision_step,
    planning_summary,
    planning_summary_error,
    crisis_plan,
    crisis_plan_empty,
    goals_index,
    goals_index_error,
    goal_page,
    goal_with_progress,
    goal_reminder_error,
    plan_mine,
    plan_print,
    look_back,
    look_back_error,
    plan_review,
    my_data,
    care_team_patient,
    outcomes_page,
    delete_account,
    carers_index_error,
    carer_change,
    carer_code,
    carer_acting_results,
    groups_directory,
    group_page,
    group_profile_error,
    group_requests,
    about,
    help_page,
    not_found,
    offline,
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_no_accessibility_violations(server: LiveServer, page: Page, case: Callable):
    ctx = _people(server)
    case(server, page, ctx)
    page.wait_for_load_state("networkidle")
    violations = axe_violations(page)
    screenshot(page, case.__name__)
    assert violations == [], violations


def test_errors_are_announced_and_focused(server: LiveServer, page: Page):
    _people(server)
    join_error(server, page, {})
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("An invitation code has 8 letters and numbers")
    expect(page.get_by_label("Invitation code")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Invitation code")).to_have_value("WRONG")


def test_usable_at_320_px_and_200_percent_zoom(server: LiveServer, page: Page):
    ctx = _people(server)
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ["/", "/account/signin", f"/account/join/{ctx['token']}"]:
        page.goto(server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth <= 320"), path
    page.set_viewport_size({"width": 640, "height": 800})
    page.evaluate("document.body.style.zoom = '2'")  # evaluate is not subject to the CSP
    assert page.evaluate("document.documentElement.scrollWidth <= 640 * 1.01")


def test_axe_finds_a_planted_problem(server: LiveServer, page: Page):
    page.goto(server.url + "/")
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    assert "image-alt" in [v["id"] for v in axe_violations(page)]


def _check_in(server, page, ctx):
    _sign_in_by_link(server, page, "pat@example.org")
    page.get_by_role("link", name="Prepare", exact=True).click()
    page.get_by_role("button", name="Start A quick check-in").click()
    expect(page.get_by_role("slider")).to_be_visible()


def test_check_in_conversation_is_accessible_and_keeps_focus(server: LiveServer, page: Page):
    ctx = _people(server)
    _check_in(server, page, ctx)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send").click()
    reply = page.get_by_role("textbox")
    expect(reply).to_be_focused()  # the next question's answer box takes focus
    reply.fill("My walks by the river")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("button", name="Yes, I think so")).to_be_focused()
    assert axe_violations(page) == []
    screenshot(page, "check_in")


def test_check_in_works_with_javascript_off(server: LiveServer, browser):
    ctx = _people(server)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    _check_in(server, page, ctx)
    page.get_by_role("button", name="Send").click()  # the ruler's middle value, 5
    expect(page.get_by_text("5 / 10")).to_be_visible()
    page.get_by_role("textbox").fill("My walks")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("button", name="Not right now").click()
    page.get_by_role("button", name="Skip").click()
    expect(page.get_by_text("That is the end of this conversation.")).to_be_visible()
    screenshot(page, "check_in_no_js")
    context.close()
