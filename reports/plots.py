"""The error plot of an op: each check's worst margin against the tolerance (1), per witness.

One small SVG per op, beside its page, written as text (no plotting library: the
whole catalogue's plots take milliseconds, and every size is in screen pixels, so
labels are at text size at 100% zoom). The y axis is logarithmic; a margin of 0
(exact agreement) is drawn at the floor. Each series (witness@device, dtype) has
its own marker: the shape says the witness, filled is float64 and hollow float32;
two witnesses against each other are a cross (x for float64, + for float32).
"""
import math
from xml.sax.saxutils import escape

FLOOR = 1e-12
SHAPES = {"golden": "diamond", "torch": "circle", "jax": "square", "fd": "triangle"}
ORDER = list(SHAPES)
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
FONT = 12            # px: the page's small text
MAX_PLOT_WIDTH = 820  # px of the axes; with the margins the image stays under 1,150 px


def _series_order(series):
    column, dtype = series
    witness = column.split("@")[0]
    return "~" in witness, ORDER.index(witness) if witness in ORDER else 9, column, \
        dtype != "float64"


def _worst_by_check(records):
    """{(case, witness@device, dtype): worst margin}; inf for a failure without a margin."""
    worst = {}
    for r in records:
        margin = r["margin"]
        if margin is None:
            if r["status"] not in ("fail", "error"):
                continue
            margin = float("inf")  # wrong shape, NaN, or the implementation raised
        key = (r["case"], f"{r['oracle']}@{r['device']}", r["dtype"])
        worst[key] = max(worst.get(key, 0.0), margin)
    return worst


def error_plot(records, cases):
    """SVG text of the plot, or None when no record has a margin."""
    worst = _worst_by_check(records)
    if not worst:
        return None
    cases = [c for c in cases if any(k[0] == c for k in worst)]
    cases += sorted({k[0] for k in worst} - set(cases))
    return _plot(worst, cases)


def _marker(shape, x, y, color, hollow, size=4.5):
    fill = "none" if hollow else color
    common = f'fill="{fill}" stroke="{color}" stroke-width="1.3"'
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" {common}/>'
    if shape == "square":
        s = size * 0.9
        return f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}" {common}/>'
    if shape == "diamond":
        s = size * 1.2
        return (f'<path d="M{x:.1f} {y - s:.1f}L{x + s:.1f} {y:.1f}L{x:.1f} {y + s:.1f}'
                f'L{x - s:.1f} {y:.1f}Z" {common}/>')
    if shape == "triangle":
        s = size * 1.15
        return (f'<path d="M{x:.1f} {y - s:.1f}L{x + s:.1f} {y + s * 0.8:.1f}'
                f'L{x - s:.1f} {y + s * 0.8:.1f}Z" {common}/>')
    s = size
    if shape == "plus":
        d = f"M{x - s:.1f} {y:.1f}H{x + s:.1f}M{x:.1f} {y - s:.1f}V{y + s:.1f}"
    else:  # cross
        d = f"M{x - s:.1f} {y - s:.1f}L{x + s:.1f} {y + s:.1f}M{x - s:.1f} {y + s:.1f}L{x + s:.1f} {y - s:.1f}"
    return f'<path d="{d}" stroke="{color}" stroke-width="1.6" fill="none"/>'


def _style(column, dtype):
    witness = column.split("@")[0]
    if "~" in witness:
        return ("cross" if dtype == "float64" else "plus"), False
    return SHAPES.get(witness, "circle"), dtype != "float64"


def _tick_label(exponent):
    return "1" if exponent == 0 else f"1e{exponent}"


