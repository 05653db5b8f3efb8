"""What the care team and the person do with long-term conditions: record them, mark them no
longer active, take a mistake off, read them in plain words, and say which matter most now.

The plan stays one across every condition: nothing here splits goals by condition. Other
parts (decision aids, courses, groups, results) use `conditions_of` and `related_tests` to
offer what fits the person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit
from webapp.access import Actor, require
from webapp.accounts.models import Person
from webapp.conditions.models import STATUSES, Condition
from webapp.conditions.spec import ConditionInfo, ConditionList
from webapp.content import get_content
from webapp.db import utcnow
from webapp.formatting import local_date


class ConditionError(Exception):
    """Something staff can put right; the message says what and how."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def condition_list() -> ConditionList:
    """Return the conditions loaded from content/conditions/."""
    return get_content().conditions


@dataclass(frozen=True)
class PersonCondition:
    """One of a person's conditions as people read it: plain words first, the code beside."""

    id: int
    code: str
    # The plain name from content, or the words the sender used for a code content lacks.
    name: str
    # SNOMED CT's preferred term (or the sender's words), for the care team.
    term: str
    # One or two plain sentences from content; empty for a code content lacks.
    about: str
    # Slugs of content/results/ tests that go with the condition.
    tests: tuple[str, ...]
    status: str
    onset: dt.date | None
    source: str
    matters_most: bool
    recorded_at: dt.datetime
    # The content entry, or None for a SNOMED CT code content does not list.
    info: ConditionInfo | None = None

    @property
    def active(self) -> bool:
        """Say whether the condition is still part of the person's life."""
        return self.status == "active"


def _shown(row: Condition, conditions: ConditionList) -> PersonCondition:
    """Return a stored condition in plain words, from content where content has its code."""
    info = conditions.find(row.code)
    assert row.id is not None
    return PersonCondition(
        id=row.id,
        code=row.code,
        name=info.name if info else row.display,
        term=info.term if info else row.display,
        about=info.about if info else "",
        tests=info.tests if info else (),
        status=row.clinical_status,
        onset=row.onset,
        source=row.source,
        matters_most=row.matters_most,
        recorded_at=row.recorded_at,
        info=info,
    )


def _rows(session: Session, patient_id: int) -> list[Condition]:
    """Return the person's conditions not removed as mistakes, oldest recorded first."""
    return list(
        session.exec(
            select(Condition)
            .where(Condition.patient_id == patient_id, col(Condition.removed_at).is_(None))
            .order_by(Condition.recorded_at, Condition.id)
        )
    )


def conditions_of(
    session: Session, patient_id: int, include_resolved: bool = True
) -> list[PersonCondition]:
    """Return the person's conditions in plain words: active ones first, then in content's
    order, then by name.

    No access check: for other parts of the app that have already checked theirs (the care
    team's view of a patient, a results page offering what fits).
    """
    conditions = condition_list()
    shown = [_shown(row, conditions) for row in _rows(session, patient_id)]
    if not include_resolved:
        shown = [c for c in shown if c.active]
    return sorted(
        shown,
        key=lambda c: (not c.active, c.info.order if c.info else float("inf"), c.name.casefold()),
    )


def related_tests(session: Session, patient_id: int) -> list[str]:
    """Return the slugs of the result tests that go with the person's active conditions, once
    each, in the order content/results/ gives the tests (no access check, as conditions_of)."""
    return tests_for(conditions_of(session, patient_id, include_resolved=False))


def tests_for(conditions: Iterable[PersonCondition]) -> list[str]:
    """Return the slugs of the result tests that go with the given conditions, once each, in
    the results' own order."""
    wanted = {slug for c in conditions for slug in c.tests}
    tests = get_content().results.tests
    return sorted(
        wanted, key=lambda slug: (tests[slug].order, slug) if slug in tests else (0, slug)
    )


def test_names() -> dict[str, str]:
    """Return each result test's short name by its slug, for links to its page."""
    return {slug: test.name for slug, test in get_content().results.tests.items()}


# --- the person ------------------------------------------------------------------------


def my_conditions(session: Session, actor: Actor, patient_id: int) -> list[PersonCondition]:
    """Return the person's own conditions, for them or a carer helping them prepare."""
    require(actor, "conditions.own", patient_id)
    return conditions_of(session, patient_id)


def choose_what_matters(
    session: Session, actor: Actor, patient_id: int, chosen: Iterable[int]
) -> list[PersonCondition]:
    """Mark the chosen active conditions as mattering most to the person now, and no others.

    Ids that are not the person's active conditions (say, one taken off since the page was
    opened) are passed over, so nothing else the person chose is lost.
    """
    require(actor, "conditions.own", patient_id)
    wanted = set(chosen)
    now = utcnow()
    changed = 0
    for row in _rows(session, patient_id):
        matters = row.id in wanted and row.clinical_status == "active"
        if row.matters_most != matters:
            row.matters_most = matters
            row.matters_set_at = now
            row.matters_set_by_id = actor.id
            session.add(row)
            changed += 1
    if changed:
        audit.record(
            session,
            actor.id,
            "conditions.matters",
            patient_id,
            chosen=sorted(r.id for r in _rows(session, patient_id) if r.matters_most),
        )
    session.commit()
    return conditions_of(session, patient_id)


