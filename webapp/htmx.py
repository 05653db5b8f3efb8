"""The only place that knows htmx's headers: render a page or its partial, and redirect."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template, request


def is_htmx() -> bool:
    """Say whether the request was sent by htmx."""
    return bool(getattr(request, "htmx", False))


def wants_partial() -> bool:
    """Say whether to answer with a partial: an htmx request, not boosted, not a history restore."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page: str, partial: str | None = None, /, status: int = 200, **context: Any) -> Response:
    """Render the full page, or only its partial for an htmx request; vary on HX-Request."""
    template = partial if partial and wants_partial() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def hx_redirect(url: str) -> Response:
    """Send the browser to url: HX-Redirect for htmx, a 303 See Other otherwise."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
    else:
        response = redirect(url, 303)
    response.vary.add("HX-Request")
    return response


def requested_page(limit: int = 10_000) -> int:
    """Return the list page asked for in ?page=, from 1 up to `limit` (bad values give 1)."""
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), limit)
