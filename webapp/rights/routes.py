"""The person's data rights: who has seen my record, and download everything held about me."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request
from flask_login import current_user, login_required

from webapp.db import get_session
from webapp.htmx import render, requested_page
from webapp.rights import fhir, services

bp = Blueprint("rights", __name__, url_prefix="/account/my-data")


@bp.get("")
@login_required
def index() -> Response:
    """Show what the person can do with their data, and who has seen their record lately."""
    page = requested_page()
    everyone = request.args.get("all") == "1"
    found, more = services.activity(
        get_session(), current_user, current_user.id, page, others_only=not everyone
    )
    return render(
        "rights/index.html",
        "rights/_activity.html",
        activity=found,
        page=page,
        has_more=more,
        everyone=everyone,
    )


def _download(body: str, filename: str, mimetype: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/everything.json")
@login_required
def everything_json() -> Response:
    """Download everything held about the person as JSON."""
    data = services.everything(get_session(), current_user, current_user.id)
    return _download(services.as_json(data), "coproduce-my-data.json", "application/json")


@bp.get("/everything.fhir.json")
@login_required
def everything_fhir() -> Response:
    """Download the person's record as a FHIR R4 Bundle."""
    bundle = fhir.everything_bundle(get_session(), current_user, current_user.id)
    return _download(
        json.dumps(bundle, indent=2, ensure_ascii=False),
        "coproduce-my-record-fhir.json",
        "application/fhir+json",
    )
