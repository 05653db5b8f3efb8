"""The person's notifications: what has happened since they last looked, the devices they
get notifications on, and the quiet weekly summary."""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.db import get_session
from webapp.goals import reminders
from webapp.htmx import hx_redirect, render
from webapp.notifications import push, services

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def index() -> Response:
    """List the person's newest notifications; looking at them marks them read."""
    db = get_session()
    notifications = services.recent(db, current_user)
    unread = {n.id for n in notifications if n.read_at is None}
    response = render(
        "notifications/index.html",
        notifications=notifications,
        unread_ids=unread,
        devices=push.devices(db, current_user),
        push_key=push.public_key(),
        weekly=reminders.weekly_summary(db, current_user) is not None,
    )
    if unread:
        services.mark_all_read(db, current_user)
    return response


@bp.post("/devices")
@login_required
def add_device() -> tuple[Response, int]:
    """Keep this device's push subscription (sent by the page script as JSON)."""
    data = request.get_json(silent=True) or {}
    subscription = data.get("subscription") if isinstance(data, dict) else None
    try:
        push.subscribe(
            get_session(),
            current_user,
            subscription if isinstance(subscription, dict) else {},
            str(data.get("label") or "")[:120],
        )
    except push.PushError as error:
        return jsonify(error=str(error)), 422
    flash(_("Notifications are on for this device."), "success")
    return jsonify(ok=True), 201


@bp.post("/devices/forget")
@login_required
def forget_device() -> tuple[Response, int]:
    """Stop notifications on the device signing out (sent by the page script as JSON)."""
    data = request.get_json(silent=True) or {}
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    push.forget(get_session(), current_user, str(endpoint or "")[:1000])
    return jsonify(ok=True), 200


@bp.post("/devices/<int:device_id>/remove")
@login_required
def remove_device(device_id: int) -> Response:
    """Stop notifications on one device."""
    push.remove(get_session(), current_user, device_id)
    flash(_("Notifications are off for that device."))
    return hx_redirect(url_for("notifications.index"))


@bp.post("/weekly")
@login_required
def weekly() -> Response:
    """Turn the quiet weekly summary on or off."""
    wanted = request.form.get("weekly") == "1"
    reminders.set_weekly_summary(get_session(), current_user, wanted)
    flash(
        _("You will get a quiet look back each Sunday evening.")
        if wanted
        else _("No weekly summary.")
    )
    return hx_redirect(url_for("notifications.index"))
