"""Pages kept between visits, per worker: rendered once, served until what they show changes.

A kept page is keyed by everything it shows, so a change anywhere makes a new key and the
old entry simply ages out of the least-recently-used cache. Per-request values (the CSRF
token, a form's idempotency key) are left in the HTML as placeholders and filled in on
every request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cachetools import LRUCache
from flask import current_app

KEPT_BYTES = 8 * 1024 * 1024
TOKEN_PLACEHOLDER = "__csrf_token__"  # noqa: S105 - a marker replaced on every request
KEY_PLACEHOLDER = "__form_key__"


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
