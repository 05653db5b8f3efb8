"""Pages kept between visits, per worker: rendered once, served until what they show changes.

A kept page is keyed by everything it shows, so a change anywhere makes a new key and the
old entry simply ages out of the least-recently-used cache. Per-request values (the CSRF
token, a form's idempotency key) are left in the HTML as placeholders and filled in on
every request.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from cachetools import LRUCache
from flask import Response, current_app, make_response, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

KEPT_BYTES = 8 * 1024 * 1024
# Markers replaced on every request. They hold "<" and ">", which text typed by anyone is
# always escaped out of, so no one's words can ever turn into a marker. (Markup: rendered
# as they are; JSON in an attribute shows them as \u003c and \u003e, replaced too.)
TOKEN_PLACEHOLDER = Markup("<kept:csrf-token>")
KEY_PLACEHOLDER = Markup("<kept:form-key>")


def _forms(marker: str) -> tuple[str, str]:
    return marker, marker.replace("<", "\\u003c").replace(">", "\\u003e")


def kept_html(key: tuple, render: Callable[[], str]) -> str:
    """Return the HTML kept for a key, rendering it only if this worker has not yet."""
    cache, lock = current_app.extensions.setdefault(
        "kept_html", (LRUCache(maxsize=KEPT_BYTES, getsizeof=len), threading.Lock())
    )
    with lock:
        found = cache.get(key)
    if found is None:
        found = render()
        with lock:
            cache[key] = found
    return found


def fill(html: str) -> str:
    """Fill a kept page's placeholders for this request: the visitor's CSRF token, and a
    fresh idempotency key for each form that has one (no two forms share a key)."""
    token = generate_csrf()
    for marker in _forms(TOKEN_PLACEHOLDER):
        html = html.replace(marker, token)
    parts = html.split(KEY_PLACEHOLDER)
    if len(parts) == 1:
        return html
    keys = (secrets.token_urlsafe(12) for _ in range(len(parts) - 1))
    return parts[0] + "".join(key + part for key, part in zip(keys, parts[1:], strict=True))


def plain_visit() -> bool:
    """Say whether this request may be answered from a kept page: a plain GET of a full page
    with no message waiting to be shown."""
    from webapp.htmx import wants_partial

    return request.method == "GET" and not wants_partial() and "_flashes" not in session


def kept_page(key: tuple, template: str, context: Callable[[], dict[str, Any]]) -> Response:
    """Answer with a kept page: `key` names everything the page's own data shows (the
    visitor, their language, the header's counts and roles are added here); `context` is only
    called when the page has to be rendered. Templates name the form key `key`."""
    full_key = (
        template,
        current_user.id,  # the page carries who is signed in (for the page script)
        current_user.acting,  # and, for a carer, whose record and which scopes (the banner)
        *key,
        str(get_locale()),
        current_user.header_counts,
        current_user.roles,
    )
    html = kept_html(
        full_key,
        lambda: render_template(
            template, key=KEY_PLACEHOLDER, csrf_token=lambda: TOKEN_PLACEHOLDER, **context()
        ),
    )
    response = make_response(fill(html))
    response.vary.add("HX-Request")
    return response
