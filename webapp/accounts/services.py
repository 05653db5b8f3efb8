"""What people can do with their accounts: join, sign in, sign out, manage passkeys and codes."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import replace
from typing import NamedTuple

from argon2 import PasswordHasher, profiles
from argon2.exceptions import VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from werkzeug.exceptions import NotFound

from webapp import audit, mail  # mail.purge; messages through send_mail below
from webapp.access import SCOPES, Acting, Actor, require
from webapp.accounts.models import (
    AuthSession,
    Invitation,
    Passkey,
    Person,
    Practice,
    PracticeRole,
    RecoveryCode,
    Role,
    SignInLink,
    WebAuthnChallenge,
)
from webapp.accounts.tokens import (
    CODE_ALPHABET,
    hash_code,
    hash_token,
    new_code,
    new_token,
    normalise_code,
)
from webapp.carers.models import CarerGrant
from webapp.db import utcnow
from webapp.formatting import local_date
from webapp.groups.looks import header_columns
from webapp.links import public_url
from webapp.mail import send_mail
from webapp.notifications.models import Notification

SIGN_IN_LINK_MINUTES = 15
RECOVERY_CODE_COUNT = 10
NAME_MAX = 120
EMAIL_MAX = 254
PASSKEY_NAME_MAX = 60


def _hasher() -> PasswordHasher:
    """Return the argon2 hasher; the profile is configurable so tests can use the cheapest."""
    profile = getattr(profiles, current_app.config.get("ARGON2_PROFILE", "RFC_9106_LOW_MEMORY"))
    return PasswordHasher.from_parameters(profile)


class AccountError(Exception):
    """Something a person can put right; the message says what and how."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- people and roles ---------------------------------------------------------


# Statements that run on every signed-in request, built once (building one costs more than
# running it on SQLite).
_ROLES = (
    select(PracticeRole.practice_id, PracticeRole.role, Practice.name)
    .join(Practice, Practice.id == PracticeRole.practice_id)
    .where(PracticeRole.person_id == bindparam("person_id"))
)


def load_actor(session: Session, person: Person, session_token: str = "") -> Actor:
    """Return the actor for a person, with every role they hold and their practices' names."""
    rows = session.exec(_ROLES, params={"person_id": person.id}).all()
    return Actor(
        person=person,
        roles=frozenset((p, r) for p, r, _name in rows),
        practice_names=tuple(sorted({(p, name) for p, _r, name in rows})),
        session_token=session_token,
    )


def validate_name(name: str, field: str = "name") -> str:
    """Return a cleaned name, or raise AccountError saying what is wrong."""
    name = " ".join(name.split())
    if not name:
        raise AccountError(_("Enter a name."), field)
    if len(name) > NAME_MAX:
        raise AccountError(_("The name must be %(n)d characters or fewer.", n=NAME_MAX), field)
    return name


def validate_email(email: str, field: str = "email", required: bool = False) -> str | None:
    """Return a cleaned email address (lower case), None if blank, or raise AccountError."""
    email = email.strip().lower()
    if not email:
        if required:
            raise AccountError(_("Enter your email address."), field)
        return None
    local, at, domain = email.partition("@")
    if len(email) > EMAIL_MAX or not at or not local or "." not in domain or " " in email:
        raise AccountError(
            _("Enter an email address in the right form, like name@example.com."), field
        )
    return email


def validate_nhs_number(text: str, field: str = "nhs_number") -> str | None:
    """Return an NHS number as ten digits, None if blank, or raise AccountError.

    The tenth digit is a check digit (modulus 11), which catches most typing slips.
    """
    digits = "".join(text.split()).replace("-", "")
    if not digits:
        return None
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        raise AccountError(
            _("An NHS number is 10 digits, like 943 476 5919. Check the number and try again."),
            field,
        )
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        raise AccountError(
            _("That is not a valid NHS number: a digit may be wrong. Check it and try again."),
            field,
        )
    return digits


class PracticeRef(NamedTuple):
    """A practice's id and name, as the actor's roles carry them."""

    id: int
    name: str


