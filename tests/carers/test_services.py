"""Carers without HTTP: invitations and their bad cases, acting under a grant read afresh,
only the scopes and goals the person allows, and everything said as by the carer for them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from sqlmodel import select
from werkzeug.exceptions import NotFound

from tests.conftest import add_person
from webapp.access import can
from webapp.accounts.models import AuthSession
from webapp.accounts.services import load_actor, load_session, start_session
from webapp.accounts.tokens import hash_code, hash_token
from webapp.carers import services as carers
from webapp.carers.models import CarerGrant
from webapp.carers.services import CarerError
from webapp.db import utcnow
from webapp.formatting import local_date
from webapp.goals import services as goals
from webapp.planning.models import Goal
from webapp.rights import services as rights

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def pat(ctx, db, patient):
    return load_actor(db, patient)


@pytest.fixture
def sam_person(db):
    return add_person(db, "Sam Lee", "sam@example.org")


def invite(db, pat, scopes=("goals",), **form):
    return carers.invite_carer(db, pat, pat.id, {"name": "Sam Lee", **form}, list(scopes))


def acting_as(db, person, grant):
    """Sign the carer in and act for the person under the grant; return the session's actor."""
    token = start_session(db, person, "test")
    actor = load_session(db, token)
    carers.start_acting(db, actor, grant.id)
    return token, load_session(db, token)


def test_an_invitation_keeps_only_hashes_and_names_its_scopes(db, pat):
    grant, token, code = invite(db, pat, ("results", "goals"), ends_on="2027-03-31")
    assert grant.token_hash == hash_token(token) and grant.code_hash == hash_code(code)
    assert token not in grant.token_hash and carers.scopes_of(grant) == ["results", "goals"]
    assert grant.ends_on == dt.date(2027, 3, 31) and carers.status_of(grant) == "waiting"


@pytest.mark.parametrize(
    ("form", "scopes", "field", "words"),
    [
        ({"name": ""}, ["goals"], "name", "Enter a name"),
        ({}, [], "scopes", "at least one"),
        ({}, ["goals", "groups"], "scopes", "Choose from the list"),
        ({"ends_on": "next week"}, ["goals"], "ends_on", "as a date"),
        ({"ends_on": "2020-01-01"}, ["goals"], "ends_on", "has passed"),
        ({"ends_on": "2040-01-01"}, ["goals"], "ends_on", "within five years"),
    ],
)
def test_bad_invitations_say_what_to_change(db, pat, form, scopes, field, words):
    with pytest.raises(CarerError) as error:
        carers.invite_carer(db, pat, pat.id, {"name": "Sam", **form}, scopes)
    assert words in error.value.problems[field]
    assert db.exec(select(CarerGrant)).all() == []


def test_a_person_may_keep_ten_invitations_waiting(db, pat):
    for _ in range(carers.WAITING_LIMIT):
        invite(db, pat)
    with pytest.raises(CarerError, match="Withdraw one"):
        invite(db, pat)


def test_nobody_invites_carers_for_someone_else(db, pat, sam_person):
    sam = load_actor(db, sam_person)
    with pytest.raises(NotFound):
        carers.invite_carer(db, sam, pat.id, {"name": "Eve"}, ["results"])


def test_the_person_cannot_accept_their_own_invitation(db, pat):
    _grant, token, _code = invite(db, pat)
    with pytest.raises(CarerError, match="one you made"):
        carers.accept(db, pat, token=token)


def test_an_invitation_is_used_once(db, pat, sam_person):
    _grant, token, code = invite(db, pat)
    carers.accept(db, load_actor(db, sam_person), token=token)
    other = load_actor(db, add_person(db, "Eve Ng", "eve@example.org"))
    for how in ({"token": token}, {"code": code}):
        with pytest.raises(CarerError, match="already been used"):
            carers.accept(db, other, **how)


