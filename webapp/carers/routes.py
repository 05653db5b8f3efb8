"""Carer pages: the person's carers and invitations; accepting one; acting for someone."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    flash,
    g,
    jsonify,
    request,
    url_for,
)
from flask import session as browser_session
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from markupsafe import Markup

from webapp.accounts import passkeys
from webapp.accounts.routes import (
    CODE_LIMIT,
    _browser_id,
    _json_body,
    _passkey_name,
    default_passkey_name,
)
from webapp.accounts.services import AccountError, end_session, load_actor, start_session
from webapp.carers import services
from webapp.carers.services import CarerError
from webapp.clinicians.routes import qr_svg
from webapp.db import get_session
from webapp.extensions import limiter
from webapp.htmx import hx_redirect, render
from webapp.links import public_url

bp = Blueprint("carers", __name__, url_prefix="/carers")


def _scopes() -> list[str]:
    return [value[:20] for value in request.form.getlist("scopes")][:10]


def _index(status: int = 200, **context: object) -> Response:
    db = get_session()
    context.setdefault("problems", {})
    context.setdefault("typed", {})
    context.setdefault("typed_scopes", [])
    context.setdefault("code_error", "")
    manages = current_user.acting is None
    return render(
        "carers/index.html",
        status=status,
        help_ended=lapsed_message() if g.get("help_ended") else "",
        carers=services.my_carers(db, current_user, current_user.id) if manages else [],
        helped=services.people_i_help(db, current_user),
        scope_names=services.scope_names(),
        short_names=services.scope_short_names(),
        **context,
    )


@bp.get("")
@login_required
def index() -> Response:
    """Show the person's carers and invitations, and the people they help."""
    return _index()


@bp.post("")
@login_required
def invite() -> Response:
    """Invite a carer, choosing what they may help with and until when."""
    form = {name: request.form.get(name, "")[:200] for name in ("name", "ends_on")}
    try:
        grant, token, code = services.invite_carer(
            get_session(), current_user, current_user.id, form, _scopes()
        )
    except CarerError as error:
        return _index(status=422, problems=error.problems, typed=form, typed_scopes=_scopes())
    # Shown now, once: only hashes are kept, and the secrets never go into the cookie.
    link = public_url("carers.accept_link", token=token)
    return _invitation_page(grant.id, link=link, code=code, qr=qr_svg(link))


def _invitation_page(
    grant_id: int, link: str | None = None, code: str | None = None, qr: object = None
) -> Response:
    row = services.get_grant(get_session(), current_user, grant_id)
    response = render(
        "carers/invitation.html",
        row=row,
        link=link,
        code=code,
        qr=qr,
        code_url=public_url("carers.code_form"),
        short_names=services.scope_short_names(),
    )
    response.headers["Cache-Control"] = "no-store"  # the page holds the invitation
    return response


@bp.get("/<int:grant_id>/invitation")
@login_required
def invitation(grant_id: int) -> Response:
    """Show an invitation: its link, code and QR code are shown only when it is made."""
    return _invitation_page(grant_id)


def _grant_page(grant_id: int, status: int = 200, **context: object) -> Response:
    context.setdefault("problems", {})
    context.setdefault("typed", None)
    return render(
        "carers/show.html",
        status=status,
        row=services.get_grant(get_session(), current_user, grant_id),
        scope_names=services.scope_names(),
        short_names=services.scope_short_names(),
        **context,
    )


@bp.get("/<int:grant_id>")
@login_required
def show(grant_id: int) -> Response:
    """Show one carer: what they may help with, until when; change or stop it."""
    return _grant_page(grant_id)


@bp.post("/<int:grant_id>")
@login_required
def update(grant_id: int) -> Response:
    """Change what a carer may help with, and until when."""
    form = {"ends_on": request.form.get("ends_on", "")[:20]}
    try:
        services.change_grant(
            get_session(),
            current_user,
            grant_id,
            form,
            _scopes(),
            request.form.get("version", 0, type=int) or 0,
        )
    except CarerError as error:
        return _grant_page(
            grant_id, status=422, problems=error.problems, typed={**form, "scopes": _scopes()}
        )
    flash(_("Saved. This counts from their next click."), "success")
    return hx_redirect(url_for("carers.index"))