# --- the care team ---------------------------------------------------------------------


def _practice_patient(session: Session, actor: Actor, practice_id: int, patient_id: int) -> None:
    """Raise NotFound unless the actor is on the practice's staff and the person its patient."""
    # Imported here: results.services imports this module (FHIR Conditions come with results).
    from webapp.results.services import is_practice_patient

    require(actor, "conditions.manage", practice_id)
    if session.get(Person, patient_id) is None or not is_practice_patient(
        session, practice_id, patient_id
    ):
        raise NotFound()


def parse_onset(text: str, today: dt.date) -> dt.date | None:
    """Read an optional onset date (YYYY-MM-DD, or a year alone); raise ConditionError if wrong."""
    text = text.strip()
    if not text:
        return None
    try:
        day = dt.date(int(text), 1, 1) if text.isdigit() and len(text) == 4 else None
        day = day or dt.date.fromisoformat(text)
    except ValueError:
        raise ConditionError(
            _("Enter the date it started like 2019-03-25, or just the year, like 2019."), "onset"
        ) from None
    if day > today:
        raise ConditionError(_("The date it started is in the future. Check the date."), "onset")
    if day.year < 1900:
        raise ConditionError(_("The date it started is too long ago. Check the date."), "onset")
    return day


def record_condition(
    session: Session,
    actor: Actor,
    practice_id: int,
    patient_id: int,
    code: str,
    onset: str = "",
) -> Condition:
    """Record one of content's conditions for a patient of the practice, as the care team."""
    _practice_patient(session, actor, practice_id, patient_id)
    info = condition_list().find(code.strip())
    if info is None:
        raise ConditionError(_("Choose a condition from the list."), "code")
    started = parse_onset(onset, local_date(utcnow()))
    for row in _rows(session, patient_id):
        if row.code in info.codes:
            if row.clinical_status == "active":
                message = _("%(name)s is already on their list.", name=info.name)
            else:
                message = _(
                    "%(name)s is on their list as no longer active. Mark it active again there.",
                    name=info.name,
                )
            raise ConditionError(message, "code")
    condition = Condition(
        patient_id=patient_id,
        practice_id=practice_id,
        code=info.snomed,
        display=info.term,
        source="care_team",
        onset=started,
        recorded_by_id=actor.id,
    )
    session.add(condition)
    session.flush()
    audit.record(
        session,
        actor.id,
        "conditions.record",
        patient_id,
        practice_id=practice_id,
        condition_id=condition.id,
        code=condition.code,
    )
    session.commit()
    return condition


def _staff_condition(
    session: Session, actor: Actor, practice_id: int, condition_id: int
) -> Condition:
    """Return a condition of one of the practice's patients for its staff, or raise NotFound
    (the access check is _practice_patient's)."""
    condition = session.get(Condition, condition_id)
    if condition is None or condition.removed_at is not None:
        raise NotFound()
    _practice_patient(session, actor, practice_id, condition.patient_id)
    return condition


def staff_condition_patient(
    session: Session, actor: Actor, practice_id: int, condition_id: int
) -> int:
    """Return whose condition this is, for the practice's staff, or raise NotFound."""
    return _staff_condition(session, actor, practice_id, condition_id).patient_id


def set_condition_status(
    session: Session, actor: Actor, practice_id: int, condition_id: int, status: str
) -> Condition:
    """Mark a condition no longer active (resolved), or active again, as the care team."""
    condition = _staff_condition(session, actor, practice_id, condition_id)
    if status not in STATUSES:
        raise ConditionError(_("Choose active or no longer active."), "status")
    if condition.clinical_status != status:
        condition.clinical_status = status
        condition.status_changed_at = utcnow()
        if status != "active":
            condition.matters_most = False  # what matters now is among what is active
        session.add(condition)
        audit.record(
            session,
            actor.id,
            "conditions.status",
            condition.patient_id,
            practice_id=practice_id,
            condition_id=condition.id,
            status=status,
        )
    session.commit()
    return condition


def remove_condition(session: Session, actor: Actor, practice_id: int, condition_id: int) -> int:
    """Take a condition recorded by mistake off the person's list, as the care team; return
    whose list it was.

    The row stays, marked removed, so the same Condition imported again does not come back;
    nobody sees it any more.
    """
    condition = _staff_condition(session, actor, practice_id, condition_id)
    condition.removed_at = utcnow()
    condition.removed_by_id = actor.id
    condition.matters_most = False
    session.add(condition)
    audit.record(
        session,
        actor.id,
        "conditions.remove",
        condition.patient_id,
        practice_id=practice_id,
        condition_id=condition.id,
        code=condition.code,
    )
    session.commit()
    return condition.patient_id
