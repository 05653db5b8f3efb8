"""Web Push: devices the person allowed, and sending them short messages (pywebpush, VAPID).

Messages carry no health details: a phone's lock screen may be read by anyone ("Time for
your check-in", never the goal's words). The VAPID key comes from configuration; without it
reminders still arrive in the app. Endpoints are only ever push services' own addresses
(PUSH_HOSTS), so a subscription can never make the server call somewhere else.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from flask import current_app
from flask_babel import gettext as _
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlmodel import Session, col, select

from webapp import audit
from webapp.access import Actor
from webapp.db import utcnow
from webapp.notifications.models import PushSubscription

log = logging.getLogger(__name__)
# The push services of the browsers people use; a subscription elsewhere is refused.
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "push.services.mozilla.com",
    "web.push.apple.com",
    "notify.windows.com",
)
GONE = (404, 410)


class PushError(ValueError):
    """A subscription that cannot be used, with what is wrong."""


@dataclass(frozen=True)
class Message:
    """What a notification says: a title, a line, and where a tap goes (never health data)."""

    title: str
    body: str
    url: str


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _vapid() -> Vapid | None:
    """Return the configured VAPID key (base64url raw or PEM), or None when push is off."""
    secret = (current_app.config.get("VAPID_PRIVATE_KEY") or "").strip()
    if not secret:
        return None
    return Vapid.from_pem(secret.encode()) if "BEGIN" in secret else Vapid.from_string(secret)


def public_key() -> str:
    """Return the VAPID public key browsers subscribe with (base64url), or "" when push is off."""
    vapid = _vapid()
    if vapid is None:
        return ""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _allowed(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    hosts = current_app.config.get("PUSH_HOSTS") or DEFAULT_PUSH_HOSTS
    host = (parts.hostname or "").lower()
    scheme_ok = parts.scheme == "https" or (
        parts.scheme == "http" and current_app.config.get("PUSH_ALLOW_HTTP", False)
    )
    try:
        port = parts.port
    except ValueError:
        return False
    port_ok = port is None or current_app.config.get("PUSH_ALLOW_HTTP", False)
    return scheme_ok and port_ok and any(host == h or host.endswith("." + h) for h in hosts)


def subscribe(session: Session, actor: Actor, data: dict, label: str = "") -> PushSubscription:
    """Keep one device's subscription for the signed-in person (a device has one owner)."""
    endpoint = str(data.get("endpoint") or "")
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    p256dh, auth = str(keys.get("p256dh") or ""), str(keys.get("auth") or "")
    if not endpoint or len(endpoint) > 1000 or not _allowed(endpoint):
        raise PushError(_("This browser's notification service is not one we can send to."))
    try:
        point, secret = _b64(p256dh), _b64(auth)
    except (binascii.Error, ValueError):
        point, secret = b"", b""
    if len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise PushError(
            _("This browser sent keys we cannot use. Try allowing notifications again.")
        )
    found = session.exec(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    ).first()
    if found is None:
        found = PushSubscription(endpoint=endpoint, person_id=actor.id, p256dh=p256dh, auth=auth)
        session.add(found)
    found.person_id, found.p256dh, found.auth = actor.id, p256dh, auth
    found.label = label.strip()[:120]
    session.flush()
    audit.record(session, actor.id, "push.subscribe", actor.id, subscription_id=found.id)
    session.commit()
    return found


def devices(session: Session, actor: Actor) -> list[PushSubscription]:
    """Return the devices the person gets notifications on, newest first."""
    return list(
        session.exec(
            select(PushSubscription)
            .where(PushSubscription.person_id == actor.id)
            .order_by(col(PushSubscription.created_at).desc())
        )
    )


def remove(session: Session, actor: Actor, subscription_id: int) -> None:
    """Stop sending notifications to one of the person's devices."""
    found = session.get(PushSubscription, subscription_id)
    if found is None or found.person_id != actor.id:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    session.delete(found)
    audit.record(session, actor.id, "push.unsubscribe", actor.id, subscription_id=subscription_id)
    session.commit()


def forget(session: Session, actor: Actor, endpoint: str) -> None:
    """Stop sending to the device with this endpoint, if it is the actor's."""
    found = session.exec(
        select(PushSubscription).where(
            PushSubscription.endpoint == endpoint, PushSubscription.person_id == actor.id
        )
    ).first()
    if found is not None:
        remove(session, actor, found.id or 0)


def send(session: Session, person_id: int, message: Message) -> int:
    """Send a message to each of the person's devices; return how many took it.

    A device whose push service answers 404 or 410 has gone: its subscription is removed.
    Other failures are logged and left for the next message. The caller commits.
    """
    vapid = _vapid()
    if vapid is None:
        return 0
    subject = current_app.config.get("VAPID_SUBJECT") or "mailto:no-reply@localhost"
    payload = json.dumps({"title": message.title, "body": message.body, "url": message.url})
    sent = 0
    for device in session.exec(
        select(PushSubscription).where(PushSubscription.person_id == person_id)
    ).all():
        try:
            webpush(
                {
                    "endpoint": device.endpoint,
                    "keys": {"p256dh": device.p256dh, "auth": device.auth},
                },
                data=payload,
                vapid_private_key=vapid,
                vapid_claims={"sub": subject},
                timeout=10,
                ttl=12 * 60 * 60,
            )
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else None
            if status in GONE:
                log.info("push: subscription %s has gone (%s); removed", device.id, status)
                session.delete(device)
            else:
                log.warning("push: sending to subscription %s failed: %s", device.id, status)
            continue
        except Exception:  # a network failure to one device never stops the others
            log.exception("push: sending to subscription %s failed", device.id)
            continue
        device.last_sent_at = utcnow()
        sent += 1
    return sent
