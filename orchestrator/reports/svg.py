"""Inline SVG charts for the monthly report: plain strings, every text escaped, no script, fixed
sizes (printable, the same input gives the same bytes)."""
from __future__ import annotations

from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _scale(vmax: float) -> float:
    return vmax if vmax > 0 else 1.0


def line_chart(chart_id: str, labels: list[str], series: list[tuple[str, list[float]]],
               title: str, width: int = 720, height: int = 260) -> str:
    """One polyline per series over the labels (months)."""
    left, right, top, bottom = 70, 160, 30, 40
    w, h = width - left - right, height - top - bottom
    vmax = _scale(max([v for _, vals in series for v in vals] + [0]))
    n = max(len(labels) - 1, 1)
    x = lambda i: left + w * i / n                                   # noqa: E731
    y = lambda v: top + h - h * v / vmax                             # noqa: E731
    out = [f'<svg id="{escape(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title)}">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fbfbfb"/>',
           f'<text x="{left}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
           f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#333"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="#333"/>',
           f'<text x="{left - 6}" y="{top + 4}" font-size="10" text-anchor="end">'
           f'{escape(_num(vmax))}</text>',
           f'<text x="{left - 6}" y="{top + h}" font-size="10" text-anchor="end">0</text>']
    for i, lab in enumerate(labels):
        out.append(f'<text x="{x(i):.1f}" y="{top + h + 16}" font-size="10" '
                   f'text-anchor="middle">{escape(lab)}</text>')
    for k, (name, vals) in enumerate(series[:10]):
        colour = PALETTE[k % len(PALETTE)]
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vals))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{pts}"/>')
        for i, v in enumerate(vals):
            out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
        out.append(f'<rect x="{left + w + 12}" y="{top + 14 * k}" width="10" height="10" '
                   f'fill="{colour}"/><text x="{left + w + 26}" y="{top + 9 + 14 * k}" '
                   f'font-size="10">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(chart_id: str, rows: list[tuple[str, float]], title: str, unit: str,
              width: int = 720) -> str:
    """Horizontal bars, one per row (label, value)."""
    left, right, top, bar = 200, 90, 30, 18
    height = top + bar * max(len(rows), 1) + 20
    w = width - left - right
    vmax = _scale(max([v for _, v in rows] + [0]))
    out = [f'<svg id="{escape(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title)}">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fbfbfb"/>',
           f'<text x="8" y="18" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i, (label, v) in enumerate(rows):
        yy = top + i * bar
        out.append(f'<text x="{left - 6}" y="{yy + 13}" font-size="11" text-anchor="end">'
                   f'{escape(label)}</text>'
                   f'<rect x="{left}" y="{yy + 2}" width="{w * v / vmax:.1f}" height="{bar - 4}" '
                   f'fill="{PALETTE[0]}"/>'
                   f'<text x="{left + w * v / vmax + 4:.1f}" y="{yy + 13}" font-size="10">'
                   f'{escape(_num(v))} {escape(unit)}</text>')
    out.append("</svg>")
    return "".join(out)


def utilisation_chart(chart_id: str, rows: list[tuple[str, float | None, float | None]],
                      thresholds: list[tuple[float, str]], title: str, width: int = 720) -> str:
    """Per system: the month's mean (dark) and peak (light) in %, on a 0-100 axis, with the
    profile's thresholds as dashed vertical lines labelled with the article's words."""
    left, right, top, bar = 200, 40, 44 + 12 * len(thresholds), 18
    height = top + bar * max(len(rows), 1) + 24
    w = width - left - right
    x = lambda v: left + w * v / 100                                  # noqa: E731
    out = [f'<svg id="{escape(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title)}">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fbfbfb"/>',
           f'<text x="8" y="18" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i, (label, mean, peak) in enumerate(rows):
        yy = top + i * bar
        out.append(f'<text x="{left - 6}" y="{yy + 13}" font-size="11" text-anchor="end">'
                   f'{escape(label)}</text>')
        if peak is not None:
            out.append(f'<rect x="{left}" y="{yy + 2}" width="{x(min(peak, 100)) - left:.1f}" '
                       f'height="{bar - 4}" fill="#9ecae1"/>')
        if mean is not None:
            out.append(f'<rect x="{left}" y="{yy + 5}" width="{x(min(mean, 100)) - left:.1f}" '
                       f'height="{bar - 10}" fill="#08519c"/>')
    bottom = top + bar * max(len(rows), 1)
    for k, (v, label) in enumerate(thresholds):
        out.append(f'<line x1="{x(v):.1f}" y1="{top - 4}" x2="{x(v):.1f}" y2="{bottom}" '
                   f'stroke="#d62728" stroke-dasharray="4 3"/>'
                   f'<text x="{x(v) + (3 if v < 50 else -3):.1f}" y="{30 + 12 * k}" '
                   f'font-size="10" fill="#d62728" text-anchor="{"start" if v < 50 else "end"}">'
                   f'{escape(label)}</text>')
    for v in (0, 25, 50, 75, 100):
        out.append(f'<text x="{x(v):.1f}" y="{bottom + 14}" font-size="10" '
                   f'text-anchor="middle">{v}%</text>')
    out.append("</svg>")
    return "".join(out)
