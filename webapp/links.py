"""Links: absolute ones for emails and the command line, and remembered ones for every page."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for


def public_url(endpoint: str, **values: Any) -> str:
    """Return the absolute public address of an endpoint, inside or outside a request."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return current_app.config["PUBLIC_URL"] + path


def link(endpoint: str, **values: str | int) -> str:
    """Return url_for(endpoint, **values), built once per app and mount point.

    The header and footer of every page carry a dozen links that never change; building
    each with the URL map on every request was a tenth of a signed-in page's time.
    """
    links: dict[tuple, str] = current_app.extensions.setdefault("links", {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    found = links.get(key)
    if found is None:
        found = links[key] = url_for(endpoint, **values)
    return found


# A number no record has, standing in for one id while a link's pattern is built.
_STAND_IN = 987_654_321_987


def link_with(endpoint: str, name: str, value: int, **values: str | int) -> str:
    """Return url_for(endpoint, name=value, **values), from a pattern built once: for links
    repeated on every row of a list, where only one id changes from row to row."""
    pattern = link(endpoint, **values, **{name: _STAND_IN})
    return pattern.replace(str(_STAND_IN), str(int(value)))


def init_app(app: Flask) -> None:
    """Give templates the remembered links as `path_for()` (`link` is a common variable name)
    and `path_with()` for a list's rows."""
    app.jinja_env.globals["path_for"] = link
    app.jinja_env.globals["path_with"] = link_with