@bp.post("/<int:grant_id>/stop")
@login_required
def stop(grant_id: int) -> Response:
    """Stop a carer's access, or withdraw an invitation, at once."""
    row = services.get_grant(get_session(), current_user, grant_id)
    if services.stop_grant(get_session(), current_user, grant_id):
        if row.status == "waiting":
            flash(_("The invitation is withdrawn. It can no longer be used."), "success")
        else:
            flash(_("%(name)s can no longer see or change your record.", name=row.carer), "success")
    else:
        flash(_("This had already stopped."))
    return hx_redirect(url_for("carers.index"))


# --- the carer's side ---------------------------------------------------------------------


def _accept_page(
    grant: object, token: str = "", code: str = "", status: int = 200, error: str = ""
) -> Response:
    db = get_session()
    response = render(
        "carers/accept.html",
        status=status,
        grant=grant,
        person=services.person_name(db, grant),  # type: ignore[arg-type]
        token=token,
        code=code,
        error=error,
        short_names=services.scope_short_names(),
        suggested_name=default_passkey_name(request.headers.get("User-Agent", "")),
    )
    response.headers["Cache-Control"] = "no-store"  # the address holds the invitation
    return response


def _code_page(error: str, code: str = "", status: int = 422) -> Response:
    return render("carers/code.html", status=status, code_error=error, code=code)


@bp.get("/accept/<token>")
@limiter.limit(CODE_LIMIT)
def accept_link(token: str) -> Response:
    """Show a carer invitation from its link: accept it, or make an account to accept it."""
    try:
        grant = services.find_invitation(get_session(), token=token[:100])
    except CarerError as error:
        return _code_page(error.message, status=400)
    return _accept_page(grant, token=token[:100])


@bp.get("/code")
def code_form() -> Response:
    """Show the form for typing a carer's code."""
    return render("carers/code.html", code_error="", code="")


@bp.post("/code")
@limiter.limit(CODE_LIMIT)
def code() -> Response:
    """Check a typed carer's code and show the invitation."""
    typed = request.form.get("code", "")[:40]
    try:
        grant = services.find_invitation(get_session(), code=typed)
    except CarerError as error:
        return _code_page(error.message, typed)
    return _accept_page(grant, code=typed)


@bp.post("/accept")
@login_required
@limiter.limit(CODE_LIMIT)
def accept() -> Response:
    """Accept a carer invitation into the signed-in account."""
    token, typed = request.form.get("token", "")[:100], request.form.get("code", "")[:40]
    db = get_session()
    try:
        grant = services.accept(
            db,
            current_user,
            token=token,
            code=typed,
            version=request.form.get("version", type=int),
        )
    except CarerError as error:
        return _code_page(error.message, typed)
    flash(
        _(
            "You can now help %(name)s. Choose them below whenever you want to act for them.",
            name=services.person_name(db, grant),
        ),
        "success",
    )
    return hx_redirect(url_for("carers.index"))


@bp.post("/join/options")
@limiter.limit(CODE_LIMIT)
def join_options() -> Response | tuple[Response, int]:
    """Return passkey creation options for a new carer's account (JSON)."""
    body = _json_body()
    db = get_session()
    try:
        grant = services.find_invitation(
            db, token=str(body.get("token") or "")[:100], code=str(body.get("code") or "")[:40]
        )
    except CarerError as error:
        return jsonify(ok=False, error=error.message), 400
    return Response(
        passkeys.begin_registration(db, _browser_id(), carer_grant=grant),
        mimetype="application/json",
    )


@bp.post("/join/verify")
@limiter.limit(CODE_LIMIT)
def join_verify() -> Response | tuple[Response, int]:
    """Check the new carer's passkey, make their account, accept, and sign them in (JSON)."""
    body = _json_body()
    db = get_session()
    try:
        person, _passkey = passkeys.finish_registration(
            db, _browser_id(), body.get("credential") or {}, _passkey_name()
        )
    except (AccountError, CarerError) as error:
        return jsonify(ok=False, error=error.message), 400
    if current_user.is_authenticated:
        end_session(db, current_user.get_id())
    token = start_session(db, person, "passkey")
    browser_session.clear()
    login_user(load_actor(db, person, token))
    flash(
        _(
            "Welcome, %(name)s. Your passkey is ready, and you can now help.",
            name=person.first_name,
        ),
        "success",
    )
    return jsonify(ok=True, redirect=url_for("carers.index"))


@bp.post("/act/<int:grant_id>")
@login_required
def act(grant_id: int) -> Response:
    """Act for someone the carer helps, in this session, until they stop."""
    helped = services.start_acting(get_session(), current_user, grant_id)
    flash(_("You are now helping %(name)s.", name=helped.name), "success")
    return hx_redirect(url_for("main.index"))


