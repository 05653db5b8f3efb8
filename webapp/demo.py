"""Demo data: a small practice to try the app, and a large one to measure it at scale.

Large data is deterministic (a seeded random generator), so two runs of the benchmark
measure the same rows. Later parts add their own data here (results, posts, ledger).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets

from sqlalchemy import func, insert, select
from sqlmodel import Session

from webapp.accounts.models import Invitation, Person, Practice, PracticeRole, Role
from webapp.accounts.tokens import hash_token
from webapp.conditions.models import Condition
from webapp.content import get_content
from webapp.db import utcnow
from webapp.goals.models import CarePlan, GoalAction, ProgressEntry
from webapp.notifications.models import Notification
from webapp.planning.models import Conversation, Goal, Turn
from webapp.results.models import Result
from webapp.reviews.models import Review, ReviewStatus

PRACTICE_NAME = "Riverside Health Centre"
PEOPLE = [
    # name, email, roles in the practice
    ("Pat Morgan", "pat@example.org", [Role.PATIENT]),
    ("Dr Priya Shah", "priya@example.org", [Role.CLINICIAN]),
    ("Alex Kim", "alex@example.org", [Role.ADMIN, Role.PATIENT]),
    ("Sasha Lee", "sasha@example.org", []),
    ("Cam Ward", "cam@example.org", [Role.COMMISSIONER]),
]
# Who each demo person is, as `flask demo` prints it: every role the app has.
CAST = {
    "pat@example.org": "patient: results released, a review in 9 days, goals and a plan",
    "priya@example.org": "clinician: the reviews worklist, results, agreeing plans",
    "alex@example.org": (
        "practice admin; peer supporter of the groups; time-bank coordinator (and a patient)"
    ),
    "sasha@example.org": "carer: helps Pat with results, goals and preparing for reviews",
    "cam@example.org": "commissioner: the practice's outcomes, never a record",
}
SCALES = {"small": 30, "large": 10_000}
FIRST = [
    "Sam",
    "Jo",
    "Alex",
    "Chris",
    "Ruth",
    "Amir",
    "Mei",
    "Tom",
    "Ada",
    "Kofi",
    "Lena",
    "Ravi",
    "Nia",
    "Owen",
    "Priya",
    "Dev",
    "Iris",
    "Ben",
    "Zara",
    "Hugh",
]
LAST = [
    "Morgan",
    "Shah",
    "Kim",
    "Evans",
    "Okafor",
    "Patel",
    "Nowak",
    "Reid",
    "Hughes",
    "Lewis",
    "Khan",
    "Brown",
    "Wong",
    "Murphy",
    "Davies",
    "Ali",
    "Clarke",
    "Singh",
]
BATCH = 2_000


def is_empty(session: Session) -> bool:
    """Say whether the database has no practice yet."""
    return session.exec(select(func.count(Practice.id))).one()[0] == 0


# Pat's results went out three days before the demo was made.
RELEASED_DAYS_AGO = 3
# A generated patient whose review is at most this many days away has had their latest
# results released for it; the others' results wait to be released.
RELEASE_AHEAD_DAYS = 28


def released_days_ago(days: int) -> dt.datetime:
    """Return a moment `days` days ago, to the second (one value for a review and its results)."""
    return (utcnow() - dt.timedelta(days=days)).replace(microsecond=0)


def seed(session: Session, scale: str = "small") -> Practice:
    """Add the demo practice and people; at 'large' scale, thousands of patients too."""
    practice = Practice(name=PRACTICE_NAME, ods_code="Y00001")
    session.add(practice)
    session.flush()
    for name, email, roles in PEOPLE:
        person = Person(name=name, email=email, user_handle=secrets.token_bytes(32))
        session.add(person)
        session.flush()
        for role in roles:
            session.add(PracticeRole(person_id=person.id, practice_id=practice.id, role=role))
    pat = session.execute(select(Person).where(Person.email == PEOPLE[0][1])).scalar_one()
    clinician = session.execute(select(Person).where(Person.email == PEOPLE[1][1])).scalar_one()
    pat.nhs_number = PAT_NHS_NUMBER
    nine_days_on = (utcnow() + dt.timedelta(days=9)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    # Released three days ago: the review says so (the worklist's "Results sent"), at the
    # same moment as the results themselves (_add_history).
    review = Review(
        practice_id=practice.id,
        patient_id=pat.id,
        clinician_id=clinician.id,
        scheduled_at=nine_days_on,
        status=ReviewStatus.RESULTS_RELEASED,
        results_released_at=released_days_ago(RELEASED_DAYS_AGO),
    )
    session.add(review)
    session.flush()
    _add_history(session, practice.id, pat.id, review, random.Random(7))  # noqa: S311
    _add_check_in(session, pat.id, review.id)
    _add_plan(session, practice.id, pat.id, clinician.id, random.Random(11))  # noqa: S311
    _add_conditions(session, practice.id, pat.id, clinician.id)
    session.commit()
    _add_groups(session, pat)
    _add_time_bank(session, pat)
    _add_carer(session, pat)
    if SCALES[scale]:
        _add_patients(session, practice, SCALES[scale], random.Random(2026))  # noqa: S311
    return practice


def _add_conditions(session: Session, practice_id: int, pat_id: int, clinician_id: int) -> None:
    """Pat's long-term conditions, as the care team recorded them: type 2 diabetes (which
    matters most to Pat now) and high blood pressure, from content's list."""
    found = get_content().conditions
    for code, matters in (("44054006", True), ("59621000", False)):
        info = found.find(code)
        assert info is not None, code
        session.add(
            Condition(
                patient_id=pat_id,
                practice_id=practice_id,
                code=code,
                display=info.term,
                source="care_team",
                recorded_by_id=clinician_id,
                matters_most=matters,
            )
        )


