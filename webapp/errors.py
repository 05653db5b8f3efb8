"""Error pages in plain words, each with the request id that is also in the log."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.extensions import retry_minutes
from webapp.inputs import TooDeep

log = logging.getLogger(__name__)

PLAIN_ERROR = (
    '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title}</title></head><body><main><h1>{title}</h1><p>{message}</p>"
    "<p>Reference: <code>{request_id}</code></p></main></body></html>"
)


def _wants_json() -> bool:
    """Say whether the client is a script expecting JSON (the passkey steps)."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _messages(code: int) -> tuple[str, str]:
    """Return the title and explanation for an error status, in plain words."""
    retry = ""
    if code == 429:
        retry = _("Please wait and try again in %(n)d minutes.", n=retry_minutes())
    table = {
        400: (
            _("Something went wrong with that request"),
            _(
                "The page may have been open for a long time. Go back, reload the page, "
                "and try again."
            ),
        ),
        403: (
            _("You cannot do that"),
            _("Your account does not allow this. If you think it should, ask your practice."),
        ),
        404: (
            _("Page not found"),
            _("We could not find that page. Check the address, or go back to your home page."),
        ),
        405: (
            _("Something went wrong with that request"),
            _("That address cannot be used this way. Go back to your home page."),
        ),
        413: (_("That file is too big"), _("Please choose a smaller file and try again.")),
        429: (
            _("Too many tries"),
            _("For your safety we have paused this for a while.") + " " + retry,
        ),
    }
    return table.get(
        code,
        (
            _("Sorry, something went wrong on our side"),
            _("It is not your fault. Please try again in a few minutes."),
        ),
    )


def _error_response(code: int, message: str | None = None) -> Response:
    """Render the error page or JSON body for a status code (with its own message, if the
    error has one to say)."""
    title, standard = _messages(code)
    message = message or standard
    request_id = g.get("request_id", "-")
    # A failed transaction must not fail the page that says so: start the session afresh.
    session = g.get("db_session")
    if session is not None:
        try:
            session.rollback()
        except Exception:  # the database itself is gone: the plain page below still works
            log.warning("could not roll back before the error page", exc_info=True)
    if _wants_json():
        response = jsonify(ok=False, error=f"{title}. {message}", request_id=request_id)
    else:
        try:
            body = render_template(
                "errors/error.html", code=code, title=title, message=message, request_id=request_id
            )
        except Exception:  # the page itself failed (say the database is down): keep it plain
            log.exception("error page could not be rendered")
            body = PLAIN_ERROR.format(
                title=escape(title), message=escape(message), request_id=escape(request_id)
            )
        response = Response(body, mimetype="text/html")
    response.status_code = code
    return response


def handle_http_error(error: HTTPException) -> Response:
    """Answer an HTTP error with a plain page."""
    code = error.code or 500
    response = _error_response(
        code,
        _("That request was nested too deeply to read. Reload the page and try again.")
        if isinstance(error, TooDeep)
        else None,
    )
    if code == 429:
        response.headers["Retry-After"] = str(retry_minutes() * 60)
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response


def handle_csrf_error(error: CSRFError) -> Response:
    """Answer a missing or stale CSRF token: the form was old or forged."""
    log.warning("CSRF check failed: %s", error.description)
    return _error_response(400)


def handle_unexpected(error: Exception) -> Response:
    """Log an unexpected error with its request id and show a calm page."""
    if isinstance(error, HTTPException) and not isinstance(error, InternalServerError):
        return handle_http_error(error)
    log.exception("unhandled error")
    return _error_response(500)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
