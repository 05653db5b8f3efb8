"""Planning conversation pages: one question at a time, with htmx or plain form posts."""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.access import can
from webapp.contact import services as contact
from webapp.content import get_content
from webapp.db import get_session
from webapp.htmx import hx_redirect, is_htmx, render, wants_partial
from webapp.kept import KEY_PLACEHOLDER, TOKEN_PLACEHOLDER, fill, kept_html
from webapp.planning import conversations, summary
from webapp.planning.flows import AnswerError, Step, words

bp = Blueprint("planning", __name__, url_prefix="/planning")


@bp.get("")
@login_required
def index() -> Response:
    """List the conversations a person can have."""
    return render(
        "planning/index.html",
        flows=sorted(
            conversations.flows_for(current_user, current_user.record_id),
            key=lambda f: (f.order, f.title),
        ),
        progress=conversations.progress(get_session(), current_user, current_user.record_id),
    )


@bp.post("/<slug>/start")
@login_required
def start(slug: str) -> Response:
    """Start a conversation, or go back to the unfinished one."""
    found = conversations.start(get_session(), current_user, current_user.record_id, slug)
    return hx_redirect(url_for("planning.conversation", conversation_id=found.conversation.id))


def _page(found: conversations.View, status: int = 200, **context: object) -> Response:
    """Render the conversation: the whole page, or the part htmx swaps.

    A plain visit (no message to show, no error) is kept per worker, keyed by everything
    the page shows, with the CSRF token and the form's key filled in for each request:
    the conversation is read far more often than it changes.
    """
    context.setdefault("error", "")
    context.setdefault("typed", "")
    context.setdefault("safety_error", "")
    context.setdefault("not_safe", False)
    context.setdefault("told", None)
    context.setdefault("care_team_error", "")
    plan = None
    if found.paused and can(current_user, "crisis.own", found.conversation.patient_id):
        plan = summary.crisis_plan(get_session(), current_user, found.conversation.patient_id)
    context.update(view=found, plan=plan, help_lines=get_content().crisis.help)
    plain_visit = (
        request.method == "GET"
        and status == 200
        and not wants_partial()
        and "_flashes" not in session
    )
    if not plain_visit:
        return render(
            "planning/conversation.html",
            "planning/_conversation.html",
            status=status,
            key=secrets.token_urlsafe(12),
            **context,
        )
    chat, facts = found.conversation, found.facts
    cache_key = (
        "conversation",
        current_user.id,  # the page carries who is signed in
        current_user.acting,  # and, for a carer, the banner and their scopes
        chat.id,
        chat.updated_at,
        hash(chat.answers),
        chat.safety_step,
        found.flow.version,
        facts.first_name,
        facts.next_review,
        tuple(sorted(facts.results.items())),
        plan.updated_at if plan is not None else None,
        str(get_locale()),
        current_user.header_counts,
        current_user.roles,
    )
    html = kept_html(
        cache_key,
        lambda: render_template(
            "planning/conversation.html",
            key=KEY_PLACEHOLDER,
            csrf_token=lambda: TOKEN_PLACEHOLDER,
            **context,
        ),
    )
    response = make_response(fill(html))
    response.vary.add("HX-Request")
    return response


@bp.get("/conversations/<int:conversation_id>")
@login_required
def conversation(conversation_id: int) -> Response:
    """Show the conversation so far and the question waiting for an answer."""
    return _page(conversations.view(get_session(), current_user, conversation_id))


@bp.get("/conversations/<int:conversation_id>/transcript")
@login_required
def transcript(conversation_id: int) -> Response:
    """Show every answer as it was given, changed ones included, and who typed each."""
    found, turns = conversations.transcript_with_names(get_session(), current_user, conversation_id)
    return render(
        "planning/transcript.html",
        view=found,
        turns=[(turn, json.loads(turn.answer), name) for turn, name in turns],
    )


@bp.post("/conversations/<int:conversation_id>/answer")
@login_required
def answer(conversation_id: int) -> Response:
    """Record an answer (or a skip) and show what comes next."""
    db = get_session()
    step = request.form.get("step", "")[:60]
    raw: str | list[str] = request.form.getlist("answer") or [""]
    raw = raw if len(raw) > 1 else raw[0][:5000]
    skip = "skip" in request.form
    try:
        found = conversations.answer(
            db,
            current_user,
            conversation_id,
            step,
            raw,
            request.form.get("key", "")[:64] or secrets.token_urlsafe(12),
            skip=skip,
        )
    except AnswerError as error:
        current = conversations.view(db, current_user, conversation_id)
        typed = raw if isinstance(raw, str) else ""
        return _page(current, status=422, error=str(error), typed=typed)
    if is_htmx():
        return _page(found, announce=True)
    return hx_redirect(
        url_for("planning.conversation", conversation_id=conversation_id) + "#waiting"
    )


@bp.post("/conversations/<int:conversation_id>/change/<step>")
@login_required
def change(conversation_id: int, step: str) -> Response:
    """Open an earlier answer again."""
    found = conversations.change(get_session(), current_user, conversation_id, step[:60])
    if is_htmx():
        return _page(found, announce=True)
    return hx_redirect(
        url_for("planning.conversation", conversation_id=conversation_id) + "#waiting"
    )


