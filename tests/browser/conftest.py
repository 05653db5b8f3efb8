"""Real-browser fixtures: the app served on 127.0.0.1, Debian's Chromium, a fresh context per test.

Chromium is never downloaded: the tests use /usr/bin/chromium (installed by `make chromium`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from tests.conftest import empty_tables, make_app
from webapp.extensions import limiter

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder as a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


class LiveServer:
    """The app on a free port of 127.0.0.1, addressed as http://localhost:PORT."""

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.app = make_app(keep=True)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://localhost:{self.server.server_port}"
        # The passkey origin and links must match the address the browser uses.
        self.app.config.update(WEBAUTHN_ORIGIN=self.url, PUBLIC_URL=self.url)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def outbox(self) -> list:
        """Return the emails the app has sent."""
        return self.app.extensions.setdefault("outbox", [])

    def stop(self) -> None:
        """Stop serving and close the database connections."""
        self.server.shutdown()
        self.server.server_close()
        self.app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def live(migrated: str) -> Iterator[LiveServer]:
    """One server for the whole browser run."""
    server = LiveServer()
    yield server
    server.stop()


@pytest.fixture
def server(live: LiveServer) -> Iterator[LiveServer]:
    """The live server with an empty database and fresh limits for this test."""
    limiter.reset()
    live.outbox().clear()
    yield live
    empty_tables(live.app)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make chromium` (as root) first.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile: own cookies, storage and service workers; phone-sized."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in the fresh context."""
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def add_authenticator(page: Page, user_verified: bool = True) -> tuple[object, str]:
    """Give the page a virtual passkey authenticator (a phone with a fingerprint reader);
    with user_verified False, the person never confirms with their fingerprint."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": user_verified,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, result["authenticatorId"]


def wait_until(page: Page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression until it is true (wait_for_function would need eval,
    which the app's CSP rightly forbids)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except PlaywrightError as error:  # the page navigated mid-check: look again
            if "context was destroyed" not in str(error):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(100)


AXE_SOURCE = None


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the page (WCAG 2.2 A and AA, and best practice) and return violations."""
    global AXE_SOURCE
    if AXE_SOURCE is None:
        import axe_playwright_python

        AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',"
        " 'wcag21aa', 'wcag22aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]


def screenshot(page: Page, name: str) -> None:
    """Save full-page screenshots at 360 px and 1280 px wide into test-artifacts/."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(original)
