"""Small inline SVG charts for the report: reported values, the trajectory and the target.

Inline SVG keeps the report one self-contained file (no scripts, no chart library, nothing
fetched), prints sharply and scales on a phone. The chart is drawn from the same plain data
the report's JSON holds, so the picture and the machine copy cannot disagree. No `xmlns`
attribute: inline SVG in HTML does not need one, and the report then holds no URL at all.
"""

from datetime import date

from markupsafe import Markup, escape

from tracker.domain.format import format_number

WIDTH = 240
HEIGHT = 72
PAD_X = 6
PAD_TOP = 8
PAD_BOTTOM = 14


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _day(text: str) -> int:
    return date.fromisoformat(text).toordinal()


def sparkline(chart: dict | None, *, title: str = "", width: int = WIDTH,
              height: int = HEIGHT) -> Markup:
    """Draw `chart` (points [[iso_date, value], ...], optional trajectory [[iso, v], [iso, v]],
    target, deadline) as inline SVG; empty markup when there is nothing to draw."""
    if not chart or not chart.get("points"):
        return Markup("")
    points = [(_day(d), float(v)) for d, v in chart["points"]]
    trajectory = [(_day(d), float(v)) for d, v in chart.get("trajectory") or []]
    target = chart.get("target")
    deadline = _day(chart["deadline"]) if chart.get("deadline") else None

    xs = [x for x, _ in points] + [x for x, _ in trajectory] + ([deadline] if deadline else [])
    ys = [y for _, y in points] + [y for _, y in trajectory] + ([float(target)] if target is not None else [])
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1
    margin = (y1 - y0) * 0.08  # keep the lines off the frame
    y0, y1 = y0 - margin, y1 + margin
    span_x, span_y = x1 - x0, y1 - y0
    inner_w, inner_h = width - 2 * PAD_X, height - PAD_TOP - PAD_BOTTOM

    def px(x: float) -> str:
        return _num(PAD_X + (x - x0) / span_x * inner_w)

    def py(y: float) -> str:
        return _num(PAD_TOP + (y1 - y) / span_y * inner_h)

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    parts.append(f'<line class="axis" x1="{PAD_X}" y1="{py(y0)}" x2="{width - PAD_X}" y2="{py(y0)}"/>')
    if target is not None:
        parts.append(f'<line class="target" x1="{PAD_X}" y1="{py(float(target))}" '
                     f'x2="{width - PAD_X}" y2="{py(float(target))}"/>')
    if len(trajectory) >= 2:
        path = " ".join(f"{px(x)},{py(y)}" for x, y in trajectory)
        parts.append(f'<polyline class="trajectory" points="{path}"/>')
    if deadline is not None:
        parts.append(f'<line class="deadline" x1="{px(deadline)}" y1="{PAD_TOP}" '
                     f'x2="{px(deadline)}" y2="{height - PAD_BOTTOM}"/>')
        if target is not None:
            parts.append(f'<circle class="goal" cx="{px(deadline)}" cy="{py(float(target))}" r="3"/>')
    if len(points) > 1:
        path = " ".join(f"{px(x)},{py(y)}" for x, y in points)
        parts.append(f'<polyline class="values" points="{path}"/>')
    last_x, last_y = points[-1]
    parts.append(f'<circle class="latest" cx="{px(last_x)}" cy="{py(last_y)}" r="2.5"/>')
    base = height - 3
    parts.append(f'<text x="{PAD_X}" y="{base}">{escape(date.fromordinal(x0).isoformat()[:7])}</text>')
    parts.append(f'<text x="{width - PAD_X}" y="{base}" text-anchor="end">'
                 f'{escape(date.fromordinal(x1).isoformat()[:7])}</text>')
    if target is not None:
        anchor_x = _num(float(px(deadline)) - 5) if deadline is not None else str(width - PAD_X)
        label_y = float(py(float(target)))
        label_y = label_y - 3 if label_y > PAD_TOP + 8 else label_y + 10
        parts.append(f'<text x="{anchor_x}" y="{_num(label_y)}" text-anchor="end">{escape(format_number(float(target)))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