def test_an_expired_or_withdrawn_invitation_is_refused(db, pat, sam_person):
    old, token, _code = invite(db, pat)
    db.exec(
        update(CarerGrant)
        .where(CarerGrant.id == old.id)
        .values(invitation_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    db.commit()
    with pytest.raises(CarerError, match="expired"):
        carers.accept(db, load_actor(db, sam_person), token=token)
    withdrawn, token, _code = invite(db, pat)
    assert carers.stop_grant(db, pat, withdrawn.id)
    with pytest.raises(CarerError, match="withdrawn"):
        carers.accept(db, load_actor(db, sam_person), token=token)


def test_codes_are_checked_before_they_are_looked_up(ctx, db):
    with pytest.raises(CarerError, match="8 letters"):
        carers.find_invitation(db, code="12")
    with pytest.raises(CarerError, match="could not find"):
        carers.find_invitation(db, code="K7PM-X4HT")


def test_a_carer_who_already_helps_is_told(db, pat, sam_person):
    sam = load_actor(db, sam_person)
    _g, first, _c = invite(db, pat)
    carers.accept(db, sam, token=first)
    _g, second, _c = invite(db, pat)
    with pytest.raises(CarerError, match="already help Pat Morgan"):
        carers.accept(db, sam, token=second)


def test_acting_reads_the_grant_afresh_on_every_request(db, pat, sam_person):
    grant, token, _code = invite(db, pat, ("results", "goals"))
    carers.accept(db, load_actor(db, sam_person), token=token)
    session_token, sam = acting_as(db, sam_person, grant)
    assert sam.acting.person_id == pat.id and sam.acting.person_name == "Pat Morgan"
    assert sam.record_id == pat.id and sam.acting.scopes == {"results", "goals"}
    assert can(sam, "goals.own", pat.id) and not can(sam, "planning.own", pat.id)
    # The carer's own record is out of reach while acting; their account is still theirs.
    assert not can(sam, "goals.own", sam.id) and can(sam, "account.manage", sam.id)

    db.refresh(grant)
    carers.change_grant(db, pat, grant.id, {}, ["results"], grant.version)
    sam = load_session(db, session_token)
    assert sam.acting.scopes == {"results"} and not can(sam, "goals.own", pat.id)

    carers.stop_grant(db, pat, grant.id)
    sam = load_session(db, session_token)
    assert sam.acting is None and sam.acting_lapsed
    assert not can(sam, "results.read_own", pat.id)


def test_an_end_date_ends_acting_after_that_day(db, pat, sam_person):
    # The last day is today by the app's clock (a fixed date would have passed by now).
    grant, token, _code = invite(db, pat, ends_on=local_date(utcnow()).isoformat())
    carers.accept(db, load_actor(db, sam_person), token=token)
    session_token, _sam = acting_as(db, sam_person, grant)
    db.exec(update(CarerGrant).where(CarerGrant.id == grant.id).values(ends_on=dt.date(2020, 1, 1)))
    db.commit()
    sam = load_session(db, session_token)
    assert sam.acting is None and sam.acting_lapsed
    with pytest.raises(NotFound):
        carers.start_acting(db, sam, grant.id)


def test_a_change_from_an_old_page_is_refused(db, pat, sam_person):
    grant, _token, _code = invite(db, pat)
    carers.change_grant(db, pat, grant.id, {}, ["results"], 1)
    with pytest.raises(CarerError, match="changed in another window"):
        carers.change_grant(db, pat, grant.id, {}, ["goals"], 1)
    db.refresh(grant)
    assert grant.scopes == "results"


def test_nobody_acts_under_someone_elses_grant(db, pat, sam_person):
    grant, token, _code = invite(db, pat)
    carers.accept(db, load_actor(db, sam_person), token=token)
    eve = add_person(db, "Eve Ng", "eve@example.org")
    actor = load_session(db, start_session(db, eve, "test"))
    with pytest.raises(NotFound):
        carers.start_acting(db, actor, grant.id)


def test_a_carer_sees_shared_goals_and_their_own_never_private_ones(db, pat, sam_person):
    private = goals.create_goal(db, pat, pat.id, {"text": "Private words"}, today=TODAY)
    shared = goals.create_goal(db, pat, pat.id, {"text": "Walk daily"}, today=TODAY)
    shared.shared = True
    db.add(shared)
    db.commit()
    grant, token, _code = invite(db, pat, ("goals",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    written = goals.create_goal(db, sam, pat.id, {"text": "Swim on Fridays"}, today=TODAY)
    assert written.patient_id == pat.id and written.created_by_id == sam.id
    seen = {g.text for g in goals.my_goals(db, sam, pat.id)}
    assert seen == {"Walk daily", "Swim on Fridays"}
    with pytest.raises(NotFound):
        goals.get_goal(db, sam, private.id)
    with pytest.raises(NotFound):
        goals.goal_with_stamp(db, sam, private.id)
    # The person sees everything, each change said as by the carer for them.
    assert {g.text for g in goals.my_goals(db, pat, pat.id)} == {
        "Private words",
        "Walk daily",
        "Swim on Fridays",
    }
    (event,) = goals.history(db, pat, written.id)
    assert event[1] == "Sam Lee for Pat Morgan"
    assert goals.history(db, sam, written.id)[0][1] == "you, for Pat Morgan"


def test_progress_logged_by_a_carer_is_attributed(db, pat, sam_person):
    goal = goals.create_goal(db, pat, pat.id, {"text": "Walk daily"}, today=TODAY)
    goal.shared = True
    db.add(goal)
    db.commit()
    grant, token, _code = invite(db, pat, ("goals",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    entry, new = goals.log_progress(db, sam, goal.id, {"outcome": "did"}, "k1", None)
    assert new and entry.patient_id == pat.id and entry.typed_by_id == sam.id
    names = goals.attributions(db, pat, pat.id, {entry.typed_by_id})
    assert names[sam.id] == "Sam Lee for Pat Morgan"


def test_a_carer_cannot_agree_a_goal_for_the_person(db, pat, sam_person):
    from webapp.goals import plan
    from webapp.goals.services import GoalError

    goal = Goal(patient_id=pat.id, text="Sleep", shared=True, review_id=None)
    db.add(goal)
    db.commit()
    grant, token, _code = invite(db, pat, ("goals",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    with pytest.raises(GoalError) as error:
        plan.agree(db, sam, goal.id, "person", True, goal.version)
    assert "Only Pat Morgan can agree" in error.value.problems["agree"]


def test_the_person_sees_what_their_carer_did(db, pat, sam_person):
    grant, token, _code = invite(db, pat, ("goals",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    carers.record_visit(db, sam, "goals", changed=False)
    carers.record_visit(db, sam, "goals", changed=True)
    found, _more = rights.activity(db, pat, pat.id)
    said = [(a.who, a.role, a.what) for a in found]
    assert ("Sam Lee", "your carer", "looked at your goals and progress") in said
    assert ("Sam Lee", "your carer", "changed your goals or logged progress") in said
    assert ("Sam Lee", "your carer", "accepted your invitation to help you") in said
    assert ("Sam Lee", "your carer", "started helping you") in said


def test_deleting_either_account_ends_the_grant(db, pat, sam_person):
    grant, token, _code = invite(db, pat, ("goals",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    session_token, _sam = acting_as(db, sam_person, grant)
    rights.delete_account(db, pat, pat.id)
    assert db.exec(select(CarerGrant)).all() == []
    sam = load_session(db, session_token)
    assert sam.acting is None
    row = db.exec(select(AuthSession).where(AuthSession.person_id == sam.id)).one()
    assert row.acting_grant_id is None


def test_a_new_carer_gets_an_account_in_the_name_given(db, pat):
    grant, _token, _code = invite(db, pat, ("results",))
    person = carers.accept_as_new_carer(db, grant.id, b"h" * 32)
    db.commit()
    db.refresh(grant)
    assert person.name == "Sam Lee" and grant.carer_id == person.id
    with pytest.raises(CarerError, match="already been used"):
        carers.accept_as_new_carer(db, grant.id, b"i" * 32)


def test_the_persons_download_names_their_carers(db, pat, sam_person):
    from webapp.rights import fhir

    _grant, token, _code = invite(db, pat, ("goals",), ends_on="2027-06-30")
    carers.accept(db, load_actor(db, sam_person), token=token)
    _waiting = invite(db, pat, ("results",))
    bundle = fhir.everything_bundle(db, pat, pat.id)
    (related,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "RelatedPerson"
    ]
    assert related["name"] == [{"text": "Sam Lee"}] and related["active"] is True
    assert related["period"]["end"] == "2027-06-30"
    data = rights.everything(db, pat, pat.id)
    assert [g["carer_name"] for g in data["my_carers"]] == ["Sam Lee", "Sam Lee"]
    assert all("token_hash" not in g and "code_hash" not in g for g in data["my_carers"])


def test_a_carer_holds_only_conversations_within_every_scope_they_touch(db, pat, sam_person):
    from webapp.planning import conversations

    grant, token, _code = invite(db, pat, ("planning",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    slugs = {flow.slug for flow in conversations.flows_for(sam, pat.id)}
    # Preparing for the review writes goals and speaks of results; the unwell plan writes
    # the crisis plan: none of those scopes were given.
    assert "prepare-review" not in slugs and "unwell-plan" not in slugs
    assert "check-in" in slugs
    for slug in ("prepare-review", "unwell-plan", "recovery"):
        with pytest.raises(NotFound):
            conversations.start(db, sam, pat.id, slug)
    assert conversations.start(db, sam, pat.id, "check-in").conversation.patient_id == pat.id


def test_a_conversation_that_made_a_private_goal_is_not_a_carers_to_read(db, pat, sam_person):
    from webapp.planning import conversations

    chat = conversations.start(db, pat, pat.id, "recovery").conversation
    db.add(Goal(patient_id=pat.id, text="My secret goal", conversation_id=chat.id))
    db.commit()
    grant, token, _code = invite(db, pat, ("planning", "goals"))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    with pytest.raises(NotFound):
        conversations.transcript(db, sam, chat.id)
    with pytest.raises(NotFound):
        conversations.start(db, sam, pat.id, "recovery")


def test_plans_and_looking_back_leave_out_goals_made_private(db, pat, sam_person, practice):
    from webapp.goals import lookback, plan
    from webapp.goals.models import CarePlan
    from webapp.reviews.models import Review

    review = Review(
        practice_id=practice.id,
        patient_id=pat.id,
        scheduled_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
    )
    now = dt.datetime.now(dt.UTC)
    # The next review is booked, so there is a review to look back for.
    coming = Review(
        practice_id=practice.id, patient_id=pat.id, scheduled_at=now + dt.timedelta(days=30)
    )
    db.add_all([review, coming])
    db.commit()
    agreed = {"status": "agreed", "person_agreed_at": now, "clinician_agreed_at": now}
    shown = Goal(patient_id=pat.id, review_id=review.id, text="Swim", shared=True, **agreed)
    hidden = Goal(patient_id=pat.id, review_id=review.id, text="Made private", **agreed)
    db.add_all([shown, hidden, CarePlan(review_id=review.id, patient_id=pat.id, agreed_at=now)])
    db.commit()
    grant, token, _code = invite(db, pat, ("goals",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    assert [g.text for g in plan.current_plan(db, sam, pat.id).goals] == ["Swim"]
    assert [g.text for g in lookback.mine(db, sam, pat.id).goals] == ["Swim"]
    assert {g.text for g in plan.current_plan(db, pat, pat.id).goals} == {"Swim", "Made private"}


def test_a_carer_moving_a_goal_keeps_the_persons_order_of_the_rest(db, pat, sam_person):
    texts = ["First", "Private one", "Third"]
    made = [goals.create_goal(db, pat, pat.id, {"text": t}, today=TODAY) for t in texts]
    for goal in (made[0], made[2]):
        goal.shared = True
        db.add(goal)
    db.commit()
    grant, token, _code = invite(db, pat, ("goals",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    goals.move_goal(db, sam, made[2].id, "up")
    order = [g.text for g in goals.my_goals(db, pat, pat.id)]
    assert order == ["Third", "Private one", "First"]
    assert len({g.position for g in goals.my_goals(db, pat, pat.id)}) == 3


def test_words_a_carer_changes_wait_for_the_person_to_share_them(db, pat, sam_person):
    from webapp.planning import summary
    from webapp.planning.models import CrisisPlan

    plan = CrisisPlan(patient_id=pat.id, helps="Music", shared=True)
    goal = goals.create_goal(db, pat, pat.id, {"text": "Walk"}, today=TODAY)
    goal.shared = True
    db.add_all([plan, goal])
    db.commit()
    grant, token, _code = invite(db, pat, ("goals", "crisis", "planning"))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    summary.edit(db, sam, "crisis-plan", plan.id, {"helps": "Quiet", "wishes": "Home"})
    goals.update_goal(db, sam, goal.id, {"text": "Walk daily"}, goal.version, today=TODAY)
    db.refresh(plan)
    db.refresh(goal)
    assert plan.helps == "Quiet" and not plan.shared
    assert goal.text == "Walk daily" and not goal.shared


def test_the_persons_own_decisions_stay_theirs(db, pat, sam_person, practice):
    from webapp.goals import reminders
    from webapp.goals.services import GoalError
    from webapp.planning import summary
    from webapp.reviews.models import Review

    review = Review(
        practice_id=practice.id,
        patient_id=pat.id,
        scheduled_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=9),
    )
    now = dt.datetime.now(dt.UTC)
    agreed = Goal(
        patient_id=pat.id,
        text="Swim",
        shared=True,
        status="agreed",
        person_agreed_at=now,
        clinician_agreed_at=now,
    )
    db.add_all([review, agreed])
    db.commit()
    grant, token, _code = invite(db, pat, ("goals", "planning"))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    with pytest.raises(summary.EditError, match="Only Pat Morgan can tell their care team"):
        summary.ready(db, sam, pat.id)
    with pytest.raises(GoalError):
        goals.set_status(db, sam, agreed.id, "stopped", agreed.version)
    with pytest.raises(GoalError):
        reminders.set_reminder(db, sam, agreed.id, ["0"], "08:30")
    db.refresh(review)
    db.refresh(agreed)
    assert review.prepared_at is None and agreed.status == "agreed"


def test_a_carer_cannot_say_the_person_is_safe(db, pat, sam_person):
    from webapp.planning import conversations
    from webapp.planning.flows import AnswerError

    chat = conversations.start(db, pat, pat.id, "check-in").conversation
    chat.safety_step = "overall"
    db.add(chat)
    db.commit()
    grant, token, _code = invite(db, pat, ("planning",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    with pytest.raises(AnswerError, match="Only Pat Morgan can say they are safe"):
        conversations.safety(db, sam, chat.id, "carry-on")
    db.refresh(chat)
    assert chat.safety_step == "overall"


def test_a_carer_sees_only_the_parts_of_the_list_in_their_scopes(db, pat, sam_person):
    from webapp.planning import summary
    from webapp.planning.models import AgendaItem

    db.add_all(
        [
            AgendaItem(patient_id=pat.id, kind="result", test="hba1c", text="My HbA1c"),
            AgendaItem(patient_id=pat.id, kind="question", text="Low mood"),
        ]
    )
    db.commit()
    grant, token, _code = invite(db, pat, ("planning",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    assert [i.text for i in summary.summary(db, sam, pat.id).items] == ["Low mood"]
    result_item = db.exec(select(AgendaItem).where(AgendaItem.kind == "result")).one()
    with pytest.raises(NotFound):
        summary.edit(db, sam, "item", result_item.id, {"text": "changed"})


def test_a_time_bank_carer_reads_nothing_of_the_health_record(db, pat, sam_person):
    grant, token, _code = invite(db, pat, ("timebank",))
    carers.accept(db, load_actor(db, sam_person), token=token)
    _t, sam = acting_as(db, sam_person, grant)
    for permission in ("reviews.read_own", "results.read_own", "planning.own", "goals.own"):
        assert not can(sam, permission, pat.id), permission