def practice_memberships(actor: Actor) -> list[tuple[PracticeRef, list[str]]]:
    """Return each practice the actor belongs to, by name, with the roles they hold there."""
    return [
        (PracticeRef(pid, name), sorted(role for p, role in actor.roles if p == pid))
        for pid, name in sorted(actor.practice_names, key=lambda item: item[1])
    ]


def account_safety(session: Session, actor: Actor) -> tuple[int, int]:
    """Return the actor's number of passkeys and of unused recovery codes, in one query."""
    require(actor, "account.manage", actor.id)
    row = session.exec(_SAFETY, params={"person_id": actor.id}).one()
    return int(row[0]), int(row[1])


# Asked on every visit to the home page, so built once.
_SAFETY = select(
    select(func.count(Passkey.id))
    .where(Passkey.person_id == bindparam("person_id"))
    .scalar_subquery(),
    select(func.count(RecoveryCode.id))
    .where(RecoveryCode.person_id == bindparam("person_id"), RecoveryCode.used_at.is_(None))
    .scalar_subquery(),
)


def create_practice(session: Session, name: str, ods_code: str | None = None) -> Practice:
    """Add a practice (from the command line, with the operator's authority)."""
    clean = " ".join(name.split())
    if not clean or len(clean) > 200:
        raise AccountError(_("Give the practice a name of up to 200 characters."), "name")
    code = (ods_code or "").strip().upper() or None
    if code and (len(code) > 10 or not code.isalnum()):
        raise AccountError(_("An ODS code is up to 10 letters and numbers, like Y00001."), "ods")
    if code and session.exec(select(Practice.id).where(Practice.ods_code == code)).first():
        raise AccountError(_("A practice with that ODS code already exists."), "ods")
    practice = Practice(name=clean, ods_code=code)
    session.add(practice)
    session.flush()
    audit.record(session, None, "practice.create", practice_id=practice.id)
    session.commit()
    return practice


def practice_name(session: Session, practice_id: int) -> str:
    """Return a practice's name, to greet someone it invited (public to the invitation holder)."""
    practice = session.get(Practice, practice_id)
    return practice.name if practice else ""


def get_practice(session: Session, actor: Actor, practice_id: int) -> Practice:
    """Return a practice the actor works in, or raise NotFound."""
    require(actor, "practice.view", practice_id)
    practice = session.get(Practice, practice_id)
    if practice is None:
        raise NotFound()
    return practice


# --- invitations --------------------------------------------------------------


def create_invitation(
    session: Session,
    actor: Actor | None,
    practice_id: int,
    name: str,
    email: str = "",
    role: str = Role.PATIENT,
    nhs_number: str = "",
) -> tuple[Invitation, str, str]:
    """Invite someone to a practice; return the invitation, its link token and its short code.

    `actor` is None only for the command line, which runs with the operator's authority.
    """
    if actor is not None:
        require(actor, "practice.invite", practice_id)
    if session.get(Practice, practice_id) is None:
        raise AccountError(_("There is no practice with that number."), "practice")
    name = validate_name(name)
    clean_email = validate_email(email)
    if clean_email and session.exec(select(Person.id).where(Person.email == clean_email)).first():
        raise AccountError(_("Someone already has an account with that email address."), "email")
    clean_nhs = validate_nhs_number(nhs_number) if role == Role.PATIENT else None
    if clean_nhs and session.exec(select(Person.id).where(Person.nhs_number == clean_nhs)).first():
        raise AccountError(_("Someone already has an account with that NHS number."), "nhs_number")
    token, code = new_token(), new_code()
    invitation = Invitation(
        practice_id=practice_id,
        role=str(role),
        name=name,
        email=clean_email,
        nhs_number=clean_nhs,
        token_hash=hash_token(token),
        code_hash=hash_code(code),
        invited_by_id=actor.id if actor else None,
        expires_at=utcnow() + dt.timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        actor.id if actor else None,
        "invitation.create",
        invitation_id=invitation.id,
        practice_id=practice_id,
    )
    session.commit()
    return invitation, token, code


