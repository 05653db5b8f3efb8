"""Random tokens and short codes, and the hashes we store instead of them."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app

# No 0/O, 1/I/L or U, so a code read aloud or typed from paper is hard to get wrong.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_token() -> str:
    """Return a long random token for a link."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest we store in place of a token or code."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_code(code: str) -> str:
    """Return a keyed hash (HMAC with the app's secret key) of a short code.

    Short codes have few possible values, so a plain hash in a stolen database copy could
    be reversed by trying them all; without the key it cannot.
    """
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def new_code(groups: int = 2, size: int = 4) -> str:
    """Return a short code to type, such as 'K7PM-X4HT'."""
    return "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(size)) for _ in range(groups)
    )


def normalise_code(text: str) -> str:
    """Return a typed code in canonical form: upper case, groups of four joined by '-'."""
    cleaned = re.sub(r"[^A-Z0-9]", "", text.upper())
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))
