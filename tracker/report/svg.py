"""Small inline SVG charts: reported values, the trajectory and the target, with their scale.

Inline SVG keeps the report one self-contained file (no scripts, no chart library, nothing
fetched), prints sharply and scales on a phone. The chart is drawn from the same plain data
the report's JSON holds, so the picture and the machine copy cannot disagree. No `xmlns`
attribute: inline SVG in HTML does not need one, and the report then holds no URL at all.

What a reader needs to read one without the page around it: every point (a point summed over
part of the regions hollow, and not joined to the line, so a month with late reporters does
not read as a fall), the first and the latest value written beside their points, the target
line labelled in the margin right of the data (never over the lines), the period of the first
and the latest point and the deadline under the axis. The legend is HTML beside the chart
(the report's words, in its language).
"""

from datetime import date
from typing import Any

from markupsafe import Markup, escape

from tracker.domain.format import format_number
from tracker.report.labels import UI

WIDTH = 360
HEIGHT = 180
PAD_LEFT = 10
PAD_RIGHT = 84  # the margin the target's and the latest value's labels sit in
PAD_TOP = 16
PAD_BOTTOM = 38  # two rows under the axis: periods, then the deadline
LINE = 13  # px between two labels that must not overlap


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _day(text: str) -> int:
    return date.fromisoformat(text).toordinal()


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{klass}>{escape(text)}</text>'


def sparkline(chart: dict[str, Any] | None, *, title: str = "", lang: str = "zh", width: int = WIDTH,
              height: int = HEIGHT) -> Markup:
    """Draw `chart` — points [{date, value, period, partial}], optional trajectory [[iso, v],
    [iso, v]], target, deadline — as inline SVG; empty markup when there is nothing to draw."""
    if not chart or not chart.get("points"):
        return Markup("")
    words = UI["en" if lang == "en" else "zh"]
    points = [(_day(p["date"]), float(p["value"]), p.get("period") or p["date"][:7], bool(p.get("partial")))
              for p in chart["points"]]
    trajectory = [(_day(d), float(v)) for d, v in chart.get("trajectory") or []]
    target = float(chart["target"]) if chart.get("target") is not None else None
    deadline = _day(chart["deadline"]) if chart.get("deadline") else None

    xs = [x for x, *_ in points] + [x for x, _ in trajectory] + ([deadline] if deadline else [])
    ys = [y for _, y, *_ in points] + [y for _, y in trajectory] + ([target] if target is not None else [])
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1
    margin = (y1 - y0) * 0.1  # keep the lines off the frame
    y0, y1 = y0 - margin, y1 + margin
    left, right, top, bottom = PAD_LEFT, width - PAD_RIGHT, PAD_TOP, height - PAD_BOTTOM

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (right - left)

    def py(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * (bottom - top)

    label = escape(title)
    parts = [(f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
              f'role="img" aria-label="{label}"><title>{label}</title>'),
             f'<rect class="frame" x="{left}" y="{top}" width="{right - left}" height="{bottom - top}"/>',
             f'<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>']
    if deadline is not None:
        parts.append(f'<line class="deadline" x1="{_num(px(deadline))}" y1="{top}" x2="{_num(px(deadline))}" '
                     f'y2="{bottom + 16}"/>')
    target_y = py(target) if target is not None else None
    if target_y is not None:
        parts.append(f'<line class="target" x1="{left}" y1="{_num(target_y)}" x2="{right}" y2="{_num(target_y)}"/>')
    if len(trajectory) >= 2:
        path = " ".join(f"{_num(px(x))},{_num(py(y))}" for x, y in trajectory)
        parts.append(f'<polyline class="trajectory" points="{path}"/>')
    if deadline is not None and target_y is not None:
        parts.append(f'<circle class="goal" cx="{_num(px(deadline))}" cy="{_num(target_y)}" r="3.5"/>')
    whole = [(x, y) for x, y, _, partial in points if not partial]
    if len(whole) > 1:
        path = " ".join(f"{_num(px(x))},{_num(py(y))}" for x, y in whole)
        parts.append(f'<polyline class="values" points="{path}"/>')
    for x, y, _, partial in points:
        parts.append(f'<circle class="point{" partial" if partial else ""}" cx="{_num(px(x))}" cy="{_num(py(y))}" '
                     f'r="{3 if partial else 2.6}"/>')

    # the scale: the target in the right margin, the first and latest values beside their points
    if target_y is not None:
        parts.append(_text(right + 6, target_y + 4, f"{words['chart_target']} {format_number(target)}", cls="goal-label"))
    first_x, first_y, first_period, _ = points[0]
    last_x, last_y, last_period, _ = points[-1]
    ly = py(last_y)
    if px(last_x) >= right - 1:  # the latest point is the right edge: its value in the margin
        if target_y is not None and abs(ly - target_y) < LINE:
            ly = target_y + LINE if ly >= target_y else target_y - LINE
        parts.append(_text(right + 6, ly + 4, format_number(last_y), cls="value"))
    else:
        above = ly - 7 if ly - 7 > top + 8 else ly + 15
        if target_y is not None and abs(above - 4 - target_y) < LINE - 4:
            above = ly + 15 if above < ly else ly - 7
        parts.append(_text(px(last_x), above, format_number(last_y), "middle", "value"))
    if len(points) > 1:
        fy = py(first_y)
        fy = fy - 7 if fy - 7 > top + 8 else fy + 15
        parts.append(_text(px(first_x) + 2, fy, format_number(first_y), cls="value"))

    # the time axis: first and latest periods, and the deadline under them
    row1, row2 = bottom + 14, bottom + 29
    parts.append(_text(px(first_x), row1, first_period))
    if len(points) > 1:
        lx = px(last_x)
        anchor = "end" if lx > right - 30 else "middle"
        if lx - px(first_x) > 60:
            parts.append(_text(lx, row1, last_period, anchor))
    if deadline is not None:
        dx = px(deadline)
        anchor = "end" if dx > right - 50 else "start" if dx < left + 50 else "middle"
        when = date.fromordinal(deadline).isoformat()
        parts.append(_text(dx, row2, f"{words['deadline']} {when}" if lang != "en" else f"deadline {when}", anchor))
    parts.append("</svg>")
    return Markup("".join(parts))


ROW = 16  # px per unit in a roll-up chart


def _text_width(text: str) -> float:
    """About how wide `text` is at the charts' 11px: CJK characters are square."""
    return sum(11.0 if ord(c) > 0x2E80 else 6.2 for c in text)


def _nice(x: float) -> float:
    """The round number at or above x the axis ends at (1, 2, 2.5, 5 times a power of ten)."""
    import math

    if x <= 0:
        return x
    power = 10 ** math.floor(math.log10(x))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= x - 1e-12)


