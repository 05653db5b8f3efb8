"""Time-bank pages for members (a carer with the time-bank scope uses them for the person):
the bank, joining, the profile, offers and requests, exchanges and the statement."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

from flask import Blueprint, Response, flash, request, stream_with_context, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from webapp.content import get_content
from webapp.db import get_session, session_scope, utcnow
from webapp.formatting import csv_cell, local_date
from webapp.htmx import hx_redirect, render, requested_page
from webapp.kept import kept_page, plain_visit
from webapp.timebank import exchanges, services
from webapp.timebank.hours import decimal_hours, field_value, hours_text, short_hours
from webapp.timebank.services import Search, TimebankError
from webapp.timebank.spec import BankSpec

bp = Blueprint("timebank", __name__, url_prefix="/timebank")

STATUS_WORDS = {
    "waiting": "Waiting for a coordinator",
    "proposed": "Proposed",
    "accepted": "Agreed",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "cancelled": "Called off",
    "disputed": "Hours differ: a coordinator will settle",
    "held": "Past the lower limit: a coordinator will settle",
    "done": "Confirmed by both",
    "settled": "Settled by a coordinator",
    "recorded": "Recorded by a coordinator",
}


@bp.app_template_filter("hours")
def _hours_filter(quarters: int | None) -> str:
    """Show quarter hours in words: '1½ hours'."""
    return hours_text(quarters or 0)


@bp.app_template_filter("decimal_hours")
def _decimal_hours_filter(quarters: int | None) -> str:
    """Show quarter hours as a decimal for tables of figures: '1.50'."""
    return decimal_hours(quarters or 0)


@bp.app_template_filter("short_hours")
def _short_hours(quarters: int | None, signed: bool = False) -> str:
    """Show quarter hours as a short number for tables: '+1½'."""
    return short_hours(quarters or 0, signed)


@bp.app_template_filter("month_name")
def _month_name(key: str) -> str:
    """Name a month given as YYYY-MM: 'November 2026'."""
    return format_date(dt.date.fromisoformat(key + "-01"), "MMMM y")


@bp.app_template_global("exchange_status")
def exchange_status(status: str) -> str:
    """Say an exchange's status in words."""
    return _(STATUS_WORDS.get(status, status))


def today() -> dt.date:
    """Return today's date in the app's time zone."""
    return local_date(utcnow())


def spec_of(slug: str) -> BankSpec | None:
    """Return what content says of a bank (areas, categories), if anything."""
    return get_content().banks.get(slug)


def requested_before() -> int | None:
    """Return the statement's ?before= (an entry id), or None for the newest page."""
    before = request.args.get("before", type=int)
    return before if before is not None and 0 < before < 2**62 else None


def _form() -> dict[str, str]:
    return {key: request.form.get(key, "") for key in request.form}


def _errors(error: TimebankError) -> dict[str, str]:
    return {error.field or "form": error.message}


# --- the bank and joining -----------------------------------------------------------------


@bp.get("")
@login_required
def index() -> Response:
    """List the time banks, with the account's place in each."""
    db = get_session()
    banks = services.banks_with_status(db, current_user)
    return render("timebank/index.html", banks=banks)


def _bank_page(slug: str, status: int = 200, **context: object) -> Response:
    db = get_session()
    bank, account = services.bank_and_account(db, current_user, slug)
    coordinator = (
        account is not None
        and account.role == "coordinator"
        and (account.status == "active" and current_user.acting is None)
    )
    context.setdefault("errors", {})
    context.setdefault("typed", {})

    def everything() -> dict[str, object]:
        active = account is not None and account.status == "active"
        return dict(
            bank=bank,
            spec=spec_of(slug),
            account=account,
            waiting=exchanges.waiting_for(db, account, today()) if active else [],
            coordinator=coordinator,
            **context,
        )

    if status == 200 and plain_visit():
        # Kept until anything in the bank changes (its version) or the day turns.
        return kept_page((bank.id, bank.version, today()), "timebank/show.html", everything)
    return render("timebank/show.html", status=status, **everything())


@bp.get("/<slug>")
@login_required
def show(slug: str) -> Response:
    """Show a bank: what it is, how to join, and for members their balance and what waits
    for them."""
    return _bank_page(slug)


@bp.post("/<slug>/join")
@login_required
def join(slug: str) -> Response:
    """Ask to join a bank with a profile."""
    try:
        services.ask_to_join(get_session(), current_user, slug, _form(), spec_of(slug))
    except TimebankError as error:
        return _bank_page(slug, status=422, errors=_errors(error), typed=_form())
    flash(_("Thank you. A coordinator will look at your request soon."), "success")
    return hx_redirect(url_for("timebank.show", slug=slug))


