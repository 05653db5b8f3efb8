"""Coordinators' pages (same blueprint): requests to join, members and their notes,
exchanges to agree or settle, recording help for members without the app, corrections,
and the report. Never while acting for someone else."""

from __future__ import annotations

import csv
import io

from flask import Response, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from webapp.db import get_session, utcnow
from webapp.formatting import csv_cell
from webapp.htmx import hx_redirect, render
from webapp.timebank import exchanges, reports, services
from webapp.timebank.hours import decimal_hours, hours_text
from webapp.timebank.routes import (
    _errors,
    _exchange_action,
    _form,
    bp,
    requested_before,
    spec_of,
    statement_csv,
    today,
)
from webapp.timebank.services import TimebankError


def _coordinate_page(slug: str, status: int = 200, **context: object) -> Response:
    db = get_session()
    bank, _coordinator = services.coordinating(db, current_user, slug)
    context.setdefault("errors", {})
    context.setdefault("error_for", None)
    context.setdefault("typed", {})
    return render(
        "timebank/coordinate.html",
        status=status,
        bank=bank,
        spec=spec_of(slug),
        requests=services.requests_to_join(db, bank),
        to_settle=exchanges.to_settle(db, bank, today()),
        beyond=services.beyond_limits(db, bank),
        today=today(),
        **context,
    )


@bp.get("/<slug>/coordinate")
@login_required
def coordinate(slug: str) -> Response:
    """Show what waits for coordinators: requests to join, exchanges to agree or settle, and
    balances past the limits."""
    return _coordinate_page(slug)


@bp.post("/<slug>/members/<int:member_id>/decide")
@login_required
def decide(slug: str, member_id: int) -> Response:
    """Approve a request to join (with a private note) or decline it (with a reason)."""
    approve = request.form.get("decision") == "approve"
    try:
        member = services.decide_request(
            get_session(),
            current_user,
            slug,
            member_id,
            approve,
            min(max(request.form.get("version", 0, type=int), 0), 2**31),
            request.form.get("note", ""),
            request.form.get("reason", ""),
        )
    except TimebankError as error:
        get_session().rollback()  # let go of the write lock before drawing the page
        return _coordinate_page(
            slug, status=422, errors=_errors(error), error_for=member_id, typed=_form()
        )
    if approve:
        flash(_("%(name)s is now a member.", name=member.display_name), "success")
    else:
        flash(_("You declined %(name)s's request.", name=member.display_name), "success")
    return hx_redirect(url_for("timebank.coordinate", slug=slug))


@bp.get("/<slug>/members")
@login_required
def members(slug: str) -> Response:
    """List the bank's members with their balances, those past a limit flagged."""
    db = get_session()
    bank, _coordinator = services.coordinating(db, current_user, slug)
    return render("timebank/members.html", bank=bank, rows=services.members_of(db, bank))


@bp.get("/<slug>/members/new")
@login_required
def new_member(slug: str) -> Response:
    """Show the form to add a member who does not use the app."""
    bank, _coordinator = services.coordinating(get_session(), current_user, slug)
    return render("timebank/member_new.html", bank=bank, spec=spec_of(slug), typed={}, errors={})


@bp.post("/<slug>/members")
@login_required
def create_member(slug: str) -> Response:
    """Add a member who does not use the app; coordinators record their exchanges."""
    db = get_session()
    try:
        made = services.add_member_without_app(db, current_user, slug, _form(), spec_of(slug))
    except TimebankError as error:
        bank, _coordinator = services.coordinating(db, current_user, slug)
        return render(
            "timebank/member_new.html",
            status=422,
            bank=bank,
            spec=spec_of(slug),
            typed=_form(),
            errors=_errors(error),
        )
    flash(
        _("%(name)s is a member. Record their exchanges for them.", name=made.display_name),
        "success",
    )
    return hx_redirect(url_for("timebank.member", slug=slug, member_id=made.id))


def _member_page(slug: str, member_id: int, status: int = 200, **context: object) -> Response:
    db = get_session()
    bank, _coordinator = services.coordinating(db, current_user, slug)
    member = services.bank_member(db, bank, member_id)
    before = requested_before()
    lines, older = exchanges.statement(db, member, before)
    context.setdefault("errors", {})
    return render(
        "timebank/member.html",
        status=status,
        bank=bank,
        spec=spec_of(slug),
        member=member,
        lines=lines,
        older=older,
        before=before,
        **context,
    )


@bp.get("/<slug>/members/<int:member_id>")
@login_required
def member(slug: str, member_id: int) -> Response:
    """Show a member to coordinators: their profile, the private note and their statement."""
    return _member_page(slug, member_id)


@bp.get("/<slug>/members/<int:member_id>/statement.csv")
@login_required
def member_statement(slug: str, member_id: int) -> Response:
    """Download a member's whole statement as CSV, for coordinators."""
    db = get_session()
    bank, _coordinator = services.coordinating(db, current_user, slug)
    member = services.bank_member(db, bank, member_id)
    return statement_csv(member, spec_of(slug), f"time-bank-statement-{slug}-{member.id}.csv")


@bp.post("/<slug>/members/<int:member_id>/note")
@login_required
def save_note(slug: str, member_id: int) -> Response:
    """Save the coordinators' private note about a member."""
    try:
        services.update_note(
            get_session(), current_user, slug, member_id, request.form.get("note", "")
        )
    except TimebankError as error:
        return _member_page(slug, member_id, status=422, errors=_errors(error))
    flash(_("The note is saved."), "success")
    return hx_redirect(url_for("timebank.member", slug=slug, member_id=member_id))


