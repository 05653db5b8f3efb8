"""Tables for people, practices, roles, passkeys and every way of signing in."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from webapp.contact.hours import DEFAULT_HOURS
from webapp.db import utcnow

# Titles people put before their names: a greeting uses the name after them.
TITLES = frozenset(
    [
        "dr",
        "doctor",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "prof",
        "professor",
        "sir",
        "dame",
        "lady",
        "lord",
        "rev",
        "revd",
        "reverend",
        "fr",
        "father",
        "sister",
        "nurse",
        "cllr",
    ]
)


def given_name(name: str) -> str:
    """Return the name to greet someone by: the first word of their name after any title
    ("Dr Priya Shah" is Priya), or the whole name when there is nothing after the title
    ("Dr Shah" stays Dr Shah: a surname alone would be rude)."""
    words = name.split()
    rest = words
    while rest and rest[0].rstrip(".").casefold() in TITLES:
        rest = rest[1:]
    if len(rest) >= 2:
        return rest[0]
    return " ".join(words)


class Role(enum.StrEnum):
    """What a person does in a practice."""

    PATIENT = "patient"
    CLINICIAN = "clinician"
    ADMIN = "admin"
    # Sees the practice's outcomes (aggregates, small numbers suppressed), never a record.
    COMMISSIONER = "commissioner"


STAFF_ROLES = frozenset({Role.CLINICIAN, Role.ADMIN})


class Practice(SQLModel, table=True):
    """A GP practice or care team: an organisation with staff and registered patients."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    ods_code: str | None = Field(default=None, max_length=10, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    # When staff will see a request to be contacted (UK times; see webapp/contact/hours.py).
    working_hours: str = Field(
        default=DEFAULT_HOURS, max_length=200, sa_column_kwargs={"server_default": DEFAULT_HOURS}
    )
    closed_on_bank_holidays: bool = Field(
        default=True, sa_column_kwargs={"server_default": sa_true()}
    )


class Person(SQLModel, table=True):
    """Anyone with an account; their roles say what they may do."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=254, unique=True, index=True)
    # Ten digits, no spaces; results from labs and GP systems are matched on it.
    nhs_number: str | None = Field(default=None, max_length=10, unique=True, index=True)
    # The WebAuthn user handle: random, never personal information.
    user_handle: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False, unique=True))
    created_at: dt.datetime = Field(default_factory=utcnow)

    @property
    def first_name(self) -> str:
        """Return the name to greet the person by (see given_name)."""
        return given_name(self.name)


class PracticeRole(SQLModel, table=True):
    """One role a person holds in one practice (a person may hold several)."""

    __table_args__ = (UniqueConstraint("person_id", "practice_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    practice_id: int = Field(foreign_key="practice.id", index=True)
    role: str = Field(max_length=20)
    created_at: dt.datetime = Field(default_factory=utcnow)


class Passkey(SQLModel, table=True):
    """A WebAuthn credential that belongs to exactly one person."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    credential_id: bytes = Field(sa_column=Column(LargeBinary(1023), nullable=False, unique=True))
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sign_count: int = 0
    transports: str = Field(default="", max_length=200)
    name: str = Field(max_length=60)
    backed_up: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_used_at: dt.datetime | None = None


class Invitation(SQLModel, table=True):
    """A single-use, expiring invitation to join a practice; only hashes are stored."""

    # The practice's list is read newest first, a page at a time.
    __table_args__ = (Index("ix_invitation_practice_newest", "practice_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    role: str = Field(max_length=20)
    name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=254)
    nhs_number: str | None = Field(default=None, max_length=10)
    token_hash: str = Field(max_length=64, unique=True)
    code_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    redeemed_at: dt.datetime | None = None
    redeemed_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    revoked_at: dt.datetime | None = None
    # Joining by email instead of a passkey: the address given, and the link's hash and expiry.
    pending_email: str | None = Field(default=None, max_length=254)
    email_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    email_token_expires_at: dt.datetime | None = None


class SignInLink(SQLModel, table=True):
    """A single-use link sent by email; only its hash is stored. Its purpose says what it
    does: "signin" signs the person in; "delete" confirms deleting their account (for people
    without a passkey). A link works only for its own purpose."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(
        default="signin", max_length=10, sa_column_kwargs={"server_default": "signin"}
    )
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime = Field(index=True)
    used_at: dt.datetime | None = None


class RecoveryCode(SQLModel, table=True):
    """One single-use recovery code: a public selector and an argon2 hash of the secret."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    selector: str = Field(max_length=10, unique=True)
    secret_hash: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    used_at: dt.datetime | None = None


class AuthSession(SQLModel, table=True):
    """A signed-in session; the browser holds the token, the table holds its hash."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    method: str = Field(max_length=20)
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_seen_at: dt.datetime = Field(default_factory=utcnow)
    ended_at: dt.datetime | None = None
    # While a carer acts for someone in this session: the grant they act under.
    acting_grant_id: int | None = Field(
        default=None, foreign_key="carergrant.id", ondelete="SET NULL", index=True
    )


class WebAuthnChallenge(SQLModel, table=True):
    """A passkey challenge: single-use, bound to one browser session, short-lived."""

    id: int | None = Field(default=None, primary_key=True)
    challenge: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False, unique=True))
    purpose: str = Field(max_length=20)
    browser_id: str = Field(max_length=64, index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="CASCADE")
    invitation_id: int | None = Field(default=None, foreign_key="invitation.id", ondelete="CASCADE")
    # For a new carer joining by a person's carer invitation.
    carer_grant_id: int | None = Field(
        default=None, foreign_key="carergrant.id", ondelete="CASCADE", index=True
    )
    # For a new person joining by invitation: the user handle their passkey is made with.
    user_handle: bytes | None = Field(default=None, sa_column=Column(LargeBinary(64)))
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime = Field(index=True)
    used_at: dt.datetime | None = None