@bp.get("/<slug>/profile")
@login_required
def profile(slug: str) -> Response:
    """Show the profile form: the name, area, offers, needs and availability others see."""
    db = get_session()
    bank = services.get_bank(db, slug)
    account = services.account_of(db, current_user, bank)
    services.own_account_rule(current_user)
    if account is None or account.status not in ("pending", "active"):
        raise NotFound()
    return render(
        "timebank/profile.html",
        bank=bank,
        spec=spec_of(slug),
        account=account,
        typed=account.__dict__,
        errors={},
    )


@bp.post("/<slug>/profile")
@login_required
def update_profile(slug: str) -> Response:
    """Save the profile."""
    db = get_session()
    try:
        services.update_profile(db, current_user, slug, _form(), spec_of(slug))
    except TimebankError as error:
        bank = services.get_bank(db, slug)
        return render(
            "timebank/profile.html",
            status=422,
            bank=bank,
            spec=spec_of(slug),
            account=services.account_of(db, current_user, bank),
            typed=_form(),
            errors=_errors(error),
        )
    flash(_("Your profile is saved."), "success")
    return hx_redirect(url_for("timebank.show", slug=slug))


@bp.post("/<slug>/leave")
@login_required
def leave(slug: str) -> Response:
    """Leave the bank (or withdraw a request to join); hours earned stay in the ledger."""
    try:
        called_off = services.leave(get_session(), current_user, slug, today())
    except TimebankError as error:
        get_session().rollback()
        flash(error.message, "error")
        return hx_redirect(url_for("timebank.show", slug=slug))
    if called_off:
        flash(
            _("You have left the time bank. Exchanges not yet happened were called off."), "success"
        )
    else:
        flash(_("You have left the time bank."), "success")
    return hx_redirect(url_for("timebank.show", slug=slug))


# --- listings ----------------------------------------------------------------------------


@bp.get("/<slug>/listings")
@login_required
def listings(slug: str) -> Response:
    """Search the bank's offers and requests, newest first."""
    db = get_session()
    bank, account = services.own_account(db, current_user, slug)
    spec = spec_of(slug)
    search = Search(
        words=request.args.get("q", "")[:80],
        kind=request.args.get("kind", "") if request.args.get("kind") in services.KINDS else "",
        category=request.args.get("category", "")[:40],
        area=request.args.get("area", "")[:60],
    )
    page = requested_page()
    day = today()

    def everything() -> dict[str, object]:
        rows, more = services.search_listings(db, bank, search, day, page)
        return dict(
            bank=bank, spec=spec, account=account, rows=rows, more=more, page=page, search=search
        )

    if plain_visit():
        key = (bank.id, bank.version, day, account.id, search, page)
        return kept_page(key, "timebank/listings.html", everything)
    return render("timebank/listings.html", **everything())


@bp.get("/<slug>/listings/new")
@login_required
def new_listing(slug: str) -> Response:
    """Show the form for a new offer or request."""
    bank, _account = services.own_account(get_session(), current_user, slug)
    kind = request.args.get("kind", "offer")
    return render(
        "timebank/listing_form.html",
        bank=bank,
        spec=spec_of(slug),
        listing=None,
        typed={"kind": kind if kind in services.KINDS else "offer"},
        errors={},
        today=today(),
    )


@bp.post("/<slug>/listings")
@login_required
def create_listing(slug: str) -> Response:
    """Add an offer or request."""
    db = get_session()
    try:
        made = services.create_listing(db, current_user, slug, _form(), spec_of(slug), today())
    except TimebankError as error:
        bank, _account = services.own_account(db, current_user, slug)
        return render(
            "timebank/listing_form.html",
            status=422,
            bank=bank,
            spec=spec_of(slug),
            listing=None,
            typed=_form(),
            errors=_errors(error),
            today=today(),
        )
    flash(_("It is listed. Members can now propose an exchange."), "success")
    return hx_redirect(url_for("timebank.show_listing", slug=slug, listing_id=made.id))


def _listing_page(slug: str, listing_id: int, status: int = 200, **context: object) -> Response:
    db = get_session()
    bank, account = services.own_account(db, current_user, slug)
    listing = services.get_listing(db, bank, listing_id)
    maker = services.bank_member(db, bank, listing.member_id)
    context.setdefault("errors", {})
    context.setdefault("typed", {"happens_on": today().isoformat()})
    return render(
        "timebank/listing.html",
        status=status,
        bank=bank,
        spec=spec_of(slug),
        account=account,
        listing=listing,
        maker=maker,
        key=exchanges.new_key(),
        today=today(),
        **context,
    )


@bp.get("/<slug>/listings/<int:listing_id>")
@login_required
def show_listing(slug: str, listing_id: int) -> Response:
    """Show an offer or request, with the form to propose an exchange."""
    return _listing_page(slug, listing_id)


