"""The account page: listing, adding, renaming and removing passkeys."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.accounts.helpers import invite, join
from tests.softauthn import SoftAuthenticator
from webapp.accounts.models import Passkey


def add_passkey(client, authenticator, name="Laptop"):
    """Add another passkey from the account page."""
    options = client.json("/account/passkeys/options").get_json()
    return client.json(
        "/account/passkeys/verify", {"credential": authenticator.create(options), "name": name}
    )


def test_list_add_rename_remove(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token, name="Phone")
    options = client.json("/account/passkeys/options").get_json()
    # The passkey this person already has is excluded, so the device does not make a second.
    assert len(options["excludeCredentials"]) == 1
    laptop = SoftAuthenticator()
    response = client.json(
        "/account/passkeys/verify", {"credential": laptop.create(options), "name": "Laptop"}
    )
    assert response.get_json() == {"ok": True, "redirect": "/account"}
    page = client.get("/account").get_data(as_text=True)
    assert "Phone" in page and "Laptop" in page and "Passkey “Laptop” added." in page
    phone, laptop_row = db.exec(select(Passkey).order_by(Passkey.id)).all()
    renamed = client.form(f"/account/passkeys/{laptop_row.id}/rename", {"name": "  Work  laptop "})
    assert renamed.status_code == 303
    db.expire_all()
    assert db.get(Passkey, laptop_row.id).name == "Work laptop"
    removed = client.form(f"/account/passkeys/{phone.id}/delete")
    assert removed.status_code == 303
    db.expire_all()
    assert [p.name for p in db.exec(select(Passkey))] == ["Work laptop"]


def test_blank_or_long_name_is_explained(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token, name="Phone")
    passkey = db.exec(select(Passkey)).one()
    for name, message in (("   ", "Give the passkey a name"), ("x" * 61, "60 characters or fewer")):
        response = client.form(f"/account/passkeys/{passkey.id}/rename", {"name": name})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Passkey, passkey.id).name == "Phone"


def test_last_passkey_stays_unless_recovery_codes_exist(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    passkey = db.exec(select(Passkey)).one()
    refused = client.form(f"/account/passkeys/{passkey.id}/delete")
    assert refused.status_code == 422
    assert "only passkey" in refused.get_data(as_text=True)
    assert db.exec(select(Passkey)).one()
    client.form("/account/recovery-codes")
    assert client.form(f"/account/passkeys/{passkey.id}/delete").status_code == 303
    assert db.exec(select(Passkey)).all() == []


def test_someone_elses_passkey_is_not_found(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice, "Jordan Lee")
    join(client, authenticator, token=token)
    _inv2, token2, _code2 = invite(app, practice, "Sam Hill")
    sam = app.test_client()
    join(sam, SoftAuthenticator(), token=token2)
    jordans = db.exec(select(Passkey).order_by(Passkey.id)).first()
    assert sam.form(f"/account/passkeys/{jordans.id}/rename", {"name": "Mine"}).status_code == 404
    assert sam.form(f"/account/passkeys/{jordans.id}/delete").status_code == 404
    assert sam.form("/account/passkeys/99999/delete").status_code == 404
    db.expire_all()
    assert db.get(Passkey, jordans.id).name == "My phone"


def test_htmx_rename_error_returns_the_partial(app, client, db, practice, authenticator):
    _inv, token, _code = invite(app, practice)
    join(client, authenticator, token=token)
    passkey = db.exec(select(Passkey)).one()
    response = client.form(
        f"/account/passkeys/{passkey.id}/rename", {"name": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<section")
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Dr Priya Shah", "Priya"),
        ("Dr. Priya Shah", "Priya"),
        ("Prof Sir Alan Jones", "Alan"),
        ("Mrs Jo Lee", "Jo"),
        ("Pat Morgan", "Pat"),
        ("Pat", "Pat"),
        ("Dr Shah", "Dr Shah"),  # a surname alone would be rude
        ("  ", ""),
    ],
)
def test_people_are_greeted_by_a_sensible_name(name, greeting):
    from webapp.accounts.models import given_name

    assert given_name(name) == greeting