def _add_carer(session: Session, pat: Person) -> None:
    """Sasha helps Pat: invited by Pat with three scopes, and accepted."""
    from flask import current_app

    from webapp.accounts.services import load_actor
    from webapp.carers import services as carers

    sasha = session.execute(select(Person).where(Person.email == "sasha@example.org")).scalar_one()
    with current_app.test_request_context():
        person = load_actor(session, pat)
        _grant, token, _code = carers.invite_carer(
            session, person, pat.id, {"name": "Sasha Lee"}, ["results", "goals", "planning"]
        )
        carers.accept(session, load_actor(session, sasha), token=token)


def _add_groups(session: Session, pat: Person) -> None:
    """The groups content describes; Pat takes part as "Pat M", Alex as a peer supporter."""
    from webapp.groups.models import PeerProfile
    from webapp.groups.services import set_role, sync_groups

    sync_groups(session, get_content().groups)
    alex = session.execute(select(Person).where(Person.email == PEOPLE[2][1])).scalar_one()
    session.add(PeerProfile(person_id=pat.id, display_name="Pat M", name_key="patm"))
    session.add(PeerProfile(person_id=alex.id, display_name="Alex K", name_key="alexk"))
    session.commit()
    for slug in ("living-with-diabetes", "breathing-space", "carers-circle"):
        set_role(session, slug, alex.email or "", "supporter")
    set_role(session, "living-with-diabetes", pat.email or "", "member")
    _add_conversation(session, pat, alex)