def rollup_chart(chart: dict[str, Any] | None, *, lang: str = "zh", width: int = WIDTH) -> Markup:
    """Every unit's latest value (a dot in its status's colour; hollow when summed over part of
    its 市县) against its own target (a green tick), one row each, and the area's figure as a
    vertical line: `chart` is the roll-up context's {rows: [{label, value, target, partial,
    light, note}], whole, whole_label, title}."""
    rows = (chart or {}).get("rows") or []
    numbers = [float(x) for r in rows for x in (r.get("value"), r.get("target")) if x is not None]
    if chart and chart.get("whole") is not None:
        numbers.append(float(chart["whole"]))
    if not rows or not numbers:
        return Markup("")
    lo, hi = min(0.0, *numbers), max(numbers)
    if hi == lo:
        hi = lo + 1
    hi = _nice(hi + (hi - lo) * 0.05)
    left = 14 + max(_text_width(r["label"]) for r in rows) * 1.1
    right = width - 64
    top, height = 6, 6 + ROW * len(rows) + 34
    bottom = top + ROW * len(rows)

    def px(x: float) -> float:
        return left + (x - lo) / (hi - lo) * (right - left)

    label = escape(chart.get("title") or "")
    parts = [(f'<svg class="chart rollup" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
              f'role="img" aria-label="{label}"><title>{label}</title>'),
             f'<line class="axis" x1="{_num(left)}" y1="{bottom}" x2="{_num(right)}" y2="{bottom}"/>']
    for i, r in enumerate(rows):
        y = top + ROW * i + ROW / 2
        if i % 2 == 0:
            parts.append(f'<rect class="band" x="0" y="{_num(y - ROW / 2)}" width="{width}" height="{ROW}"/>')
        parts.append(_text(left - 6, y + 4, r["label"], "end"))
        if r.get("target") is not None:
            tx = _num(px(float(r["target"])))
            parts.append(f'<line class="target tick" x1="{tx}" y1="{_num(y - 6)}" x2="{tx}" y2="{_num(y + 6)}"/>')
        if r.get("value") is not None:
            v = float(r["value"])
            klass = f"point {r.get('light') or 'none'}" + (" partial" if r.get("partial") else "")
            parts.append(f'<circle class="{klass}" cx="{_num(px(v))}" cy="{_num(y)}" r="3.5"/>')
            parts.append(_text(right + 6, y + 4, format_number(v), cls="value"))
        else:
            parts.append(_text(right + 6, y + 4, r.get("note") or ("no data" if lang == "en" else "无数据"), cls="none"))
    if chart.get("whole") is not None:
        wx = _num(px(float(chart["whole"])))
        parts.append(f'<line class="whole" x1="{wx}" y1="{top}" x2="{wx}" y2="{bottom + 4}"/>')
        parts.append(_text(px(float(chart["whole"])), bottom + 28, f"{chart.get('whole_label', '')} "
                           f"{format_number(float(chart['whole']))}".strip(), "middle", "whole-label"))
    parts.append(_text(left, bottom + 13, format_number(lo), "start"))
    parts.append(_text(right, bottom + 13, format_number(hi), "end"))
    parts.append("</svg>")
    return Markup("".join(parts))
