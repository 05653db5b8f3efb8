"""Account pages: joining by invitation, signing in and out, passkeys and recovery codes."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    request,
    url_for,
)
from flask import session as browser_session
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from webapp.accounts import passkeys, services
from webapp.accounts.models import Person
from webapp.accounts.services import AccountError
from webapp.db import get_session
from webapp.extensions import client_address, limiter
from webapp.htmx import hx_redirect, render

bp = Blueprint("accounts", __name__, url_prefix="/account")

# Options are asked for on every visit to the sign-in page (for passkey autofill), and a
# practice's staff may share one address, so they get more room than the answers.
OPTIONS_LIMIT = "100 per 15 minutes"
SIGNIN_LIMIT = "30 per 15 minutes"
# Emailed links from one network address: a practice's or care home's shared Wi-Fi may
# carry dozens of people signing in within a quarter of an hour.
LINK_LIMIT = "60 per 15 minutes"
# From one network address to one email address: one person's tries count against them,
# not against the network. To one email address from anywhere, more (so nobody can keep a
# person from signing in by asking for their links), but few enough not to flood a mailbox.
LINK_PAIR_LIMIT = "3 per 15 minutes"
LINK_EMAIL_LIMIT = "10 per 15 minutes"
CODE_LIMIT = "10 per 15 minutes"


def _browser_id() -> str:
    """Return this browser session's random id, to which passkey challenges are bound."""
    if "bid" not in browser_session:
        browser_session["bid"] = secrets.token_urlsafe(24)
    return browser_session["bid"]


def _sign_in(person: Person, method: str) -> None:
    """Start a fresh session for the person: a new session id, the old one dropped."""
    db = get_session()
    if current_user.is_authenticated:
        services.end_session(db, current_user.get_id())
    token = services.start_session(db, person, method)
    browser_session.clear()
    login_user(services.load_actor(db, person, token))


def _json_body() -> dict[str, Any]:
    """Return the request's JSON object, or an empty one."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _json_error(error: AccountError, status: int = 400) -> tuple[Response, int]:
    """Answer a passkey step with a plain message the page shows."""
    return jsonify(ok=False, error=error.message), status


def default_passkey_name(user_agent: str) -> str:
    """Suggest a name for a new passkey from the browser's description of the device."""
    ua = user_agent.lower()
    device = next(
        (
            label
            for key, label in (
                ("iphone", "iPhone"),
                ("ipad", "iPad"),
                ("android", "Android phone"),
                ("macintosh", "Mac"),
                ("windows", "Windows computer"),
                ("cros", "Chromebook"),
                ("linux", "Linux computer"),
            )
            if key in ua
        ),
        None,
    )
    return _("Passkey on %(device)s", device=device) if device else _("My passkey")


def _passkey_name() -> str:
    """Return the name given for a new passkey, or a suggested one."""
    name = str(_json_body().get("name") or "").strip()
    return name or default_passkey_name(request.headers.get("User-Agent", ""))


# --- signing in ---------------------------------------------------------------


@bp.get("/signin")
def signin() -> Response:
    """Show the ways to sign in: a passkey, an email link, or a recovery code."""
    if current_user.is_authenticated:
        return hx_redirect(url_for("main.index"))
    return render("accounts/signin.html", form_errors={}, email="")


@bp.post("/signin/options")
@limiter.limit(OPTIONS_LIMIT)
def signin_options() -> Response:
    """Return passkey request options for signing in (JSON)."""
    options = passkeys.begin_authentication(get_session(), _browser_id())
    return Response(options, mimetype="application/json")


@bp.post("/signin/verify")
@limiter.limit(SIGNIN_LIMIT)
def signin_verify() -> Response | tuple[Response, int]:
    """Check the passkey's answer and sign the person in (JSON)."""
    try:
        person = passkeys.finish_authentication(
            get_session(), _browser_id(), _json_body().get("credential") or {}
        )
    except AccountError as error:
        return _json_error(error)
    _sign_in(person, "passkey")
    return jsonify(ok=True, redirect=url_for("main.index"))


