"""Everything held about the person that FHIR R4 has a place for, as one validated Bundle:
the Patient, their released results as Observations, their long-term conditions as
Conditions, their goals as Goals, each agreed plan as a CarePlan, and their carers as
RelatedPersons. Checked with fhir.resources (R4B
models, R4's for these resources)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from webapp import audit
from webapp.access import Actor, require
from webapp.accounts.models import Person
from webapp.carers.models import CarerGrant
from webapp.carers.services import status_of
from webapp.conditions.fhir import condition_entries
from webapp.conditions.services import conditions_of
from webapp.goals import cycle
from webapp.goals.cycle import PlanStage
from webapp.goals.fhir import NHS_NUMBER_SYSTEM, earlier_careplan, fhir_date, goal_resource, urn
from webapp.goals.models import GoalAction
from webapp.planning.models import Goal
from webapp.results.models import Result

UCUM = "http://unitsofmeasure.org"
# Blood pressure is one reading with two parts.
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
COMPARATORS = {"<", "<=", ">=", ">"}


def _quantity(value: float, unit: str, comparator: str = "") -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    if unit:
        quantity.update(unit=unit, system=UCUM, code=unit)
    if comparator in COMPARATORS:
        quantity["comparator"] = comparator
    return quantity


def _observation(result: Result, patient_ref: dict[str, str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "amended" if result.corrected_at else "final",
        "code": {
            "coding": [
                {"system": result.system, "code": result.code, "display": result.display}
                if result.system
                else {"code": result.code, "display": result.display}
            ],
            "text": result.display,
        },
        "subject": patient_ref,
        "effectiveDateTime": fhir_date(result.taken_at),
    }
    if result.value_text:
        resource["valueString"] = result.value_text
    elif result.value is not None and result.value_second is not None:
        resource["component"] = [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": name}]},
                "valueQuantity": _quantity(value, result.unit),
            }
            for (code, name), value in ((SYSTOLIC, result.value), (DIASTOLIC, result.value_second))
        ]
    elif result.value is not None:
        resource["valueQuantity"] = _quantity(result.value, result.unit, result.comparator)
    if result.reference_low is not None or result.reference_high is not None:
        low_high: dict[str, Any] = {}
        if result.reference_low is not None:
            low_high["low"] = _quantity(result.reference_low, result.unit)
        if result.reference_high is not None:
            low_high["high"] = _quantity(result.reference_high, result.unit)
        resource["referenceRange"] = [low_high]
    return resource


def _careplan(
    stage: PlanStage,
    in_plan: list[Goal],
    actions: list[GoalAction],
    patient_ref: dict[str, str],
) -> dict[str, Any]:
    """Return one agreed plan as a CarePlan: the current one active with every goal in the
    plan now (whatever review agreed it) and their steps; an earlier one completed or revoked,
    with the goals agreed at it."""
    if stage.status != "active":
        return earlier_careplan(stage, patient_ref)
    plan = stage.plan
    ids = {g.id for g in in_plan}
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "title": "My care and support plan",
        "subject": patient_ref,
        "created": fhir_date(plan.agreed_at or plan.created_at),
    }
    if in_plan:
        resource["goal"] = [{"reference": urn("goal", g.id)} for g in in_plan]
    activities = [
        {
            "detail": {
                "status": "completed" if a.done_at else "not-started",
                "description": a.text,
                "goal": [{"reference": urn("goal", a.goal_id)}],
            }
        }
        for a in actions
        if a.goal_id in ids
    ]
    if activities:
        resource["activity"] = activities
    notes = [{"text": words} for words in (plan.person_note, plan.note) if words]
    if notes:
        resource["note"] = notes
    return resource


def everything_bundle(session: Session, actor: Actor, person_id: int) -> dict[str, Any]:
    """Return the person's record as a validated FHIR R4 Bundle (a dict), and record it."""
    from fhir.resources.R4B.bundle import Bundle

    require(actor, "rights.own", person_id)
    person = session.get(Person, person_id)
    assert person is not None
    patient_url = urn("patient", person_id)
    patient_ref = {"reference": patient_url, "display": person.name}
    patient: dict[str, Any] = {"resourceType": "Patient", "name": [{"text": person.name}]}
    if person.nhs_number:
        patient["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": person.nhs_number}]
    if person.email:
        patient["telecom"] = [{"system": "email", "value": person.email}]
    entries: list[dict[str, Any]] = [{"fullUrl": patient_url, "resource": patient}]
    results = session.exec(
        select(Result)
        .where(
            Result.patient_id == person_id,
            col(Result.released_at).is_not(None),
            col(Result.held).is_(False),
            col(Result.withdrawn_at).is_(None),
        )
        .order_by(Result.taken_at, Result.id)
    )
    for result in results:
        entries.append(
            {"fullUrl": urn("result", result.id), "resource": _observation(result, patient_ref)}
        )
    entries.extend(condition_entries(conditions_of(session, person_id), patient_ref))
    goals = list(session.exec(select(Goal).where(Goal.patient_id == person_id)))
    for goal in goals:
        entries.append(
            {"fullUrl": urn("goal", goal.id), "resource": goal_resource(goal, patient_ref)}
        )
    actions = list(
        session.exec(select(GoalAction).where(col(GoalAction.goal_id).in_([g.id for g in goals])))
    )
    in_plan = cycle.plan_goals(session, person_id)
    for stage in cycle.history(session, person_id):
        entries.append(
            {
                "fullUrl": urn("careplan", stage.plan.id),
                "resource": _careplan(stage, in_plan, actions, patient_ref),
            }
        )
    # The person's carers, each as a RelatedPerson with the time they may help.
    carers = session.exec(
        select(CarerGrant, Person.name)
        .join(Person, col(Person.id) == CarerGrant.carer_id)
        .where(CarerGrant.person_id == person_id, col(CarerGrant.accepted_at).is_not(None))
        .order_by(CarerGrant.id)
    )
    for grant, name in carers:
        period: dict[str, str] = {"start": fhir_date(grant.accepted_at)}
        if grant.revoked_at is not None:
            period["end"] = fhir_date(grant.revoked_at)
        elif grant.ends_on is not None:
            period["end"] = grant.ends_on.isoformat()
        entries.append(
            {
                "fullUrl": urn("carer", grant.id),
                "resource": {
                    "resourceType": "RelatedPerson",
                    "active": status_of(grant) == "active",
                    "patient": patient_ref,
                    "relationship": [{"text": "carer"}],
                    "name": [{"text": name}],
                    "period": period,
                },
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": fhir_date(dt.datetime.now(dt.UTC)),
        "entry": entries,
    }
    Bundle.model_validate(bundle)  # raises if not valid FHIR: a bug, never the person's doing
    audit.record(session, actor.id, "rights.download", person_id, kind="fhir")
    session.commit()
    return bundle
