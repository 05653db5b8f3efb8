"""The security baseline: headers, CSP, CSRF on every state change, rate limits."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in
from webapp.security import CSP


@pytest.mark.parametrize(
    "path", ["/", "/account/signin", "/healthz", "/manifest.webmanifest", "/sw.js", "/no-such-page"]
)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_csp_forbids_inline_script_and_style():
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP


def test_pages_have_no_inline_script_or_style(app, client, patient):
    sign_in(app, client, patient)
    for path in ["/", "/account", "/account/signin", "/account/join", "/pages/about"]:
        body = client.get(path).get_data(as_text=True)
        assert "<script>" not in body and "<style" not in body and " style=" not in body
        assert "onclick=" not in body


def test_signed_in_pages_are_not_stored(app, client, patient):
    assert client.get("/").headers["Cache-Control"] == "no-cache"
    sign_in(app, client, patient)
    assert client.get("/").headers["Cache-Control"] == "private, no-store"


def test_form_posts_need_the_csrf_token(app, client, patient):
    sign_in(app, client, patient)
    response = client.post("/account/recovery-codes")
    assert response.status_code == 400
    assert "Something went wrong with that request" in response.get_data(as_text=True)
    forged = client.post("/account/recovery-codes", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert client.form("/account/recovery-codes").status_code == 200


def test_json_posts_need_the_csrf_header(client):
    response = client.post("/account/signin/options", json={})
    assert response.status_code == 400
    assert response.get_json()["ok"] is False
    assert client.json("/account/signin/options").status_code == 200


def test_htmx_header_carries_the_token(client):
    body = client.get("/").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


def test_passkey_sign_in_is_rate_limited(client):
    statuses = [client.json("/account/signin/verify").status_code for _ in range(31)]
    assert statuses[:30] == [400] * 30
    assert statuses[30] == 429
    limited = client.json("/account/signin/verify")
    assert limited.get_json()["ok"] is False
    assert "try again in" in limited.get_json()["error"]
    assert int(limited.headers["Retry-After"]) > 0


def test_invitation_codes_are_rate_limited(client):
    statuses = [client.form("/account/join", {"code": "ABCD-EFGH"}).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_uploads_are_size_limited(app, client):
    response = client.post("/account/join", data={"code": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_rate_limits_are_shared_through_redis_when_configured(migrated):
    import secrets

    from tests.conftest import make_app

    # Two apps stand for two workers: with REDIS_URL they share one count. A fresh key
    # prefix keeps this run's counts apart from any other run on the same Redis.
    settings = {
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "RATELIMIT_KEY_PREFIX": "coproduce-test-" + secrets.token_hex(4),
    }
    first, second = make_app(**settings), make_app(**settings)
    statuses = []
    for i in range(11):
        client = (first if i % 2 else second).test_client()
        statuses.append(client.form("/account/join", {"code": "ABCD-EFGH"}).status_code)
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_the_log_never_holds_a_link_secret(app, client, patient, caplog):
    caplog.set_level("INFO", logger="webapp.access")
    client.get("/account/signin/link/secret-looking-token-123")
    client.get("/account/join/another-secret-456")
    logged = caplog.text
    assert "GET /account/signin/link/<token> 400" in logged
    assert "secret-looking-token-123" not in logged and "another-secret-456" not in logged


def test_refused_requests_still_carry_an_id_and_headers(client):
    for _ in range(10):
        client.form("/account/join", {"code": "ABCD-EFGH"})
    refused = client.form("/account/join", {"code": "ABCD-EFGH"})
    assert refused.status_code == 429
    assert refused.headers["X-Request-ID"] in refused.get_data(as_text=True)
    assert refused.headers["Content-Security-Policy"] == CSP


def test_pages_whose_address_holds_a_secret_are_not_stored(app, client, practice, patient):
    import re

    from tests.accounts.helpers import invite
    from tests.conftest import outbox

    _inv, token, _code = invite(app, practice)
    assert client.get(f"/account/join/{token}").headers["Cache-Control"] == "no-store"
    client.form("/account/signin/link", {"email": "pat@example.org"})
    path = re.search(r"http://localhost(/\S+)", outbox(app)[0].get_content()).group(1)
    assert client.get(path).headers["Cache-Control"] == "no-store"