def _signin_email_limit_key() -> str:
    """Rate-limit emailed links per email address as well as per client."""
    return "link:" + request.form.get("email", "").strip().lower()[:254]


def _signin_pair_limit_key() -> str:
    """Rate-limit emailed links per network address and email address together."""
    return f"link-pair:{client_address()}:" + request.form.get("email", "").strip().lower()[:254]


@bp.post("/signin/link")
@limiter.limit(LINK_LIMIT)
@limiter.limit(LINK_EMAIL_LIMIT, key_func=_signin_email_limit_key)
@limiter.limit(LINK_PAIR_LIMIT, key_func=_signin_pair_limit_key)
def request_link() -> Response:
    """Email a sign-in link; the answer is the same whether or not the address is known."""
    email = request.form.get("email", "")
    try:
        services.request_sign_in_link(get_session(), email)
    except AccountError as error:
        return render(
            "accounts/signin.html",
            status=422,
            form_errors={"email": error.message},
            email=email[:254],
        )
    return render("accounts/link_sent.html", email=email.strip()[:254])


@bp.get("/signin/link/<token>")
@limiter.limit(CODE_LIMIT)
def signin_link(token: str) -> Response:
    """Ask the person to confirm signing in with a link (GET never spends it)."""
    try:
        services.check_sign_in_link(get_session(), token)
    except AccountError as error:
        return render(
            "accounts/signin.html", status=400, link_error=error.message, form_errors={}, email=""
        )
    response = render("accounts/link_confirm.html", token=token)
    response.headers["Cache-Control"] = "no-store"  # the address holds the link
    return response


@bp.post("/signin/link/<token>")
@limiter.limit(CODE_LIMIT)
def use_link(token: str) -> Response:
    """Spend a sign-in link and sign the person in."""
    try:
        person = services.use_sign_in_link(get_session(), token)
    except AccountError as error:
        return render(
            "accounts/signin.html", status=400, link_error=error.message, form_errors={}, email=""
        )
    _sign_in(person, "link")
    return hx_redirect(url_for("main.index"))


@bp.get("/recover")
def recover() -> Response:
    """Show the form for signing in with a recovery code."""
    return render("accounts/recover.html", form_errors={}, code="")


@bp.post("/recover")
@limiter.limit(CODE_LIMIT)
def use_recovery_code() -> Response:
    """Spend a recovery code and sign the person in."""
    code = request.form.get("code", "")[:40]
    try:
        person = services.use_recovery_code(get_session(), code)
    except AccountError as error:
        return render(
            "accounts/recover.html", status=422, form_errors={"code": error.message}, code=code
        )
    _sign_in(person, "recovery")
    remaining = services.count_recovery_codes(get_session(), person.id)
    flash(
        _(
            "You are signed in with a recovery code. You have %(n)d codes left. If you lost "
            "your passkey, remove it below and add a new one.",
            n=remaining,
        ),
        "info",
    )
    return hx_redirect(url_for("accounts.show"))


@bp.post("/signout")
@login_required
def signout() -> Response:
    """Sign out: end the session here and forget it in the browser."""
    services.end_session(get_session(), current_user.get_id())
    logout_user()
    browser_session.clear()
    flash(_("You have signed out."), "info")
    response = hx_redirect(url_for("accounts.signin"))
    # Personal pages the browser may hold are dropped with the session.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


# --- joining by invitation ----------------------------------------------------


def _join_error(error: AccountError) -> Response:
    """Show the invitation-code page with what went wrong and how to go on."""
    return render("accounts/join.html", status=400, form_errors={"code": error.message}, code="")


@bp.get("/join")
def join() -> Response:
    """Show the form for typing an invitation code."""
    return render("accounts/join.html", form_errors={}, code="")


