"""Journeys in Chromium, as a person takes them: by labels and roles, on a phone-sized screen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from tests.browser.conftest import LiveServer, add_authenticator, wait_until
from tests.conftest import add_person
from webapp.accounts import services
from webapp.accounts.models import Passkey, Practice, Role


def make_practice(server: LiveServer) -> Practice:
    """Add a practice to the live server's database."""
    with Session(server.app.extensions["db_engine"], expire_on_commit=False) as db:
        practice = Practice(name="Riverside Health Centre")
        db.add(practice)
        db.commit()
        return practice


def invitation_link(server: LiveServer, practice: Practice, name: str = "Jordan Lee") -> str:
    """Invite someone and return the link the practice would give them."""
    with server.app.app_context(), Session(server.app.extensions["db_engine"]) as db:
        _invitation, token, _code = services.create_invitation(db, None, practice.id, name)
    return f"{server.url}/account/join/{token}"


def passkey_names(server: LiveServer) -> list[str]:
    """Return the names of every stored passkey."""
    with Session(server.app.extensions["db_engine"]) as db:
        return [p.name for p in db.exec(select(Passkey).order_by(Passkey.id))]


def sign_out_and_back_in_by_autofill(server: LiveServer, page: Page) -> None:
    """Sign out, and watch the sign-in page sign the person back in through passkey autofill."""
    with page.expect_response(lambda r: r.url.endswith("/account/signin/verify")) as answer:
        page.get_by_role("button", name="Sign out").click()
    assert answer.value.status == 200
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_role("heading", name="Hello, Jordan")).to_be_visible()


def test_join_sign_out_sign_in_and_manage_passkeys(server: LiveServer, page: Page):
    practice = make_practice(server)
    link = invitation_link(server, practice)
    cdp, phone = add_authenticator(page)

    # Redeem the invitation and make a passkey.
    page.goto(link)
    expect(page.get_by_role("heading", name="Welcome, Jordan Lee")).to_be_visible()
    page.get_by_label("Name for this passkey").fill("Jordan's phone")
    page.get_by_role("button", name="Create my passkey").click()
    expect(page.get_by_role("heading", name="Hello, Jordan")).to_be_visible()
    expect(page.get_by_text("Your passkey is ready")).to_be_visible()

    # Sign out. The sign-in page offers the passkey as autofill; the virtual authenticator
    # picks it at once, so the person is back in without typing or pressing anything.
    sign_out_and_back_in_by_autofill(server, page)

    # Add a second passkey from a second device (a new authenticator).
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": phone})
    add_authenticator(page)
    page.get_by_role("link", name="Your account", exact=True).click()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    page.get_by_label("Name for the new passkey").fill("Laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey “Laptop” added.")).to_be_visible()
    assert passkey_names(server) == ["Jordan's phone", "Laptop"]

    # Remove the first one.
    page.get_by_role("button", name="Remove “Jordan's phone”").click()
    expect(page.get_by_text("Passkey removed.")).to_be_visible()
    expect(page.get_by_role("heading", name="Jordan's phone")).to_have_count(0)
    assert passkey_names(server) == ["Laptop"]

    # The remaining passkey signs in.
    sign_out_and_back_in_by_autofill(server, page)


def test_sign_in_with_the_passkey_button(server: LiveServer, page: Page):
    # A browser without passkey autofill: the button is the way in.
    page.add_init_script(
        "PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false)"
    )
    link = invitation_link(server, make_practice(server))
    add_authenticator(page)
    page.goto(link)
    page.get_by_role("button", name="Create my passkey").click()
    expect(page.get_by_role("heading", name="Hello, Jordan")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="Hello, Jordan")).to_be_visible()


def test_cancelled_passkey_explains_itself(server: LiveServer, page: Page):
    practice = make_practice(server)
    link = invitation_link(server, practice)
    add_authenticator(page, user_verified=False)
    page.goto(link)
    page.get_by_role("button", name="Create my passkey").click()
    # The person does not confirm with their fingerprint: the browser reports it as cancelled.
    status = page.locator("[data-passkey-status]")
    expect(status).to_contain_text("cancelled or timed out", timeout=20_000)
    expect(page.get_by_role("button", name="Create my passkey")).to_be_enabled()
    assert passkey_names(server) == []