def _add_time_bank(session: Session, pat: Person) -> None:
    """The time banks content describes; Alex coordinates Riverside, where Pat is a member
    with a request, Alex offers help with forms, and Nan (without the app) gave Pat a lift."""
    from webapp.access import Actor
    from webapp.timebank import exchanges
    from webapp.timebank import services as timebank

    banks = get_content().banks
    timebank.sync_banks(session, banks)
    if "riverside" not in banks:
        return
    spec = banks["riverside"]
    alex = session.execute(select(Person).where(Person.email == PEOPLE[2][1])).scalar_one()
    coordinator = Actor(person=alex)
    timebank.set_role(session, "riverside", alex.id, "Alex", "coordinator")
    asked = timebank.ask_to_join(
        session,
        Actor(person=pat),
        "riverside",
        {
            "display_name": "Pat",
            "area": "Riverside",
            "offers": "A chat and a cuppa",
            "availability": "Weekday mornings",
        },
        spec,
    )
    timebank.decide_request(
        session,
        coordinator,
        "riverside",
        asked.id,
        True,
        asked.version,
        "Met at the practice's walking group.",
    )
    today = utcnow().date()
    timebank.create_listing(
        session,
        Actor(person=pat),
        "riverside",
        {
            "kind": "request",
            "title": "A lift to the surgery",
            "description": "Once a month, for my review. About an hour there and back.",
            "category": "getting-about",
            "area": "Riverside",
        },
        spec,
        today,
    )
    timebank.create_listing(
        session,
        coordinator,
        "riverside",
        {
            "kind": "offer",
            "title": "Help with forms and letters",
            "description": "Benefit forms, council letters, online forms. Tuesdays or by phone.",
            "category": "forms-tech",
            "area": "Anywhere (by phone or online)",
        },
        spec,
        today,
    )
    nan = timebank.add_member_without_app(
        session,
        coordinator,
        "riverside",
        {"display_name": "Nan", "area": "Riverside", "offers": "Lifts in her car"},
        spec,
    )
    exchanges.record(
        session,
        coordinator,
        "riverside",
        {
            "giver_id": str(nan.id),
            "receiver_id": str(asked.id),
            "title": "A lift to the surgery",
            "category": "getting-about",
            "happens_on": (today - dt.timedelta(days=6)).isoformat(),
            "hours": "1.5",
            "reason": "Nan rang to say it went well.",
            "key": "demo-lift-1",
        },
        dict(spec.categories),
        today,
    )


def _add_conversation(session: Session, pat: Person, alex: Person) -> None:
    """A first conversation in Living with diabetes, so the group does not open empty."""
    from flask import current_app

    from webapp.accounts.services import load_actor
    from webapp.groups import threads

    with current_app.test_request_context():
        supporter, member = load_actor(session, alex), load_actor(session, pat)
        first = threads.start_thread(
            session,
            supporter,
            "living-with-diabetes",
            "Welcome: say hello and what helps you",
            "Hello and welcome. Tell us a little about yourself if you like, and *one thing* "
            "that has helped you live with diabetes.",
            "demo-welcome",
        )
        threads.reply(
            session,
            member,
            first.thread_id,
            "Hello all. Walking after tea has helped my levels more than I expected.",
            "demo-hello",
        )


PAT_NHS_NUMBER = "9434765919"
# Five years of a person living with type 2 diabetes: (test, code, unit, start, end, spread,
# decimals), a reading every six months drifting from start to end.
HISTORY = [
    ("hba1c", "59261-8", "mmol/mol", 66, 58, 3, 0),
    ("blood-pressure", "85354-9", "mm[Hg]", 146, 134, 5, 0),
    ("total-cholesterol", "2093-3", "mmol/L", 5.8, 4.7, 0.3, 1),
    ("hdl-cholesterol", "2085-9", "mmol/L", 1.0, 1.2, 0.1, 1),
    ("ldl-cholesterol", "13457-7", "mmol/L", 3.6, 2.6, 0.2, 1),
    ("triglycerides", "2571-8", "mmol/L", 2.2, 1.7, 0.2, 1),
    ("egfr", "62238-1", "mL/min/{1.73_m2}", 82, 74, 3, 0),
    ("acr", "9318-7", "mg/mmol", 1.8, 3.4, 0.4, 1),
    ("weight", "29463-7", "kg", 97.0, 91.5, 1.0, 1),
]
YEARLY = [
    ("foot-check", "http://snomed.info/sct", "401191002", ["Low risk"] * 4 + ["Moderate risk"]),
    (
        "eye-screening",
        "http://snomed.info/sct",
        "134395001",
        ["No retinopathy"] * 3 + ["Background retinopathy"] * 2,
    ),
    (
        "smoking",
        "http://loinc.org",
        "72166-2",
        ["Smoker", "Smoker", "Ex-smoker", "Ex-smoker", "Ex-smoker"],
    ),
]