@bp.post("/join")
@limiter.limit(CODE_LIMIT)
def join_code() -> Response:
    """Check a typed invitation code and show the welcome page."""
    code = request.form.get("code", "")[:40]
    try:
        invitation = services.find_invitation(get_session(), code=code)
    except AccountError as error:
        return render(
            "accounts/join.html", status=422, form_errors={"code": error.message}, code=code
        )
    return render(
        "accounts/welcome.html",
        invitation=invitation,
        practice_name=services.practice_name(get_session(), invitation.practice_id),
        token="",
        code=code,
        email=invitation.email or "",
        form_errors={},
        suggested_name=default_passkey_name(request.headers.get("User-Agent", "")),
    )


@bp.get("/join/<token>")
@limiter.limit(CODE_LIMIT)
def join_link(token: str) -> Response:
    """Show the welcome page for an invitation link."""
    try:
        invitation = services.find_invitation(get_session(), token=token)
    except AccountError as error:
        return _join_error(error)
    response = render(
        "accounts/welcome.html",
        invitation=invitation,
        practice_name=services.practice_name(get_session(), invitation.practice_id),
        token=token,
        code="",
        email=invitation.email or "",
        form_errors={},
        suggested_name=default_passkey_name(request.headers.get("User-Agent", "")),
    )
    response.headers["Cache-Control"] = "no-store"  # the address holds the invitation
    return response


@bp.post("/join/options")
@limiter.limit(CODE_LIMIT)
def join_options() -> Response | tuple[Response, int]:
    """Return passkey creation options for the person being invited (JSON)."""
    body = _json_body()
    db = get_session()
    try:
        invitation = services.find_invitation(
            db, token=str(body.get("token") or ""), code=str(body.get("code") or "")
        )
    except AccountError as error:
        return _json_error(error)
    options = passkeys.begin_registration(db, _browser_id(), invitation=invitation)
    return Response(options, mimetype="application/json")


@bp.post("/join/verify")
@limiter.limit(CODE_LIMIT)
def join_verify() -> Response | tuple[Response, int]:
    """Check the new passkey, create the account, and sign the person in (JSON)."""
    body = _json_body()
    try:
        person, _passkey = passkeys.finish_registration(
            get_session(), _browser_id(), body.get("credential") or {}, _passkey_name()
        )
    except AccountError as error:
        return _json_error(error)
    _sign_in(person, "passkey")
    flash(_("Welcome, %(name)s. Your passkey is ready.", name=person.first_name), "success")
    return jsonify(ok=True, redirect=url_for("main.index"))


@bp.post("/join/email")
@limiter.limit(LINK_LIMIT)
@limiter.limit(LINK_EMAIL_LIMIT, key_func=_signin_email_limit_key)
@limiter.limit(LINK_PAIR_LIMIT, key_func=_signin_pair_limit_key)
def join_by_email() -> Response:
    """Email a link that finishes joining without a passkey (no JavaScript, or no passkeys)."""
    db = get_session()
    token, code = request.form.get("token", "")[:100], request.form.get("code", "")[:40]
    email = request.form.get("email", "")[:254]
    try:
        invitation = services.find_invitation(db, token=token, code=code)
    except AccountError as error:
        return _join_error(error)
    try:
        services.send_join_link(db, invitation, email)
    except AccountError as error:
        return render(
            "accounts/welcome.html",
            status=422,
            invitation=invitation,
            practice_name=services.practice_name(db, invitation.practice_id),
            token=token,
            code=code,
            email=email,
            form_errors={"email": error.message},
            suggested_name=default_passkey_name(request.headers.get("User-Agent", "")),
        )
    return render("accounts/link_sent.html", email=email.strip(), joining=True)


@bp.get("/join/email/<token>")
@limiter.limit(CODE_LIMIT)
def join_email(token: str) -> Response:
    """Ask the person to confirm joining with the emailed link (GET never spends it)."""
    try:
        invitation = services.check_join_link(get_session(), token)
    except AccountError as error:
        return _join_error(error)
    response = render("accounts/join_confirm.html", token=token, invitation=invitation)
    response.headers["Cache-Control"] = "no-store"  # the address holds the link
    return response


