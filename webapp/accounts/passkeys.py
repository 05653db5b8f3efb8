"""Passkey ceremonies (WebAuthn, via py_webauthn): making a passkey and signing in with one.

Challenges are stored server-side, bound to the browser's session, used once
and valid for five minutes; user verification is always required.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from webapp import audit
from webapp.accounts.models import Invitation, Passkey, Person, WebAuthnChallenge
from webapp.accounts.services import AccountError, redeem_invitation, validate_passkey_name
from webapp.carers.models import CarerGrant
from webapp.db import utcnow

log = logging.getLogger(__name__)

CHALLENGE_MINUTES = 5
REGISTER, AUTHENTICATE = "register", "authenticate"


def _settings() -> tuple[str, str, str]:
    """Return the relying party's id, name and expected origin from configuration."""
    config = current_app.config
    return config["WEBAUTHN_RP_ID"], config["WEBAUTHN_RP_NAME"], config["WEBAUTHN_ORIGIN"]


def _store_challenge(
    session: Session, challenge: bytes, purpose: str, browser_id: str, **links: Any
) -> None:
    """Keep a new challenge for this browser, valid for five minutes (and drop stale ones)."""
    session.exec(
        delete(WebAuthnChallenge).where(
            WebAuthnChallenge.expires_at < utcnow() - dt.timedelta(hours=1)
        )
    )
    session.add(
        WebAuthnChallenge(
            challenge=challenge,
            purpose=purpose,
            browser_id=browser_id,
            expires_at=utcnow() + dt.timedelta(minutes=CHALLENGE_MINUTES),
            **links,
        )
    )
    session.commit()


