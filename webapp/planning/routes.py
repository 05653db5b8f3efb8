"""Planning conversation pages: one question at a time, with htmx or plain form posts."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.content import get_content
from webapp.db import get_session
from webapp.htmx import hx_redirect, is_htmx, render
from webapp.planning import conversations
from webapp.planning.flows import SKIPPED, AnswerError, Step

bp = Blueprint("planning", __name__, url_prefix="/planning")


@bp.get("")
@login_required
def index() -> Response:
    """List the conversations a person can have."""
    return render(
        "planning/index.html", flows=sorted(get_content().flows.values(), key=lambda f: f.title)
    )


@bp.post("/<slug>/start")
@login_required
def start(slug: str) -> Response:
    """Start a conversation, or go back to the unfinished one."""
    found = conversations.start(get_session(), current_user, current_user.id, slug)
    return hx_redirect(url_for("planning.conversation", conversation_id=found.conversation.id))


def _page(found: conversations.View, status: int = 200, **context: object) -> Response:
    context.setdefault("error", "")
    context.setdefault("typed", "")
    return render(
        "planning/conversation.html",
        "planning/_conversation.html",
        status=status,
        view=found,
        key=secrets.token_urlsafe(12),
        **context,
    )


@bp.get("/conversations/<int:conversation_id>")
@login_required
def conversation(conversation_id: int) -> Response:
    """Show the conversation so far and the question waiting for an answer."""
    return _page(conversations.view(get_session(), current_user, conversation_id))


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


def answer_words(step: Step, value: Any) -> str:
    """Return an answer as the person sees it in the conversation."""
    if value == SKIPPED:
        return _("Skipped")
    labels = {option.value: option.label for option in step.options}
    if isinstance(value, list):
        return ", ".join(labels.get(v, v) for v in value)
    if step.ask == "ruler":
        return f"{value} / {step.high}"
    return labels.get(value, str(value))


bp.add_app_template_global(answer_words, "answer_words")