@bp.post("/join/email/<token>")
@limiter.limit(CODE_LIMIT)
def use_join_link(token: str) -> Response:
    """Finish joining with the emailed link and sign the person in."""
    try:
        person = services.join_by_link(get_session(), token)
    except AccountError as error:
        return _join_error(error)
    _sign_in(person, "link")
    flash(
        _(
            "Welcome, %(name)s. You can sign in with an email link, or add a passkey and "
            "recovery codes below.",
            name=person.first_name,
        ),
        "success",
    )
    return hx_redirect(url_for("accounts.show"))


# --- account settings ---------------------------------------------------------


@bp.get("")
@login_required
def show() -> Response:
    """Show the person's account: passkeys, recovery codes and signing out."""
    db = get_session()
    return render(
        "accounts/show.html",
        "accounts/_passkeys.html",
        passkeys=services.list_passkeys(db, current_user),
        recovery_codes=services.count_recovery_codes(db, current_user.id),
        suggested_name=default_passkey_name(request.headers.get("User-Agent", "")),
        form_errors={},
    )


@bp.post("/passkeys/options")
@login_required
@limiter.limit(SIGNIN_LIMIT)
def passkey_options() -> Response:
    """Return creation options for adding another passkey (JSON)."""
    db = get_session()
    options = passkeys.begin_registration(db, _browser_id(), person=current_user.person)
    return Response(options, mimetype="application/json")


@bp.post("/passkeys/verify")
@login_required
@limiter.limit(SIGNIN_LIMIT)
def passkey_verify() -> Response | tuple[Response, int]:
    """Check and keep another passkey for the signed-in person (JSON)."""
    body = _json_body()
    try:
        _person, passkey = passkeys.finish_registration(
            get_session(),
            _browser_id(),
            body.get("credential") or {},
            _passkey_name(),
            person=current_user.person,
        )
    except AccountError as error:
        return _json_error(error)
    flash(_("Passkey “%(name)s” added.", name=passkey.name), "success")
    return jsonify(ok=True, redirect=url_for("accounts.show"))


def _settings_with_error(passkey_id: int, message: str) -> Response:
    """Re-render the passkey list with a message next to one passkey."""
    db = get_session()
    return render(
        "accounts/show.html",
        "accounts/_passkeys.html",
        status=422,
        passkeys=services.list_passkeys(db, current_user),
        recovery_codes=services.count_recovery_codes(db, current_user.id),
        suggested_name=default_passkey_name(request.headers.get("User-Agent", "")),
        form_errors={passkey_id: message},
    )


@bp.post("/passkeys/<int:passkey_id>/rename")
@login_required
def rename_passkey(passkey_id: int) -> Response:
    """Rename one of the person's passkeys."""
    try:
        passkey = services.rename_passkey(
            get_session(), current_user, passkey_id, request.form.get("name", "")[:200]
        )
    except AccountError as error:
        return _settings_with_error(passkey_id, error.message)
    flash(_("Passkey renamed to “%(name)s”.", name=passkey.name), "success")
    return hx_redirect(url_for("accounts.show"))


@bp.post("/passkeys/<int:passkey_id>/delete")
@login_required
def delete_passkey(passkey_id: int) -> Response:
    """Remove one of the person's passkeys (never the last way to sign in)."""
    try:
        services.remove_passkey(get_session(), current_user, passkey_id)
    except AccountError as error:
        return _settings_with_error(passkey_id, error.message)
    flash(_("Passkey removed."), "success")
    return hx_redirect(url_for("accounts.show"))


@bp.post("/recovery-codes")
@login_required
def create_recovery_codes() -> Response:
    """Make ten new recovery codes, replacing any old ones, and show them once."""
    codes = services.generate_recovery_codes(get_session(), current_user)
    response = render("accounts/recovery_codes.html", codes=codes)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- deleting the account -------------------------------------------------------------------