@bp.post("/stop-acting")
@login_required
def stop_acting() -> Response:
    """Go back to the carer's own account."""
    services.stop_acting(get_session(), current_user)
    flash(_("You are using your own account again."), "success")
    return hx_redirect(url_for("main.index"))


# --- every request while acting -----------------------------------------------------------

# Parts of the record a carer reads or changes, by the route's blueprint or endpoint; the
# person's "who has seen my record" names them.
SECTIONS = {
    "main.index": "home",
    "reviews.calendar": "review",
    "planning.crisis_plan": "crisis",
    "results": "results",
    "planning": "planning",
    "goals": "goals",
    "plan": "goals",
    "timebank": "timebank",
    "conditions": "conditions",
}
# Pages a carer may still open once their permission has lapsed (to leave or sign out).
LAPSE_ALLOWED = {
    "static",
    "carers.index",
    "carers.stop_acting",
    "accounts.signout",
    "main.service_worker",
}


def _section() -> str | None:
    endpoint = request.endpoint or ""
    if endpoint in SECTIONS:
        return SECTIONS[endpoint]
    rule = request.url_rule.rule if request.url_rule is not None else ""
    if "/practices/" in rule or rule.startswith("/results/reviews") or "/reviews/" in rule:
        return None  # care-team pages: the carer's own staff role, not acting
    # Goals and the crisis plan are also changed from the summary page.
    kind = (request.view_args or {}).get("kind")
    if endpoint.startswith("planning.") and kind in ("goal", "crisis-plan"):
        return "goals" if kind == "goal" else "crisis"
    return SECTIONS.get(endpoint.partition(".")[0])


def lapsed_message() -> str:
    """Say that a carer's permission ended and nothing was opened or saved."""
    return _(
        "Your permission to help with that record has ended or changed, so nothing was "
        "opened or saved. You are using your own account again."
    )


def record_field() -> Markup:
    """A hidden field naming whose record a form is for (templates put it beside the CSRF
    token): a form opened for one person is never saved into another's record."""
    whose = current_user.record_id if current_user.is_authenticated else ""
    return Markup('<input type="hidden" name="record" value="%s">') % whose


def init_app(app: Flask) -> None:
    """Refuse requests under a lapsed permission, and record what carers read and change."""
    app.jinja_env.globals["record_field"] = record_field

    @app.before_request
    def _lapsed() -> Response | tuple[Response, int] | None:
        # Every request under a permission that has ended is refused and sent to the carers
        # page, which says so and returns the carer to their own account. Only that page
        # ends the acting, so a background request (the service worker, a queued entry)
        # cannot use up the message before the carer sees it.
        if not current_user.is_authenticated or not current_user.acting_lapsed:
            return None
        if request.endpoint == "carers.index":
            services.stop_acting(get_session(), current_user)
            g.help_ended = True
            return None
        if request.endpoint in LAPSE_ALLOWED:
            return None
        if request.is_json or request.headers.get("X-Outbox") == "1":
            return jsonify(ok=False, error=lapsed_message()), 403
        return hx_redirect(url_for("carers.index"))

    @app.before_request
    def _same_record() -> Response | tuple[Response, int] | None:
        # A form made for one person's record (say, while helping Pat in another tab, or
        # before Pat stopped the help) is refused, not saved into whoever's record is open now.
        if request.method != "POST" or not current_user.is_authenticated or _section() is None:
            return None
        if "record" not in request.form and current_user.acting is None:
            return None  # the person's own form from before forms named their record
        if request.form.get("record") == str(current_user.record_id):
            return None
        message = _(
            "That form was for someone else's record than the one you are using now, so "
            "nothing was saved. Open the page again and make the change there."
        )
        if request.headers.get("X-Outbox") == "1":
            return jsonify(ok=False, error=message), 409
        flash(message, "error")
        return hx_redirect(url_for("main.index"))

    @app.after_request
    def _record(response: Response) -> Response:
        # Pages shown again with a message (409, 422) still show the record.
        shown = response.status_code < 400 or response.status_code in (409, 422)
        if not shown or request.endpoint in (None, "static"):
            return response
        if current_user.is_authenticated and current_user.acting is not None:
            section = _section()
            if section is not None:
                services.record_visit(get_session(), current_user, section, request.method != "GET")
        return response
