"""The person's notifications: what has happened since they last looked."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user, login_required

from webapp.db import get_session
from webapp.htmx import render
from webapp.notifications import services

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def index() -> Response:
    """List the person's newest notifications; looking at them marks them read."""
    db = get_session()
    notifications = services.recent(db, current_user)
    unread = {n.id for n in notifications if n.read_at is None}
    response = render("notifications/index.html", notifications=notifications, unread_ids=unread)
    if unread:
        services.mark_all_read(db, current_user)
    return response
