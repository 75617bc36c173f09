"""A Result as HTML for Jupyter (`_repr_html_`): the report's look, in one cell.

The summary line, the agreement matrix of the ops that were attempted (one row per op,
one column per witness@device and dtype, colored by the worst margin as in the report's
index.html), then the distinct problems, one row per (op, diagnosis). Styles are scoped
to the cell's own element, so that the notebook around it is untouched; all text from
the records (a learner's messages) is escaped.
"""
from html import escape

from .reports.i18n import t
from .reports.model import is_cross
from .reports.render import BANDS, column_groups, matrix

STYLE = """
.bo-result { font: 13px/1.4 system-ui, sans-serif; color: #222; }
.bo-result table { border-collapse: collapse; margin: 0.4em 0 0.8em; }
.bo-result th, .bo-result td { border: 1px solid #ccc; padding: 2px 6px; text-align: left;
  vertical-align: top; }
.bo-result th { background: #f3f3f3; font-weight: 600; }
.bo-result td.cell { text-align: center; white-space: nowrap; font-variant-numeric: tabular-nums; }
.bo-result td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.bo-result small { color: #555; font-size: 11px; }
.bo-result tr.family td { background: #eef; font-weight: bold; }
.bo-result .m0 { background: #b9e9b9; } .bo-result .m1 { background: #d6f2bd; }
.bo-result .m2 { background: #f1eeaa; } .bo-result .m3 { background: #f7d394; }
.bo-result .fail, .bo-result .error { background: #f19c9c; }
.bo-result .pass { background: #d6f2bd; }
.bo-result .not_attempted { background: #ddd; color: #555; }
.bo-result .skipped { background: #f7f7f7; color: #888; }
.bo-result pre { font: 12px/1.35 ui-monospace, Menlo, Consolas, monospace; white-space: pre-wrap;
  margin: 0.2em 0 0; }
.bo-result .verdict { font-weight: 600; padding: 0.2em 0.6em; display: inline-block; }
"""


def _num(value):
    return "" if value is None else f"{value:.3g}"


def _cell(cell, lang):
    if cell is None:
        return '<td class="cell"></td>'
    title = ", ".join(f"{n} {t(s, lang)}" for s, n in cell["statuses"].items())
    worst = f"<br><small>{_num(cell['worst'])}</small>" if cell["worst"] is not None else ""
    label = (f"{cell['passed']}/{cell['total']}" if cell["state"] in ("pass", "fail")
             else t(cell["state"], lang))
    return f'<td class="cell {cell["band"]}" title="{escape(title)}">{label}{worst}</td>'


def _matrix(result):
    lang = result.lang
    shown = {o.op for o in result.attempted_ops()}
    records = [r for r in result.records if r["op"] in shown and not is_cross(r)]
    if not records:
        return ""
    table, columns = matrix(records)
    head1 = "".join(f'<th colspan="{n}">{escape(w)}</th>' for w, n in column_groups(columns))
    head2 = "".join(f"<th>{escape(d)}</th>" for _, d in columns)
    rows = []
    for family, ops in table.items():
        rows.append(f'<tr class="family"><td colspan="{len(columns) + 2}">{escape(family)}</td></tr>')
        for op, cells in ops.items():
            o = result.ops[op]
            rows.append(f'<tr><th>{escape(op)}</th><td class="num">{o.passed}/{o.attempted}</td>'
                        + "".join(_cell(cells[c], lang) for c in columns) + "</tr>")
    legend = " ".join(f'<span class="{band[0]}">&nbsp;'
                      f'{escape(t("res_margin_below", lang, bound=f"{band[1]:g}"))}&nbsp;</span>'
                      for band in BANDS)     # (class, upper bound of the worst margin)
    return (f'<table><tr><th rowspan="2">{t("col_op", lang)}</th>'
            f'<th rowspan="2">{t("res_checks", lang)}</th>{head1}</tr>'
            f"<tr>{head2}</tr>{''.join(rows)}</table>"
            f"<small>{escape(t('res_cell', lang))} {legend}</small>")


def _problems(result):
    found, lang = result.shown_problems(), result.lang
    if not found:
        return ""
    rows = []
    for p in found:
        w = p.worst
        where = escape(f"{w['case']}, {w['oracle']}@{w['device']}, {w['dtype']}")
        figures = (f"margin {_num(w['margin'])}, max abs {_num(w['max_abs'])}"
                   if w.get("margin") is not None else "")
        where_in_code = "\n".join(p.detail.splitlines()[:-1])   # the last line is `what`
        detail = f"<pre>{escape(where_in_code)}</pre>" if where_in_code else ""
        quantities = ", ".join(q if q != "*" else f"({t('q_all', lang)})" for q in p.quantities)
        rows.append(f'<tr><th>{escape(p.op)}</th><td>{escape(quantities)}</td>'
                    f'<td class="{p.status}">{t(p.status, lang)}</td>'
                    f"<td>{escape(p.said(lang))}{detail}</td>"
                    f'<td class="num">{p.count}</td><td>{where}<br><small>{figures}</small></td></tr>')
    heads = ("col_op", "col_quantities", "col_status", "res_what", "res_checks", "res_worst_at")
    return (f"<h4>{escape(t('res_problems_heading', lang, n=len(found)))}</h4><table><tr>"
            + "".join(f"<th>{escape(t(h, lang))}</th>" for h in heads) + "</tr>"
            + "".join(rows) + "</table>")


def result_html(result):
    verdict = "pass" if result.ok else ("fail" if result.attempted else "not_attempted")
    missing = result.not_attempted_ops()
    note = ""
    if missing and result.attempted_ops():
        names = ", ".join(o.op for o in missing[:20]) + (", ..." if len(missing) > 20 else "")
        note = (f"<p><small>{escape(t('res_not_attempted', result.lang, n=len(missing), names=names))}"
                f"</small></p>")
    return (f'<div class="bo-result"><style>{STYLE}</style>'
            f'<div class="verdict {verdict}">{escape(result.summary())}</div>'
            f"{_matrix(result)}{_problems(result)}{note}</div>")
