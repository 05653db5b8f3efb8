"""Outcomes for the care team and commissioners: a page per practice and its CSV."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from webapp.db import get_session
from webapp.htmx import render
from webapp.outcomes import services

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")


def prepared_chart(outcomes: services.Outcomes) -> Markup:
    """Draw the share of reviews prepared for, per quarter (suppressed quarters left empty
    and labelled), as a small SVG bar chart; the table beside it holds the same figures."""
    width, height, left, bottom, top = 320, 140, 40, 24, 10
    inner_w, inner_h = width - left - 8, height - top - bottom
    slot = inner_w / len(outcomes.quarters)
    parts = [
        f'<svg class="progress-chart" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="prepared-chart-title" focusable="false" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="prepared-chart-title">{escape(_("Share of reviews prepared for"))}</title>',
        f'<line x1="{left}" y1="{top + inner_h}" x2="{left + inner_w}" y2="{top + inner_h}" '
        'class="baseline"/>',
        f'<text x="{left - 4}" y="{top + 8}" class="axis" text-anchor="end">100%</text>',
        f'<text x="{left - 4}" y="{top + inner_h}" class="axis" text-anchor="end">0</text>',
    ]
    for index, quarter in enumerate(outcomes.quarters):
        cell = quarter.cells["prepared"]
        x = round(left + index * slot + slot * 0.2, 1)
        if not cell.suppressed and cell.value is not None:
            bar = round(inner_h * cell.value / 100, 1)
            parts.append(
                f'<rect x="{x}" y="{round(top + inner_h - bar, 1)}" width="{round(slot * 0.6, 1)}"'
                f' height="{bar}" class="bar did"/>'
            )
        parts.append(
            f'<text x="{round(x + slot * 0.3, 1)}" y="{height - 6}" class="axis" '
            f'text-anchor="middle">{escape(quarter.label[-2:])}</text>'
        )
    parts.append("</svg>")
    # Every number is formatted here and every text escaped above.
    return Markup("".join(parts))  # noqa: S704


@bp.get("/practices/<int:practice_id>")
@login_required
def practice(practice_id: int) -> Response:
    """Show the practice's outcomes for the last four quarters."""
    found = services.practice_outcomes(get_session(), current_user, practice_id)
    return render(
        "outcomes/index.html",
        found=found,
        columns=services.columns(),
        chart=prepared_chart(found),
    )


@bp.get("/practices/<int:practice_id>/outcomes.csv")
@login_required
def practice_csv(practice_id: int) -> Response:
    """Download the same figures as CSV."""
    found = services.practice_outcomes(get_session(), current_user, practice_id)
    return Response(
        services.as_csv(found),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="coproduce-outcomes.csv"',
            "Cache-Control": "private, no-store",
        },
    )
