"""Request ids in every log line, and the security headers every response carries."""

from __future__ import annotations

import logging
import secrets
import time

from flask import Flask, Response, current_app, g, has_request_context, request

access_log = logging.getLogger("webapp.access")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class RequestIdFilter(logging.Filter):
    """Add the current request's id to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set record.request_id ('-' outside a request)."""
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def init_logging(app: Flask) -> None:
    """Log to standard error with the request id on each line (once per process)."""
    logger = app.logger  # the "webapp" logger, parent of every module's logger
    if not any(isinstance(f, RequestIdFilter) for h in logger.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
        handler.addFilter(RequestIdFilter())
        logger.handlers = [handler]
    logger.setLevel(logging.INFO)


def _start_request() -> None:
    """Give the request an id that appears in logs and on error pages."""
    g.request_id = secrets.token_hex(6)
    g.started = time.perf_counter()


def _log_request(response: Response) -> Response:
    """Log each request by its route's pattern, so links' secrets never reach the log."""
    rule = request.url_rule.rule if request.url_rule else "(no route)"
    elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    access_log.info("%s %s %s %.1fms", request.method, rule, response.status_code, elapsed)
    return response


def _add_headers(response: Response) -> Response:
    """Add the security headers, and keep signed-in pages out of shared caches."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if g.get("request_id"):
        headers["X-Request-ID"] = g.request_id

    if current_app.config.get("HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if (
        response.mimetype == "text/html"
        and "Cache-Control" not in headers
        and request.endpoint != "static"
    ):
        # A person's own pages never sit in a shared or back-button cache. The user loaded
        # for this request is read from g, so an error page never triggers a second lookup.
        user = g.get("_login_user")
        if user is not None and user.is_authenticated:
            headers["Cache-Control"] = "private, no-store"
        else:
            headers["Cache-Control"] = "no-cache"
        response.vary.add("Cookie")
    return response


def init_app(app: Flask) -> None:
    """Register the request-id and header hooks."""
    app.before_request(_start_request)
    app.after_request(_add_headers)
    app.after_request(_log_request)