INVITATIONS_PER_PAGE = 20


def list_invitations(
    session: Session, actor: Actor, practice_id: int, page: int = 1
) -> tuple[list[Invitation], bool]:
    """Return one page of the practice's invitations, newest first, and whether more follow."""
    require(actor, "practice.view", practice_id)
    rows = list(
        session.exec(
            select(Invitation)
            .where(Invitation.practice_id == practice_id)
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .offset((max(page, 1) - 1) * INVITATIONS_PER_PAGE)
            .limit(INVITATIONS_PER_PAGE + 1)
        )
    )
    return rows[:INVITATIONS_PER_PAGE], len(rows) > INVITATIONS_PER_PAGE


def revoke_invitation(session: Session, actor: Actor, practice_id: int, invitation_id: int) -> bool:
    """Withdraw an unused invitation so it can no longer be redeemed; say whether it was."""
    require(actor, "practice.invite", practice_id)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.practice_id != practice_id:
        raise NotFound()
    if invitation.redeemed_at is None and invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        audit.record(session, actor.id, "invitation.revoke", invitation_id=invitation_id)
        session.commit()
        return True
    return False


def invitation_status(invitation: Invitation, now: dt.datetime | None = None) -> str:
    """Return 'joined', 'withdrawn', 'expired' or 'waiting' for an invitation."""
    now = now or utcnow()
    if invitation.redeemed_at:
        return "joined"
    if invitation.revoked_at:
        return "withdrawn"
    if invitation.expires_at <= now:
        return "expired"
    return "waiting"


def find_invitation(session: Session, token: str = "", code: str = "") -> Invitation:
    """Return the usable invitation for a link token or typed code, or raise AccountError."""
    if code:
        canonical = normalise_code(code)
        if len(canonical.replace("-", "")) != 8 or any(
            c not in CODE_ALPHABET for c in canonical.replace("-", "")
        ):
            raise AccountError(
                _(
                    "An invitation code has 8 letters and numbers, like K7PM-X4HT. "
                    "Check the code and try again."
                ),
                "code",
            )
        invitation = session.exec(
            select(Invitation).where(Invitation.code_hash == hash_code(canonical))
        ).first()
    else:
        invitation = (
            session.exec(
                select(Invitation).where(Invitation.token_hash == hash_token(token))
            ).first()
            if token
            else None
        )
    if invitation is None:
        raise AccountError(
            _(
                "We could not find that invitation. Check the code or link, or ask your "
                "practice for a new one."
            ),
            "code",
        )
    return _usable(invitation)


def _usable(invitation: Invitation) -> Invitation:
    """Return the invitation if it can be redeemed, or raise AccountError saying why not."""
    status = invitation_status(invitation)
    if status == "joined":
        raise AccountError(
            _(
                "This invitation has already been used. If it was you, sign in instead. "
                "If not, ask your practice for a new invitation."
            ),
            "code",
        )
    if status == "withdrawn":
        raise AccountError(
            _("This invitation was withdrawn by your practice. Ask them for a new one."), "code"
        )
    if status == "expired":
        raise AccountError(
            _("This invitation has expired. Ask your practice to send you a new one."), "code"
        )
    return invitation


def send_join_link(session: Session, invitation: Invitation, email: str) -> None:
    """Email a link that completes joining without a passkey (for browsers that cannot make one).

    The invitation is only used when the link is followed, so a mistyped address loses nothing.
    """
    address = validate_email(email, required=True)
    assert address is not None
    if session.exec(select(Person.id).where(Person.email == address)).first():
        # The page answers the same either way (it must not reveal who has an account);
        # the owner of the address is told by email instead.
        send_mail(
            session,
            address,
            _("You already have a Coproduce account"),
            _(
                "Hello,\n\nSomeone asked to join Coproduce with this email address, but it "
                "already has an account. To sign in, go to %(url)s and ask for a sign-in link."
                "\n\nIf this was not you, you can ignore this email.\n",
                url=public_url("accounts.signin"),
            ),
        )
        session.commit()
        return
    token = new_token()
    invitation.pending_email = address
    invitation.email_token_hash = hash_token(token)
    invitation.email_token_expires_at = utcnow() + dt.timedelta(minutes=SIGN_IN_LINK_MINUTES)
    audit.record(session, None, "invitation.email_link", invitation_id=invitation.id)
    send_mail(
        session,
        address,
        _("Finish joining Coproduce"),
        _(
            "Hello %(name)s,\n\nUse this link to finish joining Coproduce. It works once, "
            "for the next %(minutes)d minutes:\n\n%(url)s\n\nIf you did not ask for it, "
            "you can ignore this email.\n",
            name=invitation.name.split()[0],
            minutes=SIGN_IN_LINK_MINUTES,
            url=public_url("accounts.join_email", token=token),
        ),
    )
    session.commit()


