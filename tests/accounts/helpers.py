"""Steps that several account tests share: inviting, joining with a passkey, signing in."""

from __future__ import annotations

from flask import Flask
from sqlmodel import Session

from tests.conftest import Client
from tests.softauthn import SoftAuthenticator
from webapp.accounts import services
from webapp.accounts.models import Practice


def invite(app: Flask, practice: Practice, name: str = "Jordan Lee", email: str = "") -> tuple:
    """Create an invitation from the command line's authority; return (invitation, token, code)."""
    with app.app_context(), Session(app.extensions["db_engine"], expire_on_commit=False) as s:
        return services.create_invitation(s, None, practice.id, name, email)


def join(
    client: Client,
    authenticator: SoftAuthenticator,
    token: str = "",
    code: str = "",
    name: str = "My phone",
) -> object:
    """Redeem an invitation by making a passkey; return the verify response."""
    options = client.json("/account/join/options", {"token": token, "code": code})
    assert options.status_code == 200, options.get_data(as_text=True)
    credential = authenticator.create(options.get_json())
    return client.json("/account/join/verify", {"credential": credential, "name": name})


def passkey_sign_in(client: Client, authenticator: SoftAuthenticator, **kwargs) -> object:
    """Sign in with the authenticator's newest passkey; return the verify response."""
    options = client.json("/account/signin/options")
    assert options.status_code == 200
    answer = authenticator.get(options.get_json(), **kwargs)
    return client.json("/account/signin/verify", {"credential": answer})


def signed_in_name(client: Client) -> str | None:
    """Return the greeting on the home page, or None when nobody is signed in."""
    page = client.get("/").get_data(as_text=True)
    if "Hello, " not in page:
        return None
    return page.split("Hello, ", 1)[1].split("<", 1)[0].strip()
