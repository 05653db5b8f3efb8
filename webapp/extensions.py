"""Flask extensions, created bare here and bound to the app in create_app."""

from __future__ import annotations

import math
import time

from flask import request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx


def client_address() -> str:
    """Return the client's address for rate limiting (ProxyFix sets it behind a proxy)."""
    return request.remote_addr or "unknown"


login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(client_address, default_limits=[], headers_enabled=True)
babel = Babel()
htmx_ext = Htmx()
compress = Compress()


def retry_minutes() -> int:
    """Return how many minutes until the current rate limit lets the client try again."""
    current = limiter.current_limit
    if current is None:
        return 15
    return max(1, math.ceil((current.reset_at - time.time()) / 60))