@bp.post("/<slug>/members/<int:member_id>/remove")
@login_required
def remove(slug: str, member_id: int) -> Response:
    """Remove a member; exchanges not yet happened are called off."""
    try:
        called_off = services.remove_member(
            get_session(), current_user, slug, member_id, request.form.get("reason", ""), today()
        )
    except TimebankError as error:
        get_session().rollback()  # let go of the write lock before drawing the page
        return _member_page(slug, member_id, status=422, errors=_errors(error))
    flash(
        ngettext(
            "Removed. %(num)d exchange not yet happened was called off; those that happened "
            "wait to be confirmed or settled.",
            "Removed. %(num)d exchanges not yet happened were called off; those that happened "
            "wait to be confirmed or settled.",
            called_off,
        ),
        "success",
    )
    return hx_redirect(url_for("timebank.member", slug=slug, member_id=member_id))


@bp.get("/<slug>/record")
@login_required
def new_record(slug: str) -> Response:
    """Show the form to record help given, for members who cannot use the app."""
    db = get_session()
    bank, coordinator = services.coordinating(db, current_user, slug)
    return render(
        "timebank/record.html",
        bank=bank,
        spec=spec_of(slug),
        choices=services.members_to_choose(db, bank, coordinator),
        key=exchanges.new_key(),
        typed={"happens_on": today().isoformat()},
        errors={},
    )


@bp.post("/<slug>/record")
@login_required
def record(slug: str) -> Response:
    """Record help already given; the hours move at once, recorded as by the coordinator."""
    db = get_session()
    spec = spec_of(slug)
    try:
        made = exchanges.record(
            db, current_user, slug, _form(), dict(spec.categories) if spec else {}, today()
        )
    except TimebankError as error:
        bank, coordinator = services.coordinating(db, current_user, slug)
        return render(
            "timebank/record.html",
            status=422,
            bank=bank,
            spec=spec,
            choices=services.members_to_choose(db, bank, coordinator),
            key=request.form.get("key", ""),
            typed=_form(),
            errors=_errors(error),
        )
    flash(_("Recorded: %(hours)s moved.", hours=hours_text(made.moved)), "success")
    return hx_redirect(url_for("timebank.show_exchange", slug=slug, exchange_id=made.id))


@bp.post("/<slug>/exchanges/<int:exchange_id>/agree")
@login_required
def agree(slug: str, exchange_id: int) -> Response:
    """Agree that a proposal may take the receiver past the lower limit, or decline it."""
    approve = request.form.get("decision") == "agree"
    return _exchange_action(
        slug,
        exchange_id,
        lambda: exchanges.agree(
            get_session(), current_user, slug, exchange_id, approve, request.form.get("reason", "")
        ),
        _("Agreed: it goes to the other member now.")
        if approve
        else _("Declined. The member who proposed it has been told."),
    )


@bp.post("/<slug>/exchanges/<int:exchange_id>/settle")
@login_required
def settle(slug: str, exchange_id: int) -> Response:
    """Settle a disputed exchange, or one not confirmed in time."""
    return _exchange_action(
        slug,
        exchange_id,
        lambda: exchanges.settle(
            get_session(),
            current_user,
            slug,
            exchange_id,
            request.form.get("hours", ""),
            request.form.get("reason", ""),
            today(),
        ),
        _("Settled. Both members have been told."),
    )


@bp.post("/<slug>/exchanges/<int:exchange_id>/correct")
@login_required
def correct(slug: str, exchange_id: int) -> Response:
    """Correct the hours of an exchange by a new movement of the difference."""
    return _exchange_action(
        slug,
        exchange_id,
        lambda: exchanges.correct(
            get_session(),
            current_user,
            slug,
            exchange_id,
            request.form.get("hours", ""),
            request.form.get("reason", ""),
        ),
        _("Corrected. The difference moved as a new entry; both members have been told."),
    )


@bp.get("/<slug>/report")
@login_required
def report(slug: str) -> Response:
    """Show hours by category and month, active members, and those to reach out to."""
    db = get_session()
    bank, _coordinator = services.coordinating(db, current_user, slug)
    return render(
        "timebank/report.html",
        bank=bank,
        spec=spec_of(slug),
        report=reports.report(db, bank, today(), utcnow()),
    )


@bp.get("/<slug>/report.csv")
@login_required
def report_download(slug: str) -> Response:
    """Download the report as CSV: hours by category and month, then members to reach out
    to."""
    db = get_session()
    bank, _coordinator = services.coordinating(db, current_user, slug)
    spec = spec_of(slug)
    found = reports.report(db, bank, today(), utcnow())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Hours by category"), *found.months, _("Total")])
    for category, by_month in sorted(found.hours.items()):
        label = spec.category_label(category) if spec else category
        writer.writerow(
            [
                csv_cell(label),
                *(decimal_hours(by_month.get(m, 0)) for m in found.months),
                decimal_hours(sum(by_month.values())),
            ]
        )
    writer.writerow(
        [
            _("All categories"),
            *(decimal_hours(found.totals_by_month.get(m, 0)) for m in found.months),
            decimal_hours(found.total),
        ]
    )
    writer.writerow([])
    writer.writerow([_("Members"), found.members])
    writer.writerow([_("Exchanged in the last 90 days"), found.active])
    writer.writerow([])
    writer.writerow([_("No exchange in 90 days"), _("Area"), _("Last exchange"), _("Balance")])
    for quiet in found.quiet:
        writer.writerow(
            [
                csv_cell(quiet.member.display_name),
                csv_cell(quiet.member.area),
                quiet.last.date().isoformat() if quiet.last else _("never"),
                decimal_hours(quiet.member.balance),
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="time-bank-report-{slug}.csv"',
            "Cache-Control": "private, no-store",
        },
    )
