"""The home page, information pages, health check, and the PWA's manifest and service worker."""

from __future__ import annotations

import json
import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text

from webapp.access import can
from webapp.accounts import services
from webapp.carers import services as carers
from webapp.content import get_content
from webapp.db import get_session
from webapp.goals import services as goals
from webapp.goals.routes import OFFLINE_HEADER, outcome_names
from webapp.htmx import render
from webapp.notifications import services as notifications
from webapp.results import services as results
from webapp.reviews import services as reviews

bp = Blueprint("main", __name__)

THEME_COLOUR = "#0b5c5a"
# Goals with one-tap logging on the home page; the rest are a tap away.
HOME_GOALS = 3


@bp.get("/")
def index() -> Response:
    """Show the signed-in person's home, or the welcome page to anyone else."""
    if not current_user.is_authenticated:
        return render("main/welcome.html")
    db = get_session()
    passkey_count, recovery_codes = services.account_safety(db, current_user)
    # A carer acting for someone sees that person's home, as far as their scopes reach.
    whose = current_user.record_id
    patient = current_user.is_patient or current_user.acting is not None
    # A carer helping only in the time bank does not see the review's date.
    review = (
        reviews.next_review(db, current_user, whose)
        if patient and can(current_user, "reviews.read_own", whose)
        else None
    )
    open_goals = (
        [g for g in goals.my_goals(db, current_user, whose) if g.status in goals.OPEN]
        if patient and can(current_user, "goals.own", whose)
        else []
    )
    said_something = "_flashes" in session
    response = render(
        "main/home.html",
        # The carer's own news is theirs: not shown on the home of someone they help.
        notifications=notifications.unread(db, current_user) if current_user.acting is None else [],
        agenda=results.agenda(db, current_user, whose, review)
        if patient and can(current_user, "results.read_own", whose)
        else [],
        memberships=services.practice_memberships(current_user),
        goals=[(goal, secrets.token_urlsafe(12)) for goal in open_goals[:HOME_GOALS]],
        more_goals=max(len(open_goals) - HOME_GOALS, 0),
        outcomes=outcome_names(),
        passkey_count=passkey_count,
        helped=carers.people_i_help(db, current_user),
        review=review,
        recovery_codes=recovery_codes,
    )
    # Kept on the person's phone for offline reading, as the plan is (emptied at sign-out);
    # not someone else's home on a carer's phone, nor one saying something just done.
    if current_user.acting is None and not said_something:
        response.headers[OFFLINE_HEADER] = "personal"
    return response


@bp.get("/pages/<slug>")
def page(slug: str) -> Response:
    """Show a page of plain-language information from content/pages."""
    found = get_content().pages.get(slug)
    if found is None:
        abort(404)
    return render("main/page.html", page=found)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the app and its database are working (JSON)."""
    try:
        get_session().exec(text("SELECT 1")).one()
    except Exception:  # any failure to reach the database is the answer, not an error
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/offline")
def offline() -> Response:
    """Show the page the service worker answers with when there is no connection."""
    return render("main/offline.html")


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """Return the web app manifest that makes the app installable."""
    asset = current_app.jinja_env.globals["asset"]
    data = {
        "name": "Coproduce",
        "short_name": "Coproduce",
        "description": _("Plan your care with your care team, in your own words."),
        "lang": "en-GB",
        "id": "/",
        "start_url": url_for("main.index") + "?source=pwa",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [
            {
                "src": asset("icons/icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": asset("icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": asset("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = Response(json.dumps(data), mimetype="application/manifest+json")
    response.cache_control.no_cache = True
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    """Return the service worker, which precaches the hashed static files and the offline page."""
    assets = current_app.extensions["assets"]
    precache = [url_for("static", filename=name) for name in assets.hashed.values()]
    precache.append(url_for("main.offline"))
    body = render_template(
        "main/sw.js",
        version=assets.version(),
        precache=json.dumps(precache),
        offline_url=json.dumps(url_for("main.offline")),
    )
    response = Response(body, mimetype="text/javascript")
    response.cache_control.no_cache = True
    response.headers["Service-Worker-Allowed"] = "/"
    return response
