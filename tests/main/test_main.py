"""Home, information pages, health check, manifest, service worker and error pages."""

from __future__ import annotations

import json
import re

from tests.conftest import make_app, sign_in


def test_welcome_page_for_visitors(client):
    page = client.get("/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Plan your care, in your own words" in body
    assert 'href="/account/signin"' in body and 'href="/account/join"' in body


def test_home_shows_only_what_the_person_has(app, client, patient, clinician, practice):
    sign_in(app, client, patient)
    body = client.get("/").get_data(as_text=True)
    assert "Hello, Pat" in body
    assert "Riverside Health Centre" in body and "registered here as a patient" in body
    assert "Invite patients" not in body
    assert "You have no passkey yet" in body
    staff = app.test_client()
    sign_in(app, staff, clinician)
    staff_body = staff.get("/").get_data(as_text=True)
    assert "Invite patients" in staff_body and "as a clinician" in staff_body
    assert "as a patient" not in staff_body


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(migrated):
    app = make_app(DATABASE_URL="sqlite:////nonexistent-folder/none.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data())
    assert manifest["display"] == "standalone"
    assert manifest["start_url"].startswith("/")
    assert manifest["name"] == "Coproduce" and manifest["short_name"]
    assert manifest["theme_color"].startswith("#")
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        fetched = client.get(icon["src"])
        assert fetched.status_code == 200 and fetched.mimetype == "image/png"
        fetched.close()


def test_service_worker_precaches_hashed_assets_and_the_offline_page(client):
    response = client.get("/sw.js")
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    assert "/offline" in precache
    assert any(re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", url) for url in precache)


def test_hashed_static_files_are_cached_for_a_year(app, client):
    hashed = app.extensions["assets"].hashed["css/app.css"]
    response = client.get(f"/static/{hashed}")
    assert response.status_code == 200
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.immutable
    response.close()
    plain = client.get("/static/css/app.css")
    assert plain.cache_control.no_cache
    plain.close()
    assert client.get("/static/vendor/README").status_code == 404


def test_pages_from_content(client):
    page = client.get("/pages/help-signing-in")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<h1>Help with signing in</h1>" in body and "<h2>Passkeys</h2>" in body
    assert client.get("/pages/nothing-here").status_code == 404


def test_not_found_page_is_plain_and_has_a_request_id(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Page not found" in body
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{12}", request_id)
    assert f"<code>{request_id}</code>" in body


def test_server_error_is_calm_and_logged_with_the_request_id(migrated, caplog):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaput")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Sorry, something went wrong on our side" in body
    assert "kaput" not in body and "Traceback" not in body
    request_id = response.headers["X-Request-ID"]
    assert request_id in body
    assert any(getattr(r, "request_id", None) == request_id for r in caplog.records)


def test_method_not_allowed_page(client):
    response = client.get("/account/signin/options")
    assert response.status_code == 405
    assert "cannot be used this way" in response.get_data(as_text=True)


def test_offline_page(client):
    page = client.get("/offline")
    assert page.status_code == 200
    assert "You are offline" in page.get_data(as_text=True)


def test_error_page_still_answers_when_the_database_is_down(migrated):
    app = make_app(DATABASE_URL="sqlite:////nonexistent-folder/none.db")
    client = app.test_client()
    # Anonymous pages need no database at all.
    assert client.get("/").status_code == 200
    with client.session_transaction() as browser:
        browser["_user_id"] = "some-session-token"
    response = client.get("/")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Sorry, something went wrong on our side" in body
    assert response.headers["X-Request-ID"] in body


def test_the_service_worker_never_touches_the_session(client):
    # Fetched in the background while a page loads; a Set-Cookie here could replace the
    # session (and its CSRF token) that the page's forms carry.
    response = client.get("/sw.js")
    assert "Set-Cookie" not in response.headers
