"""A person's permission for a carer: from the invitation to its end."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from webapp.db import utcnow


class CarerGrant(SQLModel, table=True):
    """What one carer may do for one person, and until when.

    It starts as an invitation (only the hashes of its link and short code are kept), becomes
    active when the carer accepts it with their own account, and ends when the person stops
    it or its end date passes. Scopes are read on every request, so a change counts at once.
    """

    __table_args__ = (
        Index("ix_carergrant_person", "person_id", "created_at"),
        Index("ix_carergrant_carer", "carer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The person being helped.
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    # The carer, once they have accepted.
    carer_id: int | None = Field(default=None, foreign_key="person.id", ondelete="CASCADE")
    # What the person calls them; the name a new carer's account starts with.
    carer_name: str = Field(max_length=120)
    # Comma-separated, from carers.services.SCOPES.
    scopes: str = Field(max_length=100)
    # The last day the carer may act (UK date), if the person chose one.
    ends_on: dt.date | None = None
    token_hash: str = Field(max_length=64, unique=True)
    code_hash: str = Field(max_length=64, unique=True)
    invitation_expires_at: dt.datetime
    created_at: dt.datetime = Field(default_factory=utcnow)
    accepted_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    # Goes up with every change the person makes, so a form opened before it is refused.
    version: int = Field(default=1)
