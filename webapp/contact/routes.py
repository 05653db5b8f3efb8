"""The care team's side of a request to be contacted: saying it has been done."""

from __future__ import annotations

from flask import Blueprint, Response, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.contact import services
from webapp.db import get_session
from webapp.htmx import hx_redirect, is_htmx

bp = Blueprint("contact", __name__, url_prefix="/contact")


@bp.post("/practices/<int:practice_id>/requests/<int:request_id>/acknowledge")
@login_required
def acknowledge(practice_id: int, request_id: int) -> Response:
    """Record that someone on the staff has contacted the person who asked."""
    if services.acknowledge(get_session(), current_user, practice_id, request_id):
        flash(_("Thank you. It is off the list."), "success")
    else:
        flash(_("Someone on the team had already said they contacted them."), "info")
    # htmx would only scroll for an address that differs by its #fragment, not load it again.
    anchor = None if is_htmx() else "contact"
    return hx_redirect(url_for("reviews.index", practice_id=practice_id, _anchor=anchor))