LATEST = [
    ("hba1c", "59261-8", "mmol/mol", 38, 80),
    ("total-cholesterol", "2093-3", "mmol/L", 3.5, 7.0),
    ("egfr", "62238-1", "mL/min/{1.73_m2}", 35, 100),
    ("weight", "29463-7", "kg", 50, 120),
]


def _add_history(
    session: Session, practice_id: int, patient_id: int, review: Review, rng: random.Random
) -> None:
    """Give a person five years of results, released for `review` three days ago (which the
    review says, as a release from its page would), one held back."""
    now = utcnow()
    released = review.results_released_at or released_days_ago(RELEASED_DAYS_AGO)
    review.results_released_at = released
    if ReviewStatus(review.status).order < ReviewStatus.RESULTS_RELEASED.order:
        review.status = ReviewStatus.RESULTS_RELEASED
    session.add(review)
    rows = []

    def add(test: str, system: str, code: str, taken: dt.datetime, **values: object) -> None:
        rows.append(
            {
                "practice_id": practice_id,
                "patient_id": patient_id,
                "test": test,
                "system": system,
                "code": code,
                "display": test,
                "taken_at": taken,
                "source": "fhir",
                "fingerprint": f"demo-{patient_id}-{test}-{taken:%Y%m%d}",
                "released_at": released,
                "received": "",
                "reference_text": "",
                "held": False,
                "held_note": "",
                "created_at": now,
                **values,
            }
        )

    readings = 10
    for test, code, unit, start, end, spread, decimals in HISTORY:
        for n in range(readings):
            taken = (now - dt.timedelta(days=14 + 182 * (readings - 1 - n))).replace(
                hour=9, minute=0, second=0, microsecond=0
            )
            value = round(
                start + (end - start) * n / (readings - 1) + rng.uniform(-spread, spread), decimals
            )
            extra = {"value": value, "unit": unit}
            if test == "blood-pressure":
                extra["value_second"] = float(round(value * 0.62 + rng.uniform(-3, 3)))
            add(test, "http://loinc.org", code, taken, **extra)
            if test == "weight":
                add(
                    "bmi",
                    "http://loinc.org",
                    "39156-5",
                    taken,
                    value=round(value / 1.75**2, 1),
                    unit="kg/m2",
                )
    for test, system, code, answers in YEARLY:
        for n, answer in enumerate(answers):
            taken = (now - dt.timedelta(days=20 + 365 * (len(answers) - 1 - n))).replace(
                hour=10, minute=0, second=0, microsecond=0
            )
            add(test, system, code, taken, value_text=answer, unit="")
    # A new finding the clinician wants to talk through first: held back, so never shown.
    add(
        "egfr",
        "http://loinc.org",
        "62238-1",
        now - dt.timedelta(days=5),
        value=52.0,
        unit="mL/min/{1.73_m2}",
        held=True,
        held_note="Repeat test first, then talk it through",
        released_at=None,
    )
    names = {slug: test.name for slug, test in get_content().results.tests.items()}
    for row in rows:
        row["display"] = names.get(row["test"], row["test"])
    session.execute(insert(Result), rows)
    session.add(
        Notification(
            person_id=patient_id,
            kind="results.released",
            message=(
                f"Your results for your review on {review.scheduled_at:%-d %B %Y} "
                "are ready to read."
            ),
            link="/results",
            created_at=released,
        )
    )


# Pat has started a check-in: four answers given, the fifth question waiting.
CHECK_IN = {
    "overall": 6,
    "going-well": "Walking to the shop most mornings",
    "support": "yes",
    "support-from": ["family", "group"],
}


