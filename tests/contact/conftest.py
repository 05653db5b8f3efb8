"""People for contact requests: Pat (a patient), the practice's clinician and admin."""

from __future__ import annotations

import pytest

from tests.conftest import add_person
from webapp.accounts.models import Role


@pytest.fixture
def admin(db, practice):
    """An admin of the practice, with an email address."""
    return add_person(db, "Alex Kim", "alex@example.org", (practice, Role.ADMIN))