def _consume_challenge(
    session: Session, browser_id: str, purpose: str, credential: dict[str, Any]
) -> WebAuthnChallenge:
    """Spend the challenge the browser answered, once; raise AccountError if it cannot be used."""
    try:
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        challenge = base64url_to_bytes(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        raise AccountError(_("The passkey's answer was incomplete. Please try again.")) from None
    stale = AccountError(
        _("This passkey request has expired or was already used. Please try again.")
    )
    row = session.exec(
        select(WebAuthnChallenge).where(
            WebAuthnChallenge.challenge == challenge,
            WebAuthnChallenge.purpose == purpose,
            WebAuthnChallenge.browser_id == browser_id,
        )
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise stale
    spent = session.exec(
        update(WebAuthnChallenge)
        .where(WebAuthnChallenge.id == row.id, WebAuthnChallenge.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:
        session.rollback()
        raise stale
    session.commit()
    return row


def begin_registration(
    session: Session,
    browser_id: str,
    *,
    person: Person | None = None,
    invitation: Invitation | None = None,
    carer_grant: CarerGrant | None = None,
) -> str:
    """Return creation options (JSON) for a new passkey: for a person, a practice's
    invitation, or a new carer's invitation."""
    rp_id, rp_name, _origin = _settings()
    if person is not None:
        user_handle, user_name = person.user_handle, person.email or person.name
        display_name = person.name
        existing = session.exec(
            select(Passkey.credential_id).where(Passkey.person_id == person.id)
        ).all()
        links: dict[str, Any] = {"person_id": person.id}
    elif invitation is not None:
        user_handle = secrets.token_bytes(32)
        user_name, display_name = invitation.email or invitation.name, invitation.name
        existing = []
        links = {"invitation_id": invitation.id, "user_handle": user_handle}
    elif carer_grant is not None:
        user_handle = secrets.token_bytes(32)
        user_name = display_name = carer_grant.carer_name
        existing = []
        links = {"carer_grant_id": carer_grant.id, "user_handle": user_handle}
    else:
        raise ValueError("begin_registration needs a person or an invitation")
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=display_name,
        timeout=CHALLENGE_MINUTES * 60 * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in existing],
    )
    _store_challenge(session, options.challenge, REGISTER, browser_id, **links)
    return options_to_json(options)


def finish_registration(
    session: Session,
    browser_id: str,
    credential: dict[str, Any],
    name: str,
    person: Person | None = None,
) -> tuple[Person, Passkey]:
    """Check a new passkey and keep it: for the signed-in `person`, or (without one) for the
    invitation the challenge was made for, creating the person in the same transaction."""
    name = validate_passkey_name(name)
    challenge = _consume_challenge(session, browser_id, REGISTER, credential)
    # Each flow accepts only its own challenges: adding a passkey never redeems an invitation,
    # and joining never adds a passkey to an existing account.
    if person is not None:
        wrong_flow = challenge.person_id != person.id
    else:
        wrong_flow = challenge.invitation_id is None and challenge.carer_grant_id is None
    if wrong_flow:
        raise AccountError(
            _("This passkey request has expired or was already used. Please try again.")
        )
    rp_id, _rp_name, origin = _settings()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge.challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except WebAuthnException as error:
        log.warning("passkey registration refused: %s", error)
        raise AccountError(
            _("Your passkey could not be checked, so it was not saved. Please try again.")
        ) from None
    if session.exec(
        select(Passkey.id).where(Passkey.credential_id == verified.credential_id)
    ).first():
        raise AccountError(_("This passkey is already registered. Sign in with it instead."))
    try:
        if person is None and challenge.carer_grant_id is not None:
            from webapp.carers.services import accept_as_new_carer

            assert challenge.user_handle is not None
            person = accept_as_new_carer(session, challenge.carer_grant_id, challenge.user_handle)
        elif person is None:
            invitation = session.get(Invitation, challenge.invitation_id)
            assert invitation is not None and challenge.user_handle is not None
            person = redeem_invitation(session, invitation, challenge.user_handle)
        passkey = Passkey(
            person_id=person.id,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=",".join(credential.get("response", {}).get("transports") or [])[:200],
            name=name,
            backed_up=bool(verified.credential_backed_up),
        )
        session.add(passkey)
        session.flush()
        audit.record(session, person.id, "passkey.add", person.id, passkey_id=passkey.id)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountError(
            _("This passkey is already registered. Sign in with it instead.")
        ) from None
    except AccountError:
        session.rollback()
        raise
    return person, passkey


def begin_authentication(session: Session, browser_id: str, person: Person | None = None) -> str:
    """Return request options (JSON) for signing in with any of this site's passkeys, or,
    with `person`, for confirming something with one of that person's own passkeys only."""
    rp_id, _rp_name, _origin = _settings()
    allowed = []
    if person is not None:
        allowed = [
            PublicKeyCredentialDescriptor(id=c)
            for c in session.exec(
                select(Passkey.credential_id).where(Passkey.person_id == person.id)
            )
        ]
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=CHALLENGE_MINUTES * 60 * 1000,
        user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=allowed or None,
    )
    links = {"person_id": person.id} if person is not None else {}
    _store_challenge(session, options.challenge, AUTHENTICATE, browser_id, **links)
    return options_to_json(options)


def finish_authentication(
    session: Session, browser_id: str, credential: dict[str, Any], person: Person | None = None
) -> Person:
    """Check a passkey's signed answer and return the person it belongs to. With `person`
    (a confirmation), only a challenge made for them and one of their passkeys will do, and
    nobody else's passkey is touched."""
    challenge = _consume_challenge(session, browser_id, AUTHENTICATE, credential)
    if challenge.person_id != (person.id if person is not None else None):
        raise AccountError(
            _("This passkey request has expired or was already used. Please try again.")
        )
    try:
        raw_id = base64url_to_bytes(credential["rawId"])
        response = credential["response"]
        handle = response.get("userHandle")
        base64url_to_bytes(response["authenticatorData"])
    except (KeyError, TypeError, ValueError, WebAuthnException):
        raise AccountError(_("The passkey's answer was incomplete. Please try again.")) from None
    passkey = session.exec(select(Passkey).where(Passkey.credential_id == raw_id)).first()
    if passkey is None:
        raise AccountError(
            _(
                "We don't recognise this passkey. It may have been removed from your account. "
                "Try another passkey, or sign in with an email link or a recovery code."
            )
        )
    if person is not None and passkey.person_id != person.id:
        raise AccountError(_("That passkey belongs to someone else. Use one of your own."))
    person = session.get(Person, passkey.person_id)
    assert person is not None
    rp_id, _rp_name, origin = _settings()
    try:
        # The signature is checked first, so an unsigned, made-up answer can neither sign
        # anyone in nor raise a false alarm below. Counts are compared after it, by us.
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge.challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except WebAuthnException as error:
        log.warning("passkey sign-in refused for passkey %s: %s", passkey.id, error)
        raise AccountError(_("Your passkey could not be checked. Please try again.")) from None
    if handle and base64url_to_bytes(handle) != person.user_handle:
        audit.record(session, None, "passkey.handle_mismatch", person.id, passkey_id=passkey.id)
        session.commit()
        log.warning("passkey %s presented with another account's user handle", passkey.id)
        raise AccountError(_("This passkey does not belong to this account. Please try again."))
    new_count = verified.new_sign_count
    if (new_count > 0 or passkey.sign_count > 0) and new_count <= passkey.sign_count:
        # A count that goes backwards can mean a cloned authenticator: refuse and record it.
        audit.record(
            session,
            None,
            "passkey.sign_count_regression",
            person.id,
            passkey_id=passkey.id,
            stored=passkey.sign_count,
            presented=new_count,
        )
        session.commit()
        log.warning(
            "passkey %s sign count went backwards (%s after %s)",
            passkey.id,
            new_count,
            passkey.sign_count,
        )
        raise AccountError(
            _(
                "This passkey could not be trusted, so you have not been signed in. Sign in "
                "another way, then remove this passkey in your account settings."
            )
        )
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    passkey.backed_up = bool(verified.credential_backed_up)
    session.commit()
    return person