# Pat's plan, agreed at the last review six months ago: goals in Pat's words, steps with
# owners, and two years of "how did it go" (most days), so the goal pages carry real data.
PLAN_GOALS = [
    (
        "Walk to the shop and back every weekday, instead of taking the car",
        "So I can keep up with my grandchildren at the park",
        "If it is raining, then I walk round the supermarket instead",
        [
            ("Walk to the shop", "me", "", "weekdays"),
            ("Tell Pat about the walking group", "care_team", "Dr Priya Shah", "this month"),
            ("Join the Tuesday walking group", "community", "Riverside walkers", "Tuesdays"),
        ],
    ),
    (
        "Swap my evening biscuits for fruit most nights",
        "I want my HbA1c to come down before my brother's wedding",
        "",
        [
            ("Buy fruit with the weekly shop", "me", "", "Saturdays"),
            ("Ask Sasha to keep the biscuits out of sight", "carer", "Sasha", ""),
        ],
    ),
]
PLAN_NOTE = "We agreed two small changes. Pat will look back on both before the next review."
PROGRESS_DAYS = 730


def _add_plan(
    session: Session, practice_id: int, patient_id: int, clinician_id: int, rng: random.Random
) -> None:
    """Give a person a plan agreed six months ago, with two years of progress on its goals."""
    now = utcnow()
    agreed_at = now - dt.timedelta(days=182)
    # The review went through every step: results out two weeks before, Pat ready five days
    # before (when the goals were written), the plan agreed on the day.
    earlier = Review(
        practice_id=practice_id,
        patient_id=patient_id,
        clinician_id=clinician_id,
        scheduled_at=agreed_at,
        status=ReviewStatus.PLAN_AGREED,
        results_released_at=agreed_at - dt.timedelta(days=14),
        prepared_at=agreed_at - dt.timedelta(days=5),
    )
    session.add(earlier)
    session.flush()
    session.add(
        CarePlan(
            review_id=earlier.id,
            patient_id=patient_id,
            clinician_id=clinician_id,
            note=PLAN_NOTE,
            note_by_id=clinician_id,
            agreed_at=agreed_at,
        )
    )
    for position, (text, why, if_then, steps) in enumerate(PLAN_GOALS, start=1):
        goal = Goal(
            patient_id=patient_id,
            review_id=earlier.id,
            text=text,
            why=why,
            if_then=if_then,
            importance=8,
            confidence=6,
            status="agreed",
            position=position,
            shared=True,
            person_agreed_at=agreed_at,
            clinician_agreed_at=agreed_at,
            agreed_by_id=clinician_id,
            created_by_id=patient_id,
            created_at=agreed_at - dt.timedelta(days=5),
        )
        session.add(goal)
        session.flush()
        for order, (words, owner, who, when) in enumerate(steps, start=1):
            session.add(
                GoalAction(
                    goal_id=goal.id, text=words, owner=owner, who=who, when=when, position=order
                )
            )
        session.execute(
            insert(ProgressEntry),
            [
                {
                    "goal_id": goal.id,
                    "patient_id": patient_id,
                    "outcome": rng.choice(("did", "did", "did", "partly", "not_this_time")),
                    "note": "",
                    "measure": "",
                    "value": "",
                    "key": f"demo-{goal.id}-{day}",
                    "after_goal_ended": False,
                    "typed_by_id": patient_id,
                    "logged_at": now - dt.timedelta(days=day, hours=rng.randint(1, 12)),
                    "received_at": now - dt.timedelta(days=day),
                }
                for day in range(1, PROGRESS_DAYS)
                if rng.random() < 0.8
            ],
        )


def _add_check_in(session: Session, patient_id: int, review_id: int) -> None:
    """Give a person a check-in conversation part of the way through (if the flow exists)."""
    flow = get_content().flows.get("check-in")
    if flow is None:
        return
    now = utcnow()
    conversation = Conversation(
        patient_id=patient_id,
        review_id=review_id,
        flow="check-in",
        flow_version=flow.version,
        answers=json.dumps(CHECK_IN, sort_keys=True),
        started_at=now - dt.timedelta(days=2),
        updated_at=now - dt.timedelta(days=2),
    )
    session.add(conversation)
    session.flush()
    for n, (step, answer) in enumerate(CHECK_IN.items()):
        session.add(
            Turn(
                conversation_id=conversation.id,
                step=step,
                answer=json.dumps(answer),
                key=f"demo-{n}",
                typed_by_id=patient_id,
                created_at=now - dt.timedelta(days=2, minutes=10 - n),
            )
        )


