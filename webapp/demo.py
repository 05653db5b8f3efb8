"""Demo data: a small practice to try the app, and a large one to measure it at scale.

Large data is deterministic (a seeded random generator), so two runs of the benchmark
measure the same rows. Later parts add their own data here (results, posts, ledger).
"""

from __future__ import annotations

import datetime as dt
import random
import secrets

from sqlalchemy import func, insert, select
from sqlmodel import Session

from webapp.accounts.models import Invitation, Person, Practice, PracticeRole, Role
from webapp.accounts.tokens import hash_token
from webapp.db import utcnow
from webapp.reviews.models import Review

PRACTICE_NAME = "Riverside Health Centre"
PEOPLE = [
    # name, email, roles
    ("Pat Morgan", "pat@example.org", [Role.PATIENT]),
    ("Dr Priya Shah", "priya@example.org", [Role.CLINICIAN]),
    ("Alex Kim", "alex@example.org", [Role.ADMIN, Role.PATIENT]),
]
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
    nine_days_on = (utcnow() + dt.timedelta(days=9)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    session.add(
        Review(
            practice_id=practice.id,
            patient_id=pat.id,
            clinician_id=clinician.id,
            scheduled_at=nine_days_on,
        )
    )
    session.commit()
    if SCALES[scale]:
        _add_patients(session, practice, SCALES[scale], random.Random(2026))  # noqa: S311
    return practice


def _add_patients(session: Session, practice: Practice, count: int, rng: random.Random) -> None:
    """Add `count` patients, each invited and joined, in batches of plain inserts."""
    now = utcnow()
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
        # Each has a review somewhere in the next two years, on the half hour.
        session.execute(
            insert(Review),
            [
                {
                    "practice_id": practice.id,
                    "patient_id": pid,
                    "status": "planned",
                    "scheduled_at": (now + dt.timedelta(days=rng.randrange(1, 730))).replace(
                        hour=rng.randrange(8, 17),
                        minute=rng.choice((0, 30)),
                        second=0,
                        microsecond=0,
                    ),
                    "created_at": now,
                    "updated_at": now,
                }
                for pid in ids
            ],
        )
        session.commit()
