"""Web Push against a local HTTP endpoint standing in for the push service: the payload
arrives encrypted, decrypts with the subscription's keys, and says nothing about health;
a push service answering 410 removes the subscription."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from sqlmodel import select

from webapp.accounts.services import load_actor
from webapp.notifications import push
from webapp.notifications.models import PushSubscription


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PushService:
    """A stand-in push service on 127.0.0.1 that records what it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 201
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.received.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(service.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service(app):
    vapid = Vapid()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    app.config.update(VAPID_PRIVATE_KEY=_b64(raw), PUSH_HOSTS=("127.0.0.1",), PUSH_ALLOW_HTTP=True)
    found = PushService()
    yield found, vapid
    found.close()


def _browser_keys() -> tuple[ec.EllipticCurvePrivateKey, bytes, dict]:
    """What a browser makes when it subscribes: a key pair and an auth secret."""
    private = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return private, auth, {"p256dh": _b64(public), "auth": _b64(auth)}


def test_a_reminder_arrives_encrypted_and_says_nothing_about_health(app, db, patient, service):
    pushes, vapid = service
    private, auth, keys = _browser_keys()
    with app.test_request_context():
        actor = load_actor(db, patient)
        push.subscribe(db, actor, {"endpoint": pushes.url + "/send/abc", "keys": keys}, "Phone")
        expected_key = push.public_key()
        sent = push.send(
            db, patient.id, push.Message("Coproduce", "Time for your check-in", "/goals/1")
        )
        db.commit()
    assert sent == 1
    ((path, headers, body),) = pushes.received
    assert path == "/send/abc"
    assert headers["content-encoding"] == "aes128gcm" and b"check-in" not in body
    # VAPID: signed with the configured key, whose public half browsers were given.
    assert f"k={expected_key}" in headers["authorization"]
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert expected_key == _b64(public)
    message = json.loads(
        http_ece.decrypt(body, private_key=private, auth_secret=auth, version="aes128gcm")
    )
    assert message == {"title": "Coproduce", "body": "Time for your check-in", "url": "/goals/1"}


def test_a_push_service_answering_410_removes_the_subscription(app, db, patient, service):
    pushes, _vapid = service
    pushes.status = 410
    _private, _auth, keys = _browser_keys()
    with app.test_request_context():
        actor = load_actor(db, patient)
        push.subscribe(db, actor, {"endpoint": pushes.url + "/gone", "keys": keys})
        assert push.send(db, patient.id, push.Message("Coproduce", "Time", "/")) == 0
        db.commit()
    assert db.exec(select(PushSubscription)).all() == []


def test_a_failing_push_service_keeps_the_subscription(app, db, patient, service):
    pushes, _vapid = service
    pushes.status = 500
    _private, _auth, keys = _browser_keys()
    with app.test_request_context():
        push.subscribe(db, load_actor(db, patient), {"endpoint": pushes.url + "/x", "keys": keys})
        assert push.send(db, patient.id, push.Message("Coproduce", "Time", "/")) == 0
        db.commit()
    assert len(db.exec(select(PushSubscription)).all()) == 1


@pytest.mark.parametrize(
    ("endpoint", "keys", "message"),
    [
        ("https://evil.example/steal", None, "not one we can send to"),
        ("http://fcm.googleapis.com/fcm/send/x", None, "not one we can send to"),
        ("https://fcm.googleapis.com.evil.example/x", None, "not one we can send to"),
        ("", None, "not one we can send to"),
        ("https://fcm.googleapis.com:8443/fcm/send/x", None, "not one we can send to"),
        ("https://fcm.googleapis.com:99999/fcm/send/x", None, "not one we can send to"),
        ("https://fcm.googleapis.com/fcm/send/x", {"p256dh": "short", "auth": "x"}, "keys"),
        ("https://fcm.googleapis.com/fcm/send/x", {"p256dh": "!!!", "auth": "@@"}, "keys"),
    ],
)
def test_subscriptions_only_to_real_push_services_with_usable_keys(
    app, db, patient, endpoint, keys, message
):
    app.config.update(PUSH_HOSTS=None, PUSH_ALLOW_HTTP=False)
    keys = keys or _browser_keys()[2]
    with app.test_request_context(), pytest.raises(push.PushError, match=message):
        push.subscribe(db, load_actor(db, patient), {"endpoint": endpoint, "keys": keys})
    assert db.exec(select(PushSubscription)).all() == []


def test_a_device_that_changes_hands_belongs_to_the_new_person(app, db, patient, clinician):
    keys = _browser_keys()[2]
    endpoint = "https://fcm.googleapis.com/fcm/send/device-1"
    with app.test_request_context():
        push.subscribe(db, load_actor(db, patient), {"endpoint": endpoint, "keys": keys})
        push.subscribe(db, load_actor(db, clinician), {"endpoint": endpoint, "keys": keys})
        assert push.devices(db, load_actor(db, patient)) == []
        assert len(push.devices(db, load_actor(db, clinician))) == 1


def test_without_a_vapid_key_push_is_off(app, db, patient):
    with app.test_request_context():
        assert push.public_key() == ""
        assert push.send(db, patient.id, push.Message("Coproduce", "Time", "/")) == 0