def check_join_link(session: Session, token: str) -> Invitation:
    """Return the invitation a joining link belongs to, if it can still be used."""
    invitation = session.exec(
        select(Invitation).where(Invitation.email_token_hash == hash_token(token))
    ).first()
    if invitation is None:
        raise AccountError(_("This link is not right. Open your invitation again."), "code")
    if invitation_status(invitation) == "joined":
        raise AccountError(
            _("This link has already been used. Sign in with your email address instead."), "code"
        )
    expires = invitation.email_token_expires_at
    if expires is None or expires <= utcnow():
        raise AccountError(
            _(
                "This link has expired: links work for %(n)d minutes. Open your invitation "
                "again and ask for a new one.",
                n=SIGN_IN_LINK_MINUTES,
            ),
            "code",
        )
    # Withdrawn or expired invitations are refused with their own message.
    return find_invitation_by_id(session, invitation.id)


def join_by_link(session: Session, token: str) -> Person:
    """Complete joining by an emailed link: create the person with that address, once."""
    invitation = check_join_link(session, token)
    try:
        person = redeem_invitation(
            session, invitation, secrets.token_bytes(32), email=invitation.pending_email
        )
        session.commit()
    except AccountError:
        session.rollback()
        raise
    except IntegrityError:  # the address was taken by another account at the same moment
        session.rollback()
        raise AccountError(email_taken_message(), "code") from None
    return person