def test_sign_in_by_link_with_javascript_off(server: LiveServer, browser):
    with Session(server.app.extensions["db_engine"], expire_on_commit=False) as db:
        practice = Practice(name="Riverside Health Centre")
        db.add(practice)
        db.commit()
        add_person(db, "Pat Morgan", "pat@example.org", (practice, Role.PATIENT))
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(server.url + "/account/signin")
    expect(page.get_by_text("Passkeys need JavaScript")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    page.get_by_label("Your email address").fill("pat@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    (mail,) = server.outbox()
    link = re.search(r"(http://localhost:\d+/account/signin/link/\S+)", mail.get_content())
    page.goto(link.group(1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Pat")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    context.close()


def test_join_by_email_with_javascript_off(server: LiveServer, browser):
    link = invitation_link(server, make_practice(server), "Sam Hill")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(link)
    expect(page.get_by_text("Making a passkey needs JavaScript")).to_be_visible()
    expect(page.get_by_role("button", name="Create my passkey")).to_be_hidden()
    page.get_by_label("Your email address").fill("sam@example.org")
    page.get_by_role("button", name="Email me a link to join").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    (mail,) = server.outbox()
    page.goto(
        re.search(r"(http://localhost:\d+/account/join/email/\S+)", mail.get_content()).group(1)
    )
    page.get_by_role("button", name="Join Coproduce").click()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    expect(page.get_by_text("Welcome, Sam.")).to_be_visible()
    context.close()


def test_a_page_loads_offline_after_a_first_visit(server: LiveServer, page: Page):
    page.goto(server.url + "/")
    wait_until(page, "!!(navigator.serviceWorker && navigator.serviceWorker.controller)")
    page.reload()  # now the service worker has seen the page and kept it
    page.context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.get_by_role("heading", name="Plan your care, in your own words")).to_be_visible()
    # The stylesheet came from the cache too.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(243, 246, 245)"
    # A page never visited shows the offline page instead of the browser's error.
    page.goto(server.url + "/pages/privacy")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    page.context.set_offline(False)


def test_the_app_is_installable(server: LiveServer, page: Page):
    page.goto(server.url + "/")
    wait_until(page, "!!(navigator.serviceWorker && navigator.serviceWorker.controller)")
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Test contexts are incognito profiles, where Chromium never installs apps; that is the
    # only reason allowed.
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []


def test_new_version_prompt(server: LiveServer, page: Page):
    page.goto(server.url + "/")
    wait_until(page, "!!(navigator.serviceWorker && navigator.serviceWorker.controller)")
    assets = server.app.extensions["assets"]
    original = assets.version
    assets.version = lambda: "a-new-release"
    try:
        page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
        prompt = page.get_by_text("A new version of Coproduce is ready.")
        expect(prompt).to_be_visible()
        page.get_by_role("button", name="Use the new version").click()
        page.wait_for_load_state()
        wait_until(page, "caches.keys().then(k => k.includes('static-a-new-release'))")
    finally:
        assets.version = original


def test_keyboard_skip_link(server: LiveServer, page: Page):
    page.goto(server.url + "/account/signin")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_a_browser_without_the_webauthn_json_helpers_still_makes_and_uses_a_passkey(
    server: LiveServer, page: Page
):
    # As older iPhones and Android browsers: WebAuthn, but none of Level 3's JSON helpers
    # (and no autofill), so the page converts the options and the answers itself.
    page.add_init_script(
        "delete PublicKeyCredential.parseCreationOptionsFromJSON;"
        "delete PublicKeyCredential.parseRequestOptionsFromJSON;"
        "delete PublicKeyCredential.prototype.toJSON;"
        "PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);"
    )
    link = invitation_link(server, make_practice(server))
    add_authenticator(page)
    page.goto(link)
    assert page.evaluate("typeof PublicKeyCredential.parseCreationOptionsFromJSON") == "undefined"
    page.get_by_label("Name for this passkey").fill("Old phone")
    page.get_by_role("button", name="Create my passkey").click()
    expect(page.get_by_role("heading", name="Hello, Jordan")).to_be_visible()
    assert passkey_names(server) == ["Old phone"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="Hello, Jordan")).to_be_visible()