@bp.post("/conversations/<int:conversation_id>/safety")
@login_required
def safety(conversation_id: int) -> Response:
    """Take the person's answer to "are you safe right now?"."""
    db = get_session()
    choice = request.form.get("choice", "")[:20]
    try:
        found = conversations.safety(db, current_user, conversation_id, choice)
    except AnswerError as error:
        current = conversations.view(db, current_user, conversation_id)
        return _page(current, status=422, safety_error=str(error))
    if choice == "stop":
        flash(_("Your answers are saved. You can come back to this conversation at any time."))
        return hx_redirect(url_for("planning.index"))
    if is_htmx():
        return _page(found, announce=True, not_safe=choice == "not-safe")
    if choice == "not-safe":
        return _page(found, not_safe=True)
    return hx_redirect(
        url_for("planning.conversation", conversation_id=conversation_id) + "#waiting"
    )


@bp.post("/conversations/<int:conversation_id>/care-team")
@login_required
def care_team(conversation_id: int) -> Response:
    """Ask the person's care team to contact them, from the safety step (the person only)."""
    db = get_session()
    found = conversations.view(db, current_user, conversation_id)
    try:
        asked = contact.ask(db, current_user, "planning")
    except contact.ContactError as error:
        return _page(found, status=422, care_team_error=error.message)
    return _page(found, told=asked)


def answer_words(step: Step, value: Any) -> str:
    """Return an answer as the person sees it in the conversation."""
    if step.ask == "ruler" and isinstance(value, int):
        return f"{value} / {step.high}"
    if step.ask == "decision" and value == "unsure":
        return _("Not sure yet")
    return words(step, value) or _("Skipped")


bp.add_app_template_global(answer_words, "answer_words")


# --- the summary: what the person takes to their review ---------------------------------

KIND = "<any(item, goal, 'crisis-plan'):kind>"


def _summary_page(status: int = 200, **context: object) -> Response:
    found = summary.summary(get_session(), current_user, current_user.record_id)
    context.setdefault("editing", None)
    context.setdefault("error", "")
    context.setdefault("typed", {})
    return render("planning/summary.html", status=status, summary=found, **context)


@bp.get("/summary")
@login_required
def summary_page() -> Response:
    """Show the person's agenda, questions, draft goals and crisis plan for their review."""
    return _summary_page()


@bp.post(f"/{KIND}/<int:thing_id>/share")
@login_required
def share(kind: str, thing_id: int) -> Response:
    """Share something with the care team, or make it private again."""
    shared = request.form.get("shared") == "1"
    try:
        summary.set_shared(get_session(), current_user, kind, thing_id, shared)
    except summary.EditError as error:
        flash(str(error), "error")
        return _back_to(kind, thing_id)
    flash(
        _("Shared with your care team.")
        if shared
        else _("Now private: your care team does not see it.")
    )
    return _back_to(kind, thing_id)


def _back() -> str:
    return "planning.crisis_plan" if request.form.get("back") == "plan" else "planning.summary_page"


def _back_to(kind: str, thing_id: int) -> Response:
    """Go back to the page the form was on; without script, to the very item."""
    # htmx would only scroll for a link that differs by its #fragment, not load it again.
    anchor = None if is_htmx() else f"{kind}-{thing_id}"
    return hx_redirect(url_for(_back(), _anchor=anchor))


@bp.post(f"/{KIND}/<int:thing_id>/edit")
@login_required
def edit(kind: str, thing_id: int) -> Response:
    """Change the words of an item, a draft goal or the crisis plan."""
    form = {name: value[:5000] for name, value in request.form.items()}
    try:
        found = summary.edit(get_session(), current_user, kind, thing_id, form)
    except summary.EditError as error:
        context = {"editing": (kind, thing_id), "error": str(error), "typed": form}
        if _back() == "planning.crisis_plan":
            return _plan_page(status=422, **context)
        return _summary_page(status=422, **context)
    if found is not None:
        lines = ", ".join(line.name for line in get_content().crisis.help)
        flash(
            _(
                "Saved. Something you wrote makes us want to check how you are. If you might"
                " not be safe right now, help is there any time: %(lines)s.",
                lines=lines,
            ),
            "safety",
        )
    elif current_user.acting is not None:
        flash(
            _(
                "Saved. %(name)s's care team will see it only once %(name)s shares it again.",
                name=current_user.acting.person_name,
            )
        )
    else:
        flash(_("Saved."))
    return _back_to(kind, thing_id)


@bp.post(f"/{KIND}/<int:thing_id>/remove")
@login_required
def remove(kind: str, thing_id: int) -> Response:
    """Remove an item, a draft goal or the crisis plan."""
    summary.remove(get_session(), current_user, kind, thing_id)
    flash(_("Removed."))
    if kind == "crisis-plan" or not can(current_user, "planning.own", current_user.record_id):
        return hx_redirect(url_for(_back()))  # a carer may help with the plan alone
    return hx_redirect(url_for("planning.summary_page"))


@bp.post("/ready")
@login_required
def ready() -> Response:
    """Record that the person is ready for their review."""
    try:
        summary.ready(get_session(), current_user, current_user.record_id)
    except summary.EditError as error:
        flash(str(error), "error")
        return hx_redirect(url_for("planning.summary_page"))
    flash(_("Thank you. Your review is marked as prepared. You can still change anything."))
    return hx_redirect(url_for("planning.summary_page"))


def _plan_page(status: int = 200, **context: object) -> Response:
    plan = summary.crisis_plan(get_session(), current_user, current_user.record_id)
    context.setdefault("editing", None)
    context.setdefault("error", "")
    context.setdefault("typed", {})
    return render("planning/crisis_plan.html", status=status, plan=plan, **context)


@bp.get("/crisis-plan")
@login_required
def crisis_plan() -> Response:
    """Show the person's plan for when they are unwell."""
    return _plan_page()