def _plot(worst, cases):
    series = sorted({k[1:] for k in worst}, key=_series_order)
    columns = list(dict.fromkeys(c for c, _ in series))
    color = {c: COLORS[i % len(COLORS)] for i, c in enumerate(columns)}
    slot = max(26.0, min(90.0, MAX_PLOT_WIDTH / max(1, len(cases))))
    plot_w, plot_h = slot * len(cases), 230.0
    rotate = max(len(c) for c in cases) * FONT * 0.6 > slot - 6
    label_h = (min(160, max(len(c) for c in cases) * FONT * 0.45) + 14) if rotate else 22
    legend_w = max(len(f"{c} {d}") for c, d in series) * FONT * 0.6 + 34
    left, top = 58.0, 26.0
    legend_h = (len(series) + 1) * (FONT + 7) + 12
    width = left + plot_w + 14 + legend_w
    height = max(top + plot_h + label_h + 8, top + legend_h)
    finite = [m for m in worst.values() if m != float("inf")]
    top_exp = max(1, math.ceil(math.log10(max(max(finite, default=1.0), 1.0) * 3)))
    bottom_exp = int(math.log10(FLOOR))
    failed_high = any(m == float("inf") for m in worst.values())
    span_top = top_exp + (1.2 if failed_high else 0.3)

    def y_of(value):
        exponent = math.log10(min(max(value, FLOOR), 10 ** top_exp))
        return top + plot_h * (span_top - exponent) / (span_top - (bottom_exp - 0.3))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="system-ui, sans-serif" '
           f'font-size="{FONT}">',
           f'<rect x="{left}" y="{top}" width="{plot_w:.1f}" height="{plot_h}" fill="#fff" '
           f'stroke="#999"/>']
    grid, ticks = [], []
    for exponent in range(bottom_exp, top_exp + 1, 2):
        y = y_of(10.0 ** exponent)
        grid.append(f"M{left:.0f} {y:.1f}H{left + plot_w:.0f}")
        ticks.append(f'<text x="{left - 5:.0f}" y="{y + 4:.0f}">{_tick_label(exponent)}</text>')
    out.append(f'<path d="{"".join(grid)}" stroke="#e4e4e4"/>')
    out.append(f'<g text-anchor="end">{"".join(ticks)}</g>')
    y1 = y_of(1.0)
    out.append(f'<path d="M{left} {y1:.1f}H{left + plot_w:.1f}" stroke="#c00" stroke-dasharray="5 3"/>')
    out.append(f'<text transform="translate(14 {top + plot_h / 2:.0f}) rotate(-90)" '
               f'text-anchor="middle">worst margin</text>')
    if failed_high:
        y_fail = top + 6
        out.append(f'<path d="M{left} {y_fail:.1f}H{left + plot_w:.1f}" stroke="#c00" stroke-width="0.6"/>')
        out.append(f'<text x="{left}" y="{top - 8}" fill="#c00">top line: failed without a margin '
                   f'(wrong shape, NaN, error)</text>')
    labels, separators = [], []
    for j, case in enumerate(cases):
        x = left + slot * (j + 0.5)
        y = top + plot_h + 16
        if rotate:
            labels.append(f'<text transform="translate({x:.0f} {y - 4:.0f}) rotate(-35)">{escape(case)}</text>')
        else:
            labels.append(f'<text x="{x:.0f}" y="{y:.0f}">{escape(case)}</text>')
        if j:
            separators.append(f"M{left + slot * j:.0f} {top:.0f}V{top + plot_h:.0f}")
    out.append(f'<g text-anchor="{"end" if rotate else "middle"}">{"".join(labels)}</g>')
    if separators:
        out.append(f'<path d="{"".join(separators)}" stroke="#f0f0f0"/>')
    # Each series' marker is drawn once, in <defs>; each point is a <use> of it (small files).
    defs = [f'<g id="s{i}">{_marker(*_style(column, dtype)[:1], 0, 0, color[column], _style(column, dtype)[1])}</g>'
            for i, (column, dtype) in enumerate(series)]
    out.insert(1, "<defs>" + "".join(defs) + "</defs>")
    step = (slot * 0.8) / max(1, len(series))
    for i, (column, dtype) in enumerate(series):
        for j, case in enumerate(cases):
            margin = worst.get((case, column, dtype))
            if margin is None:
                continue
            x = left + slot * (j + 0.1) + step * (i + 0.5)
            y = top + 6 if margin == float("inf") else y_of(margin)
            out.append(f'<use href="#s{i}" x="{x:.0f}" y="{y:.0f}"/>')
    lx = left + plot_w + 14
    out.append(f'<path d="M{lx} {top + 8}h14" stroke="#c00" stroke-dasharray="5 3"/>')
    out.append(f'<text x="{lx + 18:.1f}" y="{top + 12}" fill="#c00">tolerance</text>')
    for i, (column, dtype) in enumerate(series):
        y = top + 12 + (i + 1) * (FONT + 7)
        out.append(f'<use href="#s{i}" x="{lx + 6:.0f}" y="{y - 4:.0f}"/>')
        out.append(f'<text x="{lx + 18:.0f}" y="{y:.0f}">{escape(column)} {dtype}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def legend_entries(series):
    """(label, shape, hollow) of each series, for a test or a page legend."""
    return [(f"{c} {d}", *_style(c, d)) for c, d in sorted(series, key=_series_order)]