def find_invitation_by_id(session: Session, invitation_id: int) -> Invitation:
    """Return an invitation that can still be used, or raise AccountError saying why not."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise AccountError(_("We could not find that invitation."), "code")
    return _usable(invitation)


def email_taken_message() -> str:
    """Say that an address already belongs to an account, and what to do."""
    return _(
        "Someone already has an account with this email address. "
        "Sign in instead, or ask your practice for a new invitation."
    )


def redeem_invitation(
    session: Session, invitation: Invitation, user_handle: bytes, email: str | None = None
) -> Person:
    """Create the invited person and their role, marking the invitation used, without committing.

    `email` is the address the person confirmed (joining by email); otherwise the one the
    practice gave. The update is conditional so two racing redemptions cannot both succeed.
    """
    email = email or invitation.email
    if email and session.exec(select(Person.id).where(Person.email == email)).first():
        raise AccountError(email_taken_message(), "email")
    if (
        invitation.nhs_number
        and session.exec(
            select(Person.id).where(Person.nhs_number == invitation.nhs_number)
        ).first()
    ):
        raise AccountError(_("Someone already has an account with that NHS number."), "code")
    person = Person(
        name=invitation.name,
        email=email,
        nhs_number=invitation.nhs_number,
        user_handle=user_handle,
    )
    session.add(person)
    session.flush()
    now = utcnow()
    claimed = session.exec(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.redeemed_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(redeemed_at=now, redeemed_by_id=person.id)
    )
    if claimed.rowcount != 1:
        raise AccountError(_("This invitation has already been used or has expired."), "code")
    session.add(
        PracticeRole(person_id=person.id, practice_id=invitation.practice_id, role=invitation.role)
    )
    audit.record(session, person.id, "invitation.redeem", person.id, invitation_id=invitation.id)
    return person


# --- signed-in sessions -------------------------------------------------------


def start_session(session: Session, person: Person, method: str) -> str:
    """Record a new signed-in session and return its token for the browser."""
    token = new_token()
    # Old sessions of this person are dropped once they are long over.
    session.exec(
        delete(AuthSession).where(
            AuthSession.person_id == person.id,
            AuthSession.last_seen_at < utcnow() - dt.timedelta(days=30),
        )
    )
    session.add(AuthSession(person_id=person.id, token_hash=hash_token(token), method=method))
    audit.record(session, person.id, "signin", person.id, method=method)
    session.commit()
    return token


_HELPED = aliased(Person)
_SESSION = (
    select(
        AuthSession,
        Person,
        # Every page's header shows the unread count, so it comes with the session.
        select(func.count(Notification.id))
        .where(Notification.person_id == Person.id, Notification.read_at.is_(None))
        .correlate(Person)
        .scalar_subquery(),
        # And, for peer supporters, the posts waiting for a look in the groups they support.
        *header_columns(Person.id),
        # A carer acting for someone: the grant, read afresh on every request, and whose it is.
        CarerGrant,
        _HELPED.name,
    )
    .join(Person, Person.id == AuthSession.person_id)
    .outerjoin(CarerGrant, CarerGrant.id == AuthSession.acting_grant_id)
    .outerjoin(_HELPED, _HELPED.id == CarerGrant.person_id)
    .where(AuthSession.token_hash == bindparam("token_hash"))
)


def load_session(session: Session, token: str) -> Actor | None:
    """Return the actor for a live session token, ending it if idle or too old."""
    # One query for the session and its person: this runs on every signed-in request.
    found = session.exec(_SESSION, params={"token_hash": hash_token(token)}).first()
    if found is None:
        return None
    row, person, unread, supports_groups, needs_look, grant, helped_name = found
    if row.ended_at is not None:
        return None
    now = utcnow()
    config = current_app.config
    idle = dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute = dt.timedelta(hours=config["SESSION_MAX_HOURS"])
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        row.ended_at = now
        session.commit()
        return None
    if now - row.last_seen_at > dt.timedelta(seconds=60):
        # Touch at most once a minute, so reads stay reads.
        row.last_seen_at = now
        session.commit()
    acting, lapsed = None, False
    if row.acting_grant_id is not None:
        if grant is not None and grant_is_live(grant, person.id):
            acting = Acting(
                grant_id=grant.id,
                person_id=grant.person_id,
                person_name=helped_name,
                scopes=frozenset(grant.scopes.split(",")) & frozenset(SCOPES),
            )
        else:
            lapsed = True
    return replace(
        load_actor(session, person, token),
        unread_notifications=unread,
        supports_groups=bool(supports_groups),
        needs_look=int(needs_look or 0),
        acting=acting,
        acting_lapsed=lapsed,
    )


def grant_is_live(grant: CarerGrant, carer_id: int | None) -> bool:
    """Say whether a carer may act under the grant today: accepted by them, not stopped, and
    not past its end date (a UK date, the last day included)."""
    return (
        grant.carer_id is not None
        and grant.carer_id == carer_id
        and grant.accepted_at is not None
        and grant.revoked_at is None
        and (grant.ends_on is None or grant.ends_on >= local_date(utcnow()))
    )


def _end_other_sessions(session: Session, actor: Actor) -> None:
    """End every live session of the actor's except the current one (the caller commits)."""
    session.exec(
        update(AuthSession)
        .where(
            AuthSession.person_id == actor.id,
            AuthSession.ended_at.is_(None),
            AuthSession.token_hash != hash_token(actor.session_token),
        )
        .values(ended_at=utcnow())
    )


def end_session(session: Session, token: str) -> None:
    """End a signed-in session."""
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == hash_token(token))
    ).first()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        audit.record(session, row.person_id, "signout", row.person_id)
        session.commit()


# --- sign-in links ------------------------------------------------------------