@bp.get("/<slug>/listings/<int:listing_id>/edit")
@login_required
def edit_listing(slug: str, listing_id: int) -> Response:
    """Show the form to change an offer or request."""
    bank, _account, listing = services.own_listing(get_session(), current_user, slug, listing_id)
    typed = {**listing.__dict__, "ends_on": listing.ends_on.isoformat() if listing.ends_on else ""}
    return render(
        "timebank/listing_form.html",
        bank=bank,
        spec=spec_of(slug),
        listing=listing,
        typed=typed,
        errors={},
        today=today(),
    )


@bp.post("/<slug>/listings/<int:listing_id>")
@login_required
def update_listing(slug: str, listing_id: int) -> Response:
    """Save changes to an offer or request (exchanges already proposed keep what was
    agreed)."""
    db = get_session()
    try:
        _listing, relisted = services.update_listing(
            db, current_user, slug, listing_id, _form(), spec_of(slug), today()
        )
    except TimebankError as error:
        bank, _account, listing = services.own_listing(db, current_user, slug, listing_id)
        return render(
            "timebank/listing_form.html",
            status=422,
            bank=bank,
            spec=spec_of(slug),
            listing=listing,
            typed=_form(),
            errors=_errors(error),
            today=today(),
        )
    flash(
        _("Your changes are saved and it is listed again.")
        if relisted
        else _("Your changes are saved. Exchanges already proposed stay as agreed."),
        "success",
    )
    return hx_redirect(url_for("timebank.show_listing", slug=slug, listing_id=listing_id))


@bp.post("/<slug>/listings/<int:listing_id>/close")
@login_required
def close_listing(slug: str, listing_id: int) -> Response:
    """Take an offer or request off the listings."""
    services.close_listing(get_session(), current_user, slug, listing_id)
    flash(_("It is no longer listed. Exchanges under way carry on."), "success")
    return hx_redirect(url_for("timebank.show_listing", slug=slug, listing_id=listing_id))


@bp.post("/<slug>/listings/<int:listing_id>/exchanges")
@login_required
def propose(slug: str, listing_id: int) -> Response:
    """Propose an exchange from an offer or request."""
    try:
        made = exchanges.propose(get_session(), current_user, slug, listing_id, _form(), today())
    except TimebankError as error:
        get_session().rollback()
        return _listing_page(slug, listing_id, status=422, errors=_errors(error), typed=_form())
    if made.status == "waiting":
        flash(
            _(
                "It would take the receiver past the time bank's lower limit, so a coordinator "
                "looks at it first. You will hear when they have."
            ),
            "success",
        )
    else:
        flash(_("Proposed. You will hear when the other member answers."), "success")
    return hx_redirect(url_for("timebank.show_exchange", slug=slug, exchange_id=made.id))


# --- exchanges ---------------------------------------------------------------------------


@bp.get("/<slug>/exchanges")
@login_required
def exchange_list(slug: str) -> Response:
    """List the account's exchanges, newest first."""
    db = get_session()
    bank, account = services.own_account(db, current_user, slug)
    page = requested_page()
    rows, more = exchanges.exchanges_of(db, account, today(), page)
    return render(
        "timebank/exchanges.html", bank=bank, account=account, rows=rows, more=more, page=page
    )


def exchange_page(slug: str, exchange_id: int, status: int = 200, **context: object) -> Response:
    """Render an exchange for a member taking part in it, or for a coordinator."""
    db = get_session()
    bank = services.get_bank(db, slug)
    coordinator = services.is_coordinator(db, current_user, bank)
    account = services.account_of(db, current_user, bank)
    exchange = exchanges.get_exchange(db, bank, exchange_id)
    party = (
        account is not None
        and account.status == "active"
        and account.id in (exchange.giver_id, exchange.receiver_id)
    )
    if party:
        services.own_account_rule(current_user)
    elif not coordinator:
        raise NotFound()
    giver, receiver = exchanges.names(db, exchange)
    context.setdefault("errors", {})
    context.setdefault("typed", {})
    return render(
        "timebank/exchange.html",
        status=status,
        bank=bank,
        spec=spec_of(slug),
        exchange=exchange,
        giver=giver,
        receiver=receiver,
        account=account if party else None,
        coordinator=coordinator,
        movements=exchanges.movements(db, exchange),
        needs_you=party and exchanges.waits_for(exchange, account.id, today()),
        overdue=exchanges.overdue(exchange, today()),
        confirm_by=exchanges.confirm_by(exchange),
        today=today(),
        field_value=field_value,
        **context,
    )


@bp.get("/<slug>/exchanges/<int:exchange_id>")
@login_required
def show_exchange(slug: str, exchange_id: int) -> Response:
    """Show an exchange: who gives, who receives, what, when, the hours each side said and
    what moved, with the next step for the viewer."""
    return exchange_page(slug, exchange_id)


