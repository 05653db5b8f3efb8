"""The person's agreed plan as FHIR R4: a Bundle holding the Patient, a CarePlan and its Goals.

Built as plain data, then checked against the FHIR models (fhir.resources ships R4B, whose
CarePlan, Goal, Patient and Bundle are those of R4), so a file that would not validate is
never handed out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from webapp.goals.cycle import PlanStage
from webapp.goals.plan import CurrentPlan
from webapp.planning.models import Goal

# A fixed namespace, so the same plan exports with the same identifiers every time.
_NAMESPACE = uuid.UUID("5b0d5a2e-6c61-4f43-9a3b-2f8f1f6c9d10")
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"

# Our goal statuses as FHIR Goal.lifecycleStatus, and as its achievementStatus code.
LIFECYCLE = {
    "draft": "proposed",
    "agreed": "active",
    "achieved": "completed",
    "changed": "cancelled",
    "stopped": "cancelled",
}
ACHIEVEMENT = {"achieved": ("achieved", "Achieved")}
ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
OWNER_WORDS = {
    "me": "The person",
    "care_team": "The care team",
    "carer": "A carer",
    "community": "The community",
}


def urn(kind: str, ident: object) -> str:
    """Return a stable urn:uuid for one of our records, for Bundle references."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{ident}')}"


def fhir_date(moment: dt.datetime | dt.date) -> str:
    """Return a FHIR dateTime (UTC) or date."""
    if isinstance(moment, dt.datetime):
        return moment.astimezone(dt.UTC).isoformat(timespec="seconds")
    return moment.isoformat()


def goal_resource(goal: Goal, patient_ref: dict[str, str]) -> dict[str, Any]:
    """Return a goal as a FHIR Goal resource (the person's words as its description)."""
    notes = [
        {"text": f"{label}: {words}"}
        for label, words in (("Why it matters", goal.why), ("If-then plan", goal.if_then))
        if words
    ]
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "lifecycleStatus": LIFECYCLE[goal.status],
        "description": {"text": goal.text},
        "subject": patient_ref,
        "expressedBy": patient_ref,
        "startDate": fhir_date(goal.created_at.date()),
        "statusDate": fhir_date(goal.updated_at.date()),
    }
    if goal.status in ACHIEVEMENT:
        code, display = ACHIEVEMENT[goal.status]
        resource["achievementStatus"] = {
            "coding": [{"system": ACHIEVEMENT_SYSTEM, "code": code, "display": display}]
        }
    if goal.target_date:
        resource["target"] = [{"dueDate": fhir_date(goal.target_date)}]
    if notes:
        resource["note"] = notes
    return resource


def earlier_careplan(stage: PlanStage, patient_ref: dict[str, str]) -> dict[str, Any]:
    """Return an earlier agreed plan as a CarePlan (completed, or revoked when every goal
    agreed at it was stopped or changed), naming the goals agreed at it."""
    plan = stage.plan
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "status": stage.status,
        "intent": "plan",
        "title": "My care and support plan",
        "subject": patient_ref,
        "created": fhir_date(plan.agreed_at or plan.created_at),
        "period": {"start": fhir_date((plan.agreed_at or plan.created_at).date())},
    }
    if stage.goals:
        resource["goal"] = [{"reference": urn("goal", g.id)} for g in stage.goals]
    notes = [{"text": words} for words in (plan.person_note, plan.note) if words]
    if notes:
        resource["note"] = notes
    return resource


def careplan_bundle(
    current: CurrentPlan,
    patient_id: int,
    nhs_number: str | None,
    earlier: list[PlanStage] | None = None,
) -> dict:
    """Return the person's plan as a validated FHIR R4 Bundle (a dict): the current plan
    `active` with every goal in it, whatever review agreed it, and each earlier agreed plan
    `completed` or `revoked` with the goals agreed at it."""
    from fhir.resources.R4B.bundle import Bundle

    if current.plan is None:
        raise ValueError("there is no agreed plan to export")
    plan = current.plan
    patient_url = urn("patient", patient_id)
    patient_ref = {"reference": patient_url, "display": current.person_name}
    patient: dict[str, Any] = {"resourceType": "Patient", "name": [{"text": current.person_name}]}
    if nhs_number:
        patient["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": nhs_number}]
    entries: list[dict[str, Any]] = [{"fullUrl": patient_url, "resource": patient}]
    goal_refs = []
    activities = []
    for goal in current.goals:
        url = urn("goal", goal.id)
        entries.append({"fullUrl": url, "resource": goal_resource(goal, patient_ref)})
        goal_refs.append({"reference": url, "display": goal.text[:200]})
        for action in current.actions.get(goal.id or 0, []):
            detail: dict[str, Any] = {
                "status": "completed" if action.done_at else "not-started",
                "description": action.text,
                "goal": [{"reference": url}],
                "performer": [{"display": action.who or OWNER_WORDS[action.owner]}],
            }
            if action.when:
                detail["scheduledString"] = action.when
            activities.append({"detail": detail})
    contributors = [patient_ref]
    if current.clinician_name:
        contributors.append({"display": current.clinician_name})
    careplan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "title": "My care and support plan",
        "subject": patient_ref,
        "created": fhir_date(plan.agreed_at or plan.created_at),
        "period": {"start": fhir_date((plan.agreed_at or plan.created_at).date())},
        "contributor": contributors,
        "goal": goal_refs,
    }
    if current.clinician_name:
        careplan["author"] = {"display": current.clinician_name}
    if activities:
        careplan["activity"] = activities
    notes = []
    if plan.person_note:
        notes.append({"authorString": current.person_name, "text": plan.person_note})
    if plan.note:
        author = current.clinician_names.get(plan.note_by_id or 0, "")
        notes.append({"authorString": author, "text": plan.note} if author else {"text": plan.note})
    if notes:
        careplan["note"] = notes
    earlier = [stage for stage in earlier or [] if stage.plan.id != plan.id]
    if earlier:
        careplan["replaces"] = [{"reference": urn("careplan", earlier[0].plan.id)}]
    entries.insert(1, {"fullUrl": urn("careplan", plan.id), "resource": careplan})
    listed = {g.id for g in current.goals}
    for stage in earlier:
        for goal in stage.goals:
            if goal.id not in listed:
                listed.add(goal.id)
                entries.append(
                    {"fullUrl": urn("goal", goal.id), "resource": goal_resource(goal, patient_ref)}
                )
        entries.append(
            {
                "fullUrl": urn("careplan", stage.plan.id),
                "resource": earlier_careplan(stage, patient_ref),
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": fhir_date(dt.datetime.now(dt.UTC)),
        "entry": entries,
    }
    # Raises if anything above is not valid FHIR: a bug, never the person's doing.
    Bundle.model_validate(bundle)
    return bundle