def request_sign_in_link(session: Session, email: str) -> None:
    """Ask for a sign-in link to be emailed to the address; say nothing about whose it is.

    The request only writes a message to the outbox, the same for every address: whether
    the address is someone's is found out when the message is sent (compose_sign_in_link), so
    the answer takes as long, and does the same database work, either way.
    """
    address = validate_email(email, required=True)
    assert address is not None
    send_mail(session, address, _("Your Coproduce sign-in link"), kind="signin")
    session.commit()


def compose_sign_in_link(session: Session, address: str) -> tuple[str, str] | None:
    """Make a sign-in link for the person with this email address and return the subject and
    words of the email that carries it, or None if the address is nobody's (the caller
    commits the link before sending)."""
    person = session.exec(select(Person).where(Person.email == address)).first()
    if person is None:
        return None
    token = new_token()
    session.exec(delete(SignInLink).where(SignInLink.expires_at < utcnow() - dt.timedelta(days=1)))
    session.add(
        SignInLink(
            person_id=person.id,
            token_hash=hash_token(token),
            expires_at=utcnow() + dt.timedelta(minutes=SIGN_IN_LINK_MINUTES),
        )
    )
    audit.record(session, None, "signin_link.request", person.id)
    url = public_url("accounts.signin_link", token=token)
    return _("Your Coproduce sign-in link"), _(
        "Hello %(name)s,\n\nUse this link to sign in to Coproduce. It works once, "
        "for the next %(minutes)d minutes:\n\n%(url)s\n\nIf you did not ask for it, "
        "you can ignore this email; nobody can sign in without the link.\n",
        name=person.first_name,
        minutes=SIGN_IN_LINK_MINUTES,
        url=url,
    )


def check_sign_in_link(session: Session, token: str) -> SignInLink:
    """Return the sign-in link for a token if it can still be used, or raise AccountError."""
    link = session.exec(
        select(SignInLink).where(
            SignInLink.token_hash == hash_token(token), SignInLink.purpose == "signin"
        )
    ).first()
    if link is None:
        raise AccountError(_("This sign-in link is not right. Ask for a new one below."))
    if link.used_at is not None:
        raise AccountError(_("This sign-in link has already been used. Ask for a new one below."))
    if link.expires_at <= utcnow():
        raise AccountError(
            _(
                "This sign-in link has expired: links work for %(n)d minutes. "
                "Ask for a new one below.",
                n=SIGN_IN_LINK_MINUTES,
            )
        )
    return link


def send_delete_link(session: Session, actor: Actor) -> str:
    """Email the person a single-use link that confirms deleting their account (for those
    without a passkey); return the address it went to, or raise AccountError."""
    require(actor, "account.manage", actor.id)
    person = session.get(Person, actor.id)
    assert person is not None
    if not person.email:
        raise AccountError(
            _(
                "We have no email address for you, so we cannot send a link. Confirm with a "
                "recovery code instead, or add a passkey on your account page."
            )
        )
    token = new_token()
    session.add(
        SignInLink(
            person_id=person.id,
            token_hash=hash_token(token),
            purpose="delete",
            expires_at=utcnow() + dt.timedelta(minutes=SIGN_IN_LINK_MINUTES),
        )
    )
    audit.record(session, actor.id, "account.delete_link", person.id)
    send_mail(
        session,
        person.email,
        _("Confirm deleting your Coproduce account"),
        _(
            "Hello %(name)s,\n\nYou asked to delete your Coproduce account. To confirm, open "
            "this link on the device where you are signed in. It works once, for the next "
            "%(minutes)d minutes, and asks you once more before anything is deleted:\n\n"
            "%(url)s\n\nIf you did not ask for this, you can ignore this email: nothing "
            "is deleted without the link.\n",
            name=person.first_name,
            minutes=SIGN_IN_LINK_MINUTES,
            url=public_url("accounts.delete_link", token=token),
        ),
    )
    session.commit()
    return person.email