def _add_patients(session: Session, practice: Practice, count: int, rng: random.Random) -> None:
    """Add `count` patients, each invited and joined, in batches of plain inserts."""
    now = utcnow()
    names = {slug: test.name for slug, test in get_content().results.tests.items()}
    # Numbered after everyone already there, so more can be added to a seeded practice.
    offset = session.execute(select(func.count(Person.id))).scalar_one()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        people = [
            {
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "email": f"patient{offset + start + i}@example.org",
                "user_handle": rng.randbytes(32),
                "created_at": now - dt.timedelta(days=rng.randrange(1, 1500)),
            }
            for i in range(size)
        ]
        session.execute(insert(Person), people)
        ids = (
            session.execute(
                select(Person.id)
                .where(Person.email.in_([p["email"] for p in people]))
                .order_by(Person.id)
            )
            .scalars()
            .all()
        )
        session.execute(
            insert(PracticeRole),
            [
                {
                    "person_id": pid,
                    "practice_id": practice.id,
                    "role": Role.PATIENT,
                    "created_at": now,
                }
                for pid in ids
            ],
        )
        session.execute(
            insert(Invitation),
            [
                {
                    "practice_id": practice.id,
                    "role": Role.PATIENT,
                    "name": person["name"],
                    "email": person["email"],
                    "token_hash": hash_token(f"demo-token-{pid}"),
                    "code_hash": hash_token(f"demo-code-{pid}"),
                    "created_at": person["created_at"],
                    "expires_at": person["created_at"] + dt.timedelta(days=14),
                    "redeemed_at": person["created_at"] + dt.timedelta(days=1),
                    "redeemed_by_id": pid,
                }
                for pid, person in zip(ids, people, strict=True)
            ],
        )
        # Each has a review somewhere in the next two years, on the half hour. Those due within
        # RELEASE_AHEAD_DAYS have had their results released for it (and the worklist says
        # "Results sent"); the others' results wait.
        when = {
            pid: (now + dt.timedelta(days=rng.randrange(1, 730))).replace(
                hour=rng.randrange(8, 17), minute=rng.choice((0, 30)), second=0, microsecond=0
            )
            for pid in ids
        }
        released = {
            pid: released_days_ago(2) if at - now <= dt.timedelta(days=RELEASE_AHEAD_DAYS) else None
            for pid, at in when.items()
        }
        session.execute(
            insert(Review),
            [
                {
                    "practice_id": practice.id,
                    "patient_id": pid,
                    "status": ReviewStatus.RESULTS_RELEASED
                    if released[pid]
                    else ReviewStatus.PLANNED,
                    "scheduled_at": when[pid],
                    "results_released_at": released[pid],
                    "created_at": now,
                    "updated_at": now,
                }
                for pid in ids
            ],
        )
        # Each has their latest few results, so the results table is realistically big.
        session.execute(
            insert(Result),
            [
                {
                    "practice_id": practice.id,
                    "patient_id": pid,
                    "test": test,
                    "system": "http://loinc.org",
                    "code": code,
                    "display": names.get(test, test),
                    "value": round(rng.uniform(low, high), 1),
                    "unit": unit,
                    "taken_at": now - dt.timedelta(days=rng.randrange(10, 400)),
                    "source": "csv",
                    "fingerprint": f"demo-{pid}-{test}",
                    "released_at": released[pid],
                    "received": "",
                    "reference_text": "",
                    "held": False,
                    "held_note": "",
                    "created_at": now,
                }
                for pid in ids
                for test, code, unit, low, high in LATEST
            ],
        )
        session.commit()
