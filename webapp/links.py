"""Absolute links for emails and the command line, built from PUBLIC_URL."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, url_for


def public_url(endpoint: str, **values: Any) -> str:
    """Return the absolute public address of an endpoint, inside or outside a request."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return current_app.config["PUBLIC_URL"] + path
