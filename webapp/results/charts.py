"""Small trend charts drawn on the server as SVG: no script, readable printed, calm colours.

The target is a hatched band with a dashed edge (shape and pattern, not colour alone);
readings are dots joined by a line, the newest one larger. Each chart has a text title
for screen readers, and the page shows the same readings as a table.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup, escape

from webapp.formatting import day_month_year
from webapp.results.services import TestSummary

WIDTH, HEIGHT = 320, 140
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 26
MAX_POINTS = 24


def _scale(
    low: float, high: float, size: float, start: float, flip: bool = False
) -> Callable[[float], float]:
    span = (high - low) or 1.0

    def place(value: float) -> float:
        fraction = (value - low) / span
        return round(start + (1 - fraction if flip else fraction) * size, 1)

    return place


def _label(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def trend_chart(summary: TestSummary, chart_id: str, title: str) -> Markup:
    """Return an SVG chart of a test's readings over time, or empty if it has no numbers."""
    readings = [r for r in reversed(summary.readings) if r.value is not None][-MAX_POINTS:]
    chart_id = str(escape(chart_id))
    if not readings:
        return Markup("")
    decimals = summary.test.decimals if summary.test else 1
    values = [r.value for r in readings] + [
        r.value_second for r in readings if r.value_second is not None
    ]
    target = summary.target
    ends = (
        [v for v in (target.low, target.high, target.high_second) if v is not None]
        if target
        else []
    )
    low, high = min(values + ends), max(values + ends)
    pad = max((high - low) * 0.15, abs(high) * 0.05, 1.0 if decimals == 0 else 0.1)
    low, high = max(low - pad, 0) if low >= 0 else low - pad, high + pad
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    first, last = readings[0].taken_at.timestamp(), readings[-1].taken_at.timestamp()
    x_of = _scale(first, last, inner_w, LEFT)
    y_of = _scale(low, high, inner_h, TOP, flip=True)
    if len(readings) == 1:
        x_of = lambda _t: LEFT + inner_w / 2  # noqa: E731 - one reading sits in the middle
    parts = [
        f'<svg class="trend-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title" focusable="false" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="6" class="hatch"/></pattern></defs>',
    ]
    if target is not None and (target.low is not None or target.high is not None):
        top = y_of(target.high) if target.high is not None else TOP
        bottom = y_of(target.low) if target.low is not None else TOP + inner_h
        parts.append(
            f'<rect x="{LEFT}" y="{top}" width="{inner_w}" height="{round(bottom - top, 1)}" '
            f'fill="url(#{chart_id}-hatch)" class="target-band"/>'
        )
        for edge in (target.high, target.low):
            if edge is not None:
                y = y_of(edge)
                parts.append(
                    f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + inner_w}" y2="{y}" '
                    'class="target-edge"/>'
                )
    # Axis labels: the top and bottom of the scale, and the first and last dates.
    parts.append(
        f'<text x="{LEFT - 6}" y="{TOP + 4}" class="axis" text-anchor="end">'
        f"{_label(high, decimals)}</text>"
        f'<text x="{LEFT - 6}" y="{TOP + inner_h}" class="axis" text-anchor="end">'
        f"{_label(low, decimals)}</text>"
        f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{LEFT + inner_w}" y2="{TOP + inner_h}" '
        'class="baseline"/>'
    )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 6}" class="axis">'
        f"{escape(day_month_year(readings[0].taken_at))}</text>"
    )
    if len(readings) > 1:
        parts.append(
            f'<text x="{LEFT + inner_w}" y="{HEIGHT - 6}" class="axis" text-anchor="end">'
            f"{escape(day_month_year(readings[-1].taken_at))}</text>"
        )
    for series, css, marker in (
        ("value", "line", "dot"),
        ("value_second", "line second", "square"),
    ):
        points = [
            (x_of(r.taken_at.timestamp()), y_of(getattr(r, series)))
            for r in readings
            if getattr(r, series) is not None
        ]
        if not points:
            continue
        if len(points) > 1:
            path = " ".join(f"{x},{y}" for x, y in points)
            parts.append(f'<polyline points="{path}" class="{css}"/>')
        for index, (x, y) in enumerate(points):
            size = 4.5 if index == len(points) - 1 else 3
            if marker == "dot":
                parts.append(f'<circle cx="{x}" cy="{y}" r="{size}" class="point"/>')
            else:
                parts.append(
                    f'<rect x="{x - size}" y="{y - size}" width="{size * 2}" height="{size * 2}" '
                    'class="point second"/>'
                )
    parts.append("</svg>")
    # Every number is formatted here and every text escaped above.
    return Markup("".join(parts))  # noqa: S704