def check_delete_link(session: Session, actor: Actor, token: str) -> SignInLink:
    """Return the actor's own link to confirm deleting their account, if it can still be
    used, or raise AccountError."""
    link = session.exec(
        select(SignInLink).where(
            SignInLink.token_hash == hash_token(token[:200]), SignInLink.purpose == "delete"
        )
    ).first()
    again = _("Ask for a new one on the Delete my account page.")
    if link is None or link.person_id != actor.id:
        raise AccountError(_("This link is not right.") + " " + again)
    if link.used_at is not None:
        raise AccountError(_("This link has already been used.") + " " + again)
    if link.expires_at <= utcnow():
        raise AccountError(
            _("This link has expired: links work for %(n)d minutes.", n=SIGN_IN_LINK_MINUTES)
            + " "
            + again
        )
    return link


def use_delete_link(session: Session, actor: Actor, token: str) -> None:
    """Spend the actor's link to confirm deleting their account, or raise AccountError (the
    caller then deletes the account in the same transaction)."""
    link = check_delete_link(session, actor, token)
    spent = session.exec(
        update(SignInLink)
        .where(col(SignInLink.id) == link.id, col(SignInLink.used_at).is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:
        session.rollback()
        raise AccountError(_("This link has already been used."))


def use_sign_in_link(session: Session, token: str) -> Person:
    """Spend a sign-in link once and return its person, or raise AccountError."""
    link = check_sign_in_link(session, token)
    spent = session.exec(
        update(SignInLink)
        .where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:
        session.rollback()
        raise AccountError(_("This sign-in link has already been used. Ask for a new one below."))
    session.commit()
    person = session.get(Person, link.person_id)
    assert person is not None
    return person


# --- housekeeping -------------------------------------------------------------


def purge_expired(session: Session, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what can no longer be used: old challenges, links, sessions, the pending
    email of invitations that can no longer be redeemed, and sent or failed emails kept long
    enough. Return how many rows each lost."""
    now = now or utcnow()
    day_ago, month_ago = now - dt.timedelta(days=1), now - dt.timedelta(days=30)
    counts = {
        "passkey challenges": session.exec(
            delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < day_ago)
        ).rowcount,
        "sign-in links": session.exec(
            delete(SignInLink).where(SignInLink.expires_at < day_ago)
        ).rowcount,
        "sessions": session.exec(
            delete(AuthSession).where(AuthSession.last_seen_at < month_ago)
        ).rowcount,
        "joining links": session.exec(
            update(Invitation)
            .where(
                Invitation.email_token_hash.is_not(None),
                (Invitation.email_token_expires_at < day_ago)
                | Invitation.redeemed_at.is_not(None)
                | Invitation.revoked_at.is_not(None),
            )
            .values(pending_email=None, email_token_hash=None, email_token_expires_at=None)
        ).rowcount,
        "emails": mail.purge(session, now),
    }
    session.commit()
    return counts


# --- recovery codes -----------------------------------------------------------


def _recovery_part(size: int) -> str:
    """Return a random group of letters and numbers for a recovery code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(size))


def generate_recovery_codes(session: Session, actor: Actor) -> list[str]:
    """Replace the actor's recovery codes with ten new ones and return them (shown once).

    A code is 16 characters: a 6-character public selector, to find the row, and a
    10-character secret, stored only as an argon2 hash.
    """
    require(actor, "account.manage", actor.id)
    _end_other_sessions(session, actor)
    for old in session.exec(select(RecoveryCode).where(RecoveryCode.person_id == actor.id)):
        session.delete(old)
    session.flush()
    selectors: set[str] = set()
    while len(selectors) < RECOVERY_CODE_COUNT:
        wanted = {_recovery_part(6) for _i in range(RECOVERY_CODE_COUNT - len(selectors))}
        taken = set(
            session.exec(select(RecoveryCode.selector).where(RecoveryCode.selector.in_(wanted)))
        )
        selectors |= wanted - taken
    codes = []
    hasher = _hasher()
    for selector in sorted(selectors):
        secret = _recovery_part(10)
        session.add(
            RecoveryCode(person_id=actor.id, selector=selector, secret_hash=hasher.hash(secret))
        )
        whole = selector + secret
        codes.append("-".join(whole[i : i + 4] for i in range(0, 16, 4)))
    audit.record(session, actor.id, "recovery_codes.generate", actor.id)
    session.commit()
    return codes


def count_recovery_codes(session: Session, person_id: int) -> int:
    """Return how many unused recovery codes a person has."""
    return session.exec(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.person_id == person_id, RecoveryCode.used_at.is_(None)
        )
    ).one()


def use_recovery_code(session: Session, code: str, person_id: int | None = None) -> Person:
    """Spend one recovery code and return its person, or raise AccountError. With a
    person_id, only that person's codes count (someone else's is not right, and not spent)."""
    cleaned = "".join(c for c in code.upper() if c.isalnum())
    wrong = AccountError(
        _(
            "That recovery code is not right. Check it against your saved list: "
            "it has 16 letters and numbers, like ABCD-EFGH-JKMN-PQRS. Each code works once."
        ),
        "code",
    )
    if len(cleaned) != 16:
        raise wrong
    selector, secret = cleaned[:6], cleaned[6:]
    query = select(RecoveryCode).where(
        RecoveryCode.selector == selector, RecoveryCode.used_at.is_(None)
    )
    if person_id is not None:
        query = query.where(RecoveryCode.person_id == person_id)
    row = session.exec(query).first()
    if row is None:
        raise wrong
    try:
        _hasher().verify(row.secret_hash, secret)
    except VerificationError:
        audit.record(session, None, "recovery_code.wrong", row.person_id)
        session.commit()
        raise wrong from None
    spent = session.exec(
        update(RecoveryCode)
        .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:
        session.rollback()
        raise wrong
    audit.record(session, row.person_id, "recovery_code.use", row.person_id)
    session.commit()
    person = session.get(Person, row.person_id)
    assert person is not None
    return person


# --- passkeys (management; the ceremonies are in passkeys.py) -----------------


def list_passkeys(session: Session, actor: Actor) -> list[Passkey]:
    """Return the actor's passkeys, oldest first."""
    require(actor, "account.manage", actor.id)
    return list(
        session.exec(
            select(Passkey)
            .where(Passkey.person_id == actor.id)
            .order_by(Passkey.created_at, Passkey.id)
        )
    )


def _own_passkey(session: Session, actor: Actor, passkey_id: int) -> Passkey:
    """Return one of the actor's passkeys, or raise NotFound."""
    passkey = session.get(Passkey, passkey_id)
    require(actor, "account.manage", passkey.person_id if passkey else None)
    assert passkey is not None
    return passkey


def validate_passkey_name(name: str) -> str:
    """Return a cleaned passkey name, or raise AccountError."""
    name = " ".join(name.split())
    if not name:
        raise AccountError(_("Give the passkey a name, like 'My phone'."), "name")
    if len(name) > PASSKEY_NAME_MAX:
        raise AccountError(
            _("The name must be %(n)d characters or fewer.", n=PASSKEY_NAME_MAX), "name"
        )
    return name


def rename_passkey(session: Session, actor: Actor, passkey_id: int, name: str) -> Passkey:
    """Give one of the actor's passkeys a new name."""
    passkey = _own_passkey(session, actor, passkey_id)
    passkey.name = validate_passkey_name(name)
    audit.record(session, actor.id, "passkey.rename", actor.id, passkey_id=passkey_id)
    session.commit()
    return passkey


def remove_passkey(session: Session, actor: Actor, passkey_id: int) -> None:
    """Remove a passkey, unless it is the last way in and there are no recovery codes."""
    passkey = _own_passkey(session, actor, passkey_id)
    others = session.exec(
        select(func.count(Passkey.id)).where(
            Passkey.person_id == actor.id, Passkey.id != passkey_id
        )
    ).one()
    if others == 0 and count_recovery_codes(session, actor.id) == 0:
        raise AccountError(
            _(
                "This is your only passkey. Add another passkey or make recovery codes first, "
                "so you can still sign in."
            )
        )
    session.delete(passkey)
    # Whoever signed in elsewhere, perhaps with the removed passkey, is signed out.
    _end_other_sessions(session, actor)
    audit.record(session, actor.id, "passkey.remove", actor.id, passkey_id=passkey_id)
    session.commit()
