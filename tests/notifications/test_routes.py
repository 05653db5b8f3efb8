"""The notifications page: devices with notifications on, and the weekly summary."""

from __future__ import annotations

from sqlmodel import select

from tests.conftest import sign_in
from webapp.goals.models import WeeklySummary
from webapp.notifications.models import PushSubscription

KEYS = {"p256dh": "BA" + "A" * 85, "auth": "A" * 22}


def test_a_device_is_added_listed_and_turned_off(app, client, db, patient):
    app.config["VAPID_PRIVATE_KEY"] = "kXbuAGOsH2DySu8LzcE_pKX2kQcTWCb5o5f0TOWI7xI"
    sign_in(app, client, patient)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Turn on notifications on this device" in page and 'data-key="B' in page
    subscription = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": KEYS}
    added = client.json(
        "/notifications/devices", {"subscription": subscription, "label": "Chrome on Android"}
    )
    assert added.status_code == 201
    refused = client.json(
        "/notifications/devices", {"subscription": {**subscription, "endpoint": "https://x.test/"}}
    )
    assert refused.status_code == 422 and "not one we can send to" in refused.get_json()["error"]
    page = client.get("/notifications").get_data(as_text=True)
    assert "Chrome on Android" in page
    device = db.exec(select(PushSubscription)).one()
    assert client.form(f"/notifications/devices/{device.id}/remove").status_code == 303
    assert db.exec(select(PushSubscription)).all() == []


def test_without_push_configured_the_page_says_reminders_stay_in_the_app(app, client, patient):
    sign_in(app, client, patient)
    page = client.get("/notifications").get_data(as_text=True)
    assert "not set up for this service yet" in page and "data-push-subscribe" not in page


def test_the_weekly_summary_is_turned_on_and_off(app, client, db, patient):
    sign_in(app, client, patient)
    client.form("/notifications/weekly", {"weekly": "1"})
    assert "It is on." in client.get("/notifications").get_data(as_text=True)
    assert db.exec(select(WeeklySummary)).one()
    client.form("/notifications/weekly", {"weekly": "0"})
    assert db.exec(select(WeeklySummary)).all() == []


def test_signing_out_forgets_this_device_and_the_page_has_one_title(app, client, db, patient):
    sign_in(app, client, patient)
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('id="devices-heading"') == 1 and "<title>Notifications" in page
    subscription = {"endpoint": "https://fcm.googleapis.com/fcm/send/shared-phone", "keys": KEYS}
    client.json("/notifications/devices", {"subscription": subscription})
    other = client.json("/notifications/devices/forget", {"endpoint": "https://elsewhere/x"})
    assert other.status_code == 200 and len(db.exec(select(PushSubscription)).all()) == 1
    client.json("/notifications/devices/forget", {"endpoint": subscription["endpoint"]})
    assert db.exec(select(PushSubscription)).all() == []