def _exchange_action(slug: str, exchange_id: int, action, done: str) -> Response:
    try:
        action()
    except TimebankError as error:
        get_session().rollback()  # let go of the write lock before drawing the page
        return exchange_page(slug, exchange_id, status=422, errors=_errors(error), typed=_form())
    flash(done, "success")
    return hx_redirect(url_for("timebank.show_exchange", slug=slug, exchange_id=exchange_id))


@bp.post("/<slug>/exchanges/<int:exchange_id>/answer")
@login_required
def answer(slug: str, exchange_id: int) -> Response:
    """Accept or decline a proposal."""
    accept = request.form.get("answer") == "accept"
    return _exchange_action(
        slug,
        exchange_id,
        lambda: exchanges.answer(
            get_session(),
            current_user,
            slug,
            exchange_id,
            accept,
            today(),
            request.form.get("reason", ""),
        ),
        _("Accepted. After it has happened, you each confirm the hours.")
        if accept
        else _("Declined. The other member has been told."),
    )


@bp.post("/<slug>/exchanges/<int:exchange_id>/call-off")
@login_required
def call_off(slug: str, exchange_id: int) -> Response:
    """Withdraw a proposal, or call off an exchange neither side has confirmed."""
    return _exchange_action(
        slug,
        exchange_id,
        lambda: exchanges.call_off(
            get_session(), current_user, slug, exchange_id, request.form.get("reason", "")
        ),
        _("Called off. The other member has been told."),
    )


@bp.post("/<slug>/exchanges/<int:exchange_id>/confirm")
@login_required
def confirm(slug: str, exchange_id: int) -> Response:
    """Confirm the hours actually given (or that it did not happen)."""
    happened = request.form.get("happened", "yes") != "no"
    db = get_session()
    try:
        made = exchanges.confirm(
            db, current_user, slug, exchange_id, request.form.get("hours", ""), today(), happened
        )
    except TimebankError as error:
        db.rollback()
        return exchange_page(slug, exchange_id, status=422, errors=_errors(error), typed=_form())
    words = {
        "done": _("Thank you. You both agree, so %(hours)s moved.", hours=hours_text(made.moved)),
        "disputed": _(
            "Thank you. The hours you each gave differ, so a coordinator will settle it."
        ),
        "cancelled": _("Thank you. You both said it did not happen, so no hours moved."),
    }
    flash(
        words.get(made.status, _("Thank you. It waits for the other member to confirm.")), "success"
    )
    return hx_redirect(url_for("timebank.show_exchange", slug=slug, exchange_id=exchange_id))


# --- statement ---------------------------------------------------------------------------


@bp.get("/<slug>/statement")
@login_required
def statement(slug: str) -> Response:
    """Show every movement of hours, newest first, with the balance after each."""
    db = get_session()
    bank, account = services.statement_account(db, current_user, slug)
    before = requested_before()

    def everything() -> dict[str, object]:
        lines, older = exchanges.statement(db, account, before)
        return dict(
            bank=bank, spec=spec_of(slug), account=account, lines=lines, older=older, before=before
        )

    if plain_visit():
        key = (bank.id, bank.version, account.id, before)
        return kept_page(key, "timebank/statement.html", everything)
    return render("timebank/statement.html", **everything())


def _csv_rows(db, account, spec: BankSpec | None) -> Iterator[str]:
    """Write a member's statement as CSV, oldest first, a chunk at a time."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Date"),
            _("Exchange"),
            _("Category"),
            _("With"),
            _("Kind"),
            _("Hours"),
            _("Balance"),
            _("Reason"),
        ]
    )
    for line in exchanges.statement_all(db, account):
        writer.writerow(
            [
                local_date(line.entry.created_at).isoformat(),
                csv_cell(line.title),
                csv_cell(spec.category_label(line.category) if spec else line.category),
                csv_cell(line.other),
                line.entry.kind,
                decimal_hours(line.entry.amount),
                decimal_hours(line.entry.balance_after),
                csv_cell(line.entry.reason),
            ]
        )
        if out.tell() > 16_000:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def statement_csv(account, spec: BankSpec | None, filename: str) -> Response:
    """Answer with a member's whole statement as CSV, oldest first, written as it is read."""

    def rows() -> Iterator[str]:
        # Its own session, closed when the last row is written (or the download is dropped).
        with session_scope() as db:
            yield from _csv_rows(db, account, spec)

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/<slug>/statement.csv")
@login_required
def statement_download(slug: str) -> Response:
    """Download the whole statement as a CSV file."""
    _bank, account = services.statement_account(get_session(), current_user, slug)
    return statement_csv(account, spec_of(slug), f"time-bank-statement-{slug}.csv")


from webapp.timebank import coordinating  # noqa: E402, F401 - its routes join this blueprint
