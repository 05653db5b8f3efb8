"""Invitations: created by practice staff on a page or from the command line, stored hashed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from tests.conftest import add_person, sign_in
from webapp.accounts import services
from webapp.accounts.models import Invitation, Practice, Role
from webapp.accounts.services import AccountError


def test_staff_invite_a_patient_from_the_page(app, client, db, practice, clinician):
    sign_in(app, client, clinician)
    page = client.get(f"/care-team/practices/{practice.id}/invitations")
    assert page.status_code == 200
    response = client.form(
        f"/care-team/practices/{practice.id}/invitations",
        {"name": "Jordan Lee", "email": "Jordan@Example.org"},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    link = re.search(r"http://localhost/account/join/([\w-]+)", body).group(1)
    code = re.search(r'<code class="big-code">([A-Z0-9-]+)</code>', body).group(1)
    assert '<svg width="' in body and 'class="qr"' in body
    row = db.exec(select(Invitation)).one()
    assert row.email == "jordan@example.org" and row.invited_by_id == clinician.id
    assert link not in row.token_hash and code not in row.code_hash
    assert dt.timedelta(days=13) < row.expires_at - row.created_at <= dt.timedelta(days=14)
    assert app.test_client().get(f"/account/join/{link}").status_code == 200
    listing = client.get(f"/care-team/practices/{practice.id}/invitations")
    assert "Waiting until" in listing.get_data(as_text=True)


def test_invitation_form_errors_keep_what_was_typed(app, client, db, practice, clinician):
    sign_in(app, client, clinician)
    response = client.form(
        f"/care-team/practices/{practice.id}/invitations", {"name": "Jordan", "email": "nope"}
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "like name@example.com" in body and 'value="Jordan"' in body
    blank = client.form(f"/care-team/practices/{practice.id}/invitations", {"name": " "})
    assert "Enter a name" in blank.get_data(as_text=True)
    assert db.exec(select(Invitation)).all() == []


def test_withdrawn_invitation_cannot_be_used(app, client, db, practice, clinician):
    sign_in(app, client, clinician)
    with app.app_context():
        invitation, token, _code = services.create_invitation(db, None, practice.id, "Jordan Lee")
    response = client.form(
        f"/care-team/practices/{practice.id}/invitations/{invitation.id}/withdraw"
    )
    assert response.status_code == 303
    page = app.test_client().get(f"/account/join/{token}")
    assert page.status_code == 400
    assert "withdrawn" in page.get_data(as_text=True)
    again = client.form(f"/care-team/practices/{practice.id}/invitations/{invitation.id}/withdraw")
    assert "nothing changed" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_patients_and_other_practices_cannot_invite(app, client, db, practice, patient):
    other = Practice(name="Hillside Surgery")
    db.add(other)
    db.commit()
    outsider = add_person(db, "Olu Ade", "olu@example.org", (other, Role.CLINICIAN))
    for person in (patient, outsider):
        browser = app.test_client()
        sign_in(app, browser, person)
        url = f"/care-team/practices/{practice.id}/invitations"
        assert browser.get(url).status_code == 404
        assert browser.form(url, {"name": "Someone"}).status_code == 404
    assert db.exec(select(Invitation)).all() == []


def test_email_already_in_use(app, db, practice, patient):
    with app.app_context(), pytest.raises(AccountError, match="already has an account"):
        services.create_invitation(db, None, practice.id, "Pat again", "pat@example.org")


def test_cli_invites_a_patient(app, practice):
    result = app.test_cli_runner().invoke(
        args=["invite", "patient", "--practice", str(practice.id), "--name", "Jordan Lee"]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"link: http://localhost/account/join/[\w-]+", result.output)
    assert re.search(r"code: [A-Z0-9]{4}-[A-Z0-9]{4}", result.output)


def test_cli_explains_a_bad_practice(app):
    result = app.test_cli_runner().invoke(
        args=["invite", "patient", "--practice", "999999", "--name", "Jordan Lee"]
    )
    assert result.exit_code == 1
    assert "no practice with that number" in result.output


def test_a_staff_invitation_makes_a_clinician(app, client, db, practice, authenticator):
    from tests.accounts.helpers import join

    with app.app_context():
        _inv, token, _code = services.create_invitation(
            db, None, practice.id, "Dr Priya Shah", role=Role.CLINICIAN
        )
    assert join(client, authenticator, token=token).get_json()["ok"] is True
    home = client.get("/").get_data(as_text=True)
    assert "You work here as a clinician" in home
    assert client.get(f"/care-team/practices/{practice.id}/invitations").status_code == 200


def test_invitations_come_a_page_at_a_time(app, client, db, practice, clinician):
    with app.app_context():
        for i in range(25):
            services.create_invitation(db, None, practice.id, f"Person {i:02d}")
    sign_in(app, client, clinician)
    url = f"/care-team/practices/{practice.id}/invitations"
    first = client.get(url).get_data(as_text=True)
    assert first.count("Withdraw the invitation for") == 20
    assert f'href="{url}?page=2">Older invitations' in first and "Newer invitations" not in first
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert second.count("Withdraw the invitation for") == 5
    assert f'href="{url}?page=1">Newer invitations' in second and "Older invitations" not in second
    assert client.get(url + "?page=nonsense").status_code == 200


def test_an_nhs_number_given_with_the_invitation_goes_to_the_person(
    app, client, db, practice, clinician, authenticator
):
    from sqlmodel import select

    from tests.accounts.helpers import join
    from tests.conftest import sign_in
    from webapp.accounts.models import Invitation, Person

    sign_in(app, client, clinician)
    page = client.form(
        f"/care-team/practices/{practice.id}/invitations",
        {"name": "Jordan Lee", "nhs_number": "943 476 5919"},
    )
    assert page.status_code == 200
    invitation = db.exec(select(Invitation)).one()
    assert invitation.nhs_number == "9434765919"
    with app.app_context():
        _inv, token, _code = services.create_invitation(
            db, None, practice.id, "Sam Hill", nhs_number="9434765870"
        )
    client.post("/account/signout", data={"csrf_token": client.csrf_token()})
    assert join(client, authenticator, token=token).get_json()["ok"] is True
    assert db.exec(select(Person.nhs_number).where(Person.name == "Sam Hill")).one() == "9434765870"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("12345", "An NHS number is 10 digits"),
        ("94347659x9", "An NHS number is 10 digits"),
        ("9434765918", "That is not a valid NHS number"),
    ],
)
def test_a_wrong_nhs_number_is_explained(app, client, db, practice, clinician, number, message):
    from tests.conftest import sign_in

    sign_in(app, client, clinician)
    page = client.form(
        f"/care-team/practices/{practice.id}/invitations",
        {"name": "Jordan Lee", "nhs_number": number},
    )
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert message in body and f'value="{number}"' in body


def test_an_nhs_number_already_in_use(app, db, practice, patient):
    patient.nhs_number = "9434765919"
    db.add(patient)
    db.commit()
    with (
        app.app_context(),
        pytest.raises(AccountError, match="already has an account with that NHS"),
    ):
        services.create_invitation(db, None, practice.id, "Pat again", nhs_number="9434765919")


def test_cli_invites_with_an_nhs_number(app, db, practice):
    from sqlmodel import select

    from webapp.accounts.models import Invitation

    result = app.test_cli_runner().invoke(
        args=[
            "invite",
            "patient",
            "--practice",
            str(practice.id),
            "--name",
            "Jo",
            "--nhs-number",
            "9434765919",
        ]
    )
    assert result.exit_code == 0, result.output
    assert db.exec(select(Invitation.nhs_number)).one() == "9434765919"