@bp.get("/delete")
@login_required
def delete_page(status: int = 200, **context: Any) -> Response:
    """Explain what deleting the account does, and ask the person to confirm: with a passkey,
    a recovery code, or a link sent to their email address."""
    db = get_session()
    passkey_count, codes = services.account_safety(db, current_user)
    person = db.get(Person, current_user.id)
    return render(
        "accounts/delete.html",
        status=status,
        passkey_count=passkey_count,
        codes_left=codes,
        email=person.email if person else None,
        **context,
    )


def _deleted() -> Response:
    """Sign out of the account just deleted and say so."""
    logout_user()
    browser_session.clear()
    flash(_("Your account and everything held about you have been deleted."), "info")
    return hx_redirect(url_for("main.index"))


@bp.post("/delete/code")
@login_required
@limiter.limit(CODE_LIMIT)
def delete_by_code() -> Response:
    """Delete the account once the person has confirmed with one of their recovery codes."""
    from webapp.rights.services import delete_account

    db = get_session()
    code = request.form.get("code", "")[:40]
    try:
        services.use_recovery_code(db, code, person_id=current_user.id)
    except AccountError as error:
        return delete_page(status=422, code_error=error.message, code=code)
    delete_account(db, current_user, current_user.id)
    return _deleted()


@bp.post("/delete/email")
@login_required
@limiter.limit("3 per 15 minutes")
def delete_email() -> Response:
    """Email the person a link that confirms deleting their account."""
    db = get_session()
    try:
        address = services.send_delete_link(db, current_user)
    except AccountError as error:
        return delete_page(status=422, email_error=error.message)
    flash(
        _(
            "We have sent a link to %(email)s. Open it on this device within %(n)d minutes: "
            "it asks you once more before anything is deleted.",
            email=address,
            n=services.SIGN_IN_LINK_MINUTES,
        ),
        "info",
    )
    return hx_redirect(url_for("accounts.delete_page"))


@bp.get("/delete/confirm/<token>")
@login_required
@limiter.limit(CODE_LIMIT)
def delete_link(token: str) -> Response:
    """Ask once more before deleting (opening a link deletes nothing: mail scanners open
    links too)."""
    db = get_session()
    try:
        services.check_delete_link(db, current_user, token)
    except AccountError as error:
        return delete_page(status=400, email_error=error.message)
    return render("accounts/delete_confirm.html", token=token)


@bp.post("/delete/confirm/<token>")
@login_required
@limiter.limit(CODE_LIMIT)
def use_delete_link(token: str) -> Response:
    """Delete the account with the link from the person's email."""
    from webapp.rights.services import delete_account

    db = get_session()
    try:
        services.use_delete_link(db, current_user, token)
    except AccountError as error:
        return delete_page(status=400, email_error=error.message)
    delete_account(db, current_user, current_user.id)
    return _deleted()


@bp.post("/delete/options")
@login_required
@limiter.limit(OPTIONS_LIMIT)
def delete_options() -> Response:
    """Return passkey request options to confirm deleting the account (JSON)."""
    db = get_session()
    options = passkeys.begin_authentication(db, _browser_id(), db.get(Person, current_user.id))
    return Response(options, mimetype="application/json")


@bp.post("/delete/verify")
@login_required
@limiter.limit(SIGNIN_LIMIT)
def delete_verify() -> Response | tuple[Response, int]:
    """Delete the account once the person has confirmed with one of their own passkeys."""
    from webapp.rights.services import delete_account

    db = get_session()
    try:
        passkeys.finish_authentication(
            db, _browser_id(), _json_body().get("credential") or {}, db.get(Person, current_user.id)
        )
    except AccountError as error:
        return _json_error(error)
    delete_account(db, current_user, current_user.id)  # their sessions go with them
    logout_user()
    browser_session.clear()
    flash(_("Your account and everything held about you have been deleted."), "info")
    return jsonify(ok=True, redirect=url_for("main.index"))
