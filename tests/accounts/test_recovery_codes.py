"""Recovery codes: ten, shown once, stored with argon2, each used once, replaceable."""

from __future__ import annotations

import re

from sqlmodel import select

from tests.accounts.helpers import signed_in_name
from tests.conftest import sign_in
from webapp.accounts.models import RecoveryCode

CODE = re.compile(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>")


def make_codes(client) -> list[str]:
    """Make recovery codes from the account page and return them as shown."""
    page = client.form("/account/recovery-codes")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    return CODE.findall(page.get_data(as_text=True))


def test_ten_codes_stored_hashed(app, client, db, patient):
    sign_in(app, client, patient)
    codes = make_codes(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    rows = db.exec(select(RecoveryCode)).all()
    assert len(rows) == 10
    for row in rows:
        assert row.secret_hash.startswith("$argon2")
        assert all(code.replace("-", "")[6:] not in row.secret_hash for code in codes)
    assert "10 unused recovery codes" in client.get("/account").get_data(as_text=True)


def test_code_signs_in_once(app, client, db, patient):
    sign_in(app, client, patient)
    codes = make_codes(client)
    client.form("/account/signout")
    response = client.form("/account/recover", {"code": codes[3].lower()})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    assert "9 codes left" in client.get("/account").get_data(as_text=True)
    assert signed_in_name(client) == "Pat"
    client.form("/account/signout")
    again = client.form("/account/recover", {"code": codes[3]})
    assert again.status_code == 422
    assert "not right" in again.get_data(as_text=True)
    assert signed_in_name(client) is None


def test_wrong_code(app, client, patient):
    sign_in(app, client, patient)
    codes = make_codes(client)
    client.form("/account/signout")
    # The right selector with a wrong secret, a wrong length, nothing at all.
    selector = codes[0].replace("-", "")[:6]
    for attempt in (f"{selector}AAAAAAAAAA", "short", ""):
        response = client.form("/account/recover", {"code": attempt})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "That recovery code is not right" in page
        assert 'aria-invalid="true"' in page
    assert signed_in_name(client) is None


def test_new_codes_replace_old_ones(app, client, patient):
    sign_in(app, client, patient)
    old = make_codes(client)
    new = make_codes(client)
    assert not set(old) & set(new)
    client.form("/account/signout")
    assert client.form("/account/recover", {"code": old[0]}).status_code == 422
    assert client.form("/account/recover", {"code": new[0]}).status_code == 303


def test_too_many_attempts(app, client, patient):
    statuses = [
        client.form("/account/recover", {"code": "AAAA-BBBB-CCCC-DDDD"}).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
