"""The error plot of an op: each check's worst margin against the tolerance (1), per witness.

One small SVG per op, beside its page. The y axis is logarithmic; a margin of
0 (exact agreement) is drawn at the floor.
"""
import io
import re

FLOOR = 1e-12
MARKERS = {"golden": "D", "torch": "o", "jax": "s", "fd": "^"}


def _series_order(series):
    column, dtype = series
    witness = column.split("@")[0]
    return "~" in witness, list(MARKERS).index(witness) if witness in MARKERS else 9, column, \
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
    """SVG text of the plot, or None when no record has a margin (or no matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        return None
    worst = _worst_by_check(records)
    if not worst:
        return None
    cases = [c for c in cases if any(k[0] == c for k in worst)]
    cases += sorted({k[0] for k in worst} - set(cases))
    with matplotlib.rc_context(STYLE):
        return _plot(worst, cases)


STYLE = {"svg.fonttype": "none", "svg.hashsalt": "backprop-oracle",
         "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Arial"]}


def _plot(worst, cases):
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state
    series = sorted({k[1:] for k in worst}, key=_series_order)
    # A fixed layout (inches), legend in the right margin: no second draw to fit it tightly.
    plot_width, left, right, bottom, top = max(2.5, 0.9 * len(cases)), 0.75, 1.75, 0.6, 0.15
    width, height = left + plot_width + right, 2.6
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((left / width, bottom / height, plot_width / width,
                       (height - bottom - top) / height))
    width = 0.7 / max(1, len(series))
    finite = [m for m in worst.values() if m != float("inf")]
    ceiling = max(10.0, max(finite, default=1.0) * 3)
    colors = {column: f"C{i % 10}" for i, column in enumerate(dict.fromkeys(c for c, _ in series))}
    for i, (column, dtype) in enumerate(series):
        xs, ys = [], []
        for j, case in enumerate(cases):
            if (case, column, dtype) in worst:
                xs.append(j - 0.35 + width * (i + 0.5))
                ys.append(min(ceiling, max(FLOOR, worst[(case, column, dtype)])))
        oracle = column.split("@")[0]
        color = colors[column]
        style = ({"marker": "x", "c": color} if "~" in oracle  # two witnesses: a cross
                 else {"marker": MARKERS.get(oracle, "v"), "edgecolors": color,
                       "facecolors": color if dtype == "float64" else "none"})  # float32 hollow
        ax.scatter(xs, ys, s=18, label=f"{column} {dtype}", linewidths=1, **style)
    ax.axhline(1.0, color="#c00", linestyle="--", linewidth=1)
    ax.text(len(cases) - 0.5, 1.0, " tolerance", color="#c00", va="bottom", ha="right", fontsize=7)
    ax.set_yscale("log")
    _plain_log_ticks(ax)
    if any(m == float("inf") for m in worst.values()):
        ax.axhline(ceiling, color="#c00", linewidth=0.5)
        ax.text(-0.5, ceiling, " failed without a margin (wrong shape, NaN, error)", color="#c00",
                va="bottom", ha="left", fontsize=7)
        ceiling *= 10
    ax.set_ylim(FLOOR / 3, ceiling * 3)
    ax.set_xticks(range(len(cases)), cases, fontsize=7, rotation=20 if len(cases) > 5 else 0)
    ax.set_xlim(-0.6, len(cases) - 0.4)
    ax.set_ylabel("worst margin", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.grid(axis="y", linewidth=0.3, alpha=0.5)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg",
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return _compact(buffer.getvalue())


def _plain_log_ticks(ax):
    """Ticks at every second power of ten, labelled 1e-4: plain text (mathtext is slow)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
    ax.yaxis.set_major_locator(LogLocator(base=100.0))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: "1" if y == 1 else f"{y:.0e}".replace("e-0", "e-").replace("e+0", "e")))


GEOMETRY = re.compile(r'\b(x|y|d|transform|points|width|height|viewBox)="([^"]*)"')
DECIMALS = re.compile(r"(\d\.\d)\d+")


def _compact(svg):
    """A tenth of a point is finer than the screen: shorter numbers, no indentation."""
    svg = GEOMETRY.sub(lambda m: m.group(1) + '="' + DECIMALS.sub(r"\1", m.group(2)) + '"', svg)
    return re.sub(r"\n\s+", "\n", svg)
