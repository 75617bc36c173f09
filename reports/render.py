"""Render results.json as a self-contained HTML report (no network; a few lines of inline
script filter and sort the long tables).

    out_dir/index.html        the grade, the distinct problems, the agreement matrix,
                              witness disagreements, the run
    out_dir/tolerance.html    the policy table, its reasons, every override (each reason once)
    out_dir/ops/<op>.html     per-quantity summary, formulas, cases, every check, error plot
    out_dir/ops/<op>.svg      that plot
    out_dir/style.css

In English or in Japanese (lang): the words come from reports/i18n.py, the
diagnoses from each record's diagnosis_ja where there is one. Text from the
records (a learner's error messages and names) is escaped by the templates.

render() writes into a folder of its own (a staging folder beside the report, or
a new one); render_into() renders there and then replaces the report folder in
one step (reports/publish.py), so no reader sees a report half of one run.
"""
import os
import re
from collections import defaultdict

from markupsafe import Markup, escape

from . import i18n, opinfo, plots
from .commands import case_command, check_command, options_of
from .model import STATUSES, counts, distinct_problems, is_cross, quantity_summary

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
ORACLE_ORDER = {"golden": 0, "torch": 1, "jax": 2, "fd": 3}


def _environment(lang):
    try:
        import jinja2
    except ImportError as err:
        raise ImportError("the HTML report needs jinja2: "
                          "pip install 'backprop-oracle[report]'") from err
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html"]),
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v, fmt="%.3g": "" if v is None else fmt % v
    env.filters["page"] = page_name
    env.filters["prose"] = prose
    env.filters["qlabel"] = lambda q: i18n.quantity_label(q, lang)
    env.filters["diagnosis"] = lambda r: i18n.diagnosis_text(r, lang)
    env.filters["phrase"] = lambda text, known=None: i18n.phrase(text, lang, known)
    env.globals.update(statuses=STATUSES, lang=lang,
                       t=lambda key, **fields: _message(key, lang, fields),
                       said=lambda en, ja="": ja if lang == "ja" and ja else en,
                       label=lambda s: i18n.t(s, lang) if s in i18n.STATUS_KEYS else s.replace("_", " "))
    return env


def _message(key, lang, fields):
    """A message for a template: its text escaped, and each field escaped unless it is markup
    already (a fragment the template built, such as a bold case name)."""
    text = Markup(escape(i18n.t(key, lang)))
    return text.format(**fields) if fields else text


def page_name(op):
    """The file name of an op's page (op names are identifiers; anything else is replaced)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", op)


# -- LaTeX in prose --------------------------------------------------------------------
# A word with a subscript or superscript (w_{t_n}, c^{t-1}, e^{-beta|x|}, x_i) is maths in
# running text: shown as inline MathML, the rest of the sentence as text.
# A short symbol (one or two letters, or a \\command) with a subscript or superscript: a braced
# one (w_{t_n}, c^{t-1}, e^{-beta|x|}) or a single character that ends the word (x_i, h_n/c_n).
# Identifiers of code (num_layers, weight_hh_l0, bias_ih) are left as they are.
MATH_WORD = re.compile(r"(?<![\w\\])(?:\\[A-Za-z]+|[A-Za-z]{1,2})"
                       r"(?:[_^](?:\{(?:[^{}]|\{[^{}]*\})*\}|[A-Za-z0-9](?![\w])))+(?![\w])")
GREEK = re.compile(r"(?<![\\A-Za-z])(alpha|beta|gamma|delta|epsilon|eps|lambda|mu|sigma|tau|theta|"
                   r"eta|rho|omega|phi|psi|pi)(?![A-Za-z])")


def _inline_math(latex):
    try:
        from latex2mathml.converter import convert
        latex = GREEK.sub(lambda m: "\\" + ("epsilon" if m.group(1) == "eps" else m.group(1)), latex)
        return Markup(fix_mathml(convert(latex)))
    except Exception:   # not convertible: the text as written
        return escape(latex)


def prose(text):
    """Escaped text whose LaTeX words are MathML."""
    if not text:
        return ""
    out, last = [], 0
    for m in MATH_WORD.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(_inline_math(m.group(0)))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


RELATION = re.compile(r"<mo><mrow><mo>(&#x0002B;|&#x02212;|-|\+)</mo></mrow></mo><mo>&#x0003D;</mo>")


ENTITY = re.compile(r"&#x([0-9A-Fa-f]+);")
KEEP_ESCAPED = {"<", ">", "&", '"', "'"}


def fix_mathml(mathml):
    """latex2mathml writes \\mathrel{+}= as two operators ("+ ="): one operator +=. Its
    character references become the characters (UTF-8 pages; a third of the bytes), and the
    namespace, which HTML does not need, goes."""
    if not mathml:
        return mathml
    mathml = RELATION.sub(lambda m: f"<mo>{'+' if m.group(1) in ('&#x0002B;', '+') else '&#x02212;'}=</mo>",
                          mathml)
    mathml = mathml.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "")
    return ENTITY.sub(lambda m: m.group(0) if chr(int(m.group(1), 16)) in KEEP_ESCAPED
                      else chr(int(m.group(1), 16)), mathml)


# -- the matrix ------------------------------------------------------------------------
def column_key(record):
    return f"{record['oracle']}@{record['device']}", record["dtype"]


def _column_order(key):
    witness, device = key[0].split("@", 1)
    return ORACLE_ORDER.get(witness, 9), witness, device, key[1] != "float64", key[1]


def matrix(records):
    """{family: {op: {(witness@device, dtype): cell}}} and the ordered columns.

    Only records of the implementation: the witnesses against each other have their own
    section. A column with no attempted record anywhere (all skipped) is not drawn."""
    cells = defaultdict(lambda: {"statuses": defaultdict(int), "worst": None})
    families = defaultdict(dict)
    columns = set()
    for r in records:
        if is_cross(r):
            continue
        key = column_key(r)
        columns.add(key)
        cell = cells[(r["op"], key)]
        cell["statuses"][r["status"]] += 1
        if r["margin"] is not None and (cell["worst"] is None or r["margin"] > cell["worst"]):
            cell["worst"] = r["margin"]
        families[r["family"]][r["op"]] = True
    used = {col for (op, col), cell in cells.items()
            if set(cell["statuses"]) - {"skipped"}}
    columns = sorted(columns & used, key=_column_order)
    table = {fam: {op: {col: _cell_summary(cells.get((op, col))) for col in columns}
                   for op in sorted(ops)} for fam, ops in sorted(families.items())}
    return table, columns


def _cell_summary(cell):
    if cell is None:
        return None
    s = cell["statuses"]
    if s.get("error") or s.get("fail"):
        state = "fail"
    elif s.get("pass"):
        state = "pass"
    elif s.get("not_attempted"):
        state = "not_attempted"
    else:
        state = "skipped"
    attempted = s.get("pass", 0) + s.get("fail", 0) + s.get("error", 0)
    return {"state": state, "passed": s.get("pass", 0), "attempted": attempted,
            "total": sum(s.values()), "worst": cell["worst"], "band": _band(cell["worst"], state),
            "statuses": dict(s)}


BANDS = [("m0", 1e-3), ("m1", 0.1), ("m2", 0.5), ("m3", 1.0)]


def _band(margin, state):
    """Color band by how close the worst error came to the tolerance."""
    if state != "pass" or margin is None:
        return state
    for name, upper in BANDS:
        if margin < upper:
            return name
    return "m3"


def column_groups(columns):
    """[(witness@device, number of dtype columns)] for the matrix's two-row header."""
    groups = []
    for witness, _ in columns:
        if groups and groups[-1][0] == witness:
            groups[-1][1] += 1
        else:
            groups.append([witness, 1])
    return groups


def witness_disagreements(records):
    """The witnesses against each other: a summary per (pair, device, dtype) and the records
    beyond tolerance."""
    cross = [r for r in records if is_cross(r)]
    groups = defaultdict(list)
    for r in cross:
        groups[(r["oracle"], r["device"], r["dtype"])].append(r)
    summary = []
    for (pair, device, dtype), rs in sorted(groups.items()):
        worst = max(rs, key=lambda r: -1 if r["margin"] is None else r["margin"])
        summary.append({"pair": pair, "device": device, "dtype": dtype, "compared": len(rs),
                        "beyond": sum(r["status"] != "pass" for r in rs), "worst": worst})
    beyond = sorted((r for r in cross if r["status"] != "pass"),
                    key=lambda r: -(r["margin"] or float("inf")))
    return {"summary": summary, "beyond": beyond}


# -- an op's page ------------------------------------------------------------------------
def _case_order(records, info):
    names = [c["name"] for c in info["cases"]] + [g["name"] for g in info["golden"]] if info else []
    for r in records:
        if r["case"] not in names:
            names.append(r["case"])
    return names


def check_grid(records, cases):
    """The margins of every check: one row per case, one column per witness@device and dtype,
    a cell the worst margin of the check (its band's color) or its state."""
    checks = defaultdict(list)
    for r in records:
        checks[(r["case"], column_key(r))].append(r)
    columns = sorted({col for _, col in checks}, key=_column_order)
    rows = []
    for case in cases:
        cells = []
        for col in columns:
            rs = checks.get((case, col))
            if not rs:
                cells.append(None)
                continue
            statuses = {r["status"] for r in rs}
            state = next(s for s in ("error", "fail", "not_attempted", "pass", "skipped")
                         if s in statuses or s == "skipped")
            margins = [r["margin"] for r in rs if r["margin"] is not None]
            worst = max(margins) if margins else None
            cells.append({"state": state, "band": _band(worst, state), "margin": worst})
        if any(cells):
            rows.append({"case": case, "cells": cells})
    return {"columns": columns, "groups": column_groups(columns), "rows": rows}


def check_rows(records, cases):
    """The table of checks that did not all pass: one row per record of such a check (a skipped
    or not attempted check: one row). Passing checks are in the grid (check_grid)."""
    position = {c: i for i, c in enumerate(cases)}
    by_check = defaultdict(list)
    for r in records:
        by_check[(r["case"], r["oracle"], r["device"], r["dtype"])].append(r)
    rows = []
    for (case, oracle, device, dtype), rs in by_check.items():
        order = (position.get(case, 999), "~" in oracle, _column_order((f"{oracle}@{device}", dtype)))
        if all(r["status"] == "pass" for r in rs):
            continue
        if all(r["status"] in ("skipped", "not_attempted") for r in rs):
            worst = max(rs, key=lambda r: -1 if r["margin"] is None else r["margin"])
            rows.append((order, "", {
                "case": case, "witness": f"{oracle}@{device}", "dtype": dtype,
                "quantity": ", ".join(sorted(r["quantity"] for r in rs)) if len(rs) < 4
                else f"{len(rs)} quantities", "status": rs[0]["status"], "cross": "~" in oracle,
                "margin": worst["margin"], "max_abs": _max(rs, "max_abs"),
                "max_rel": _max(rs, "max_rel"), "atol": worst["atol"], "rtol": worst["rtol"],
                "record": None, "message": rs[0]["message"] if rs[0]["status"] == "skipped" else ""}))
            continue
        for r in rs:
            rows.append((order, r["quantity"], {
                "case": case, "witness": f"{oracle}@{device}", "dtype": dtype,
                "quantity": r["quantity"], "status": r["status"], "cross": "~" in oracle,
                "margin": r["margin"], "max_abs": r["max_abs"], "max_rel": r["max_rel"],
                "atol": r["atol"], "rtol": r["rtol"], "record": r, "message": r["message"]}))
    return [row for _, _, row in sorted(rows, key=lambda x: (x[0], x[1]))]


def _tolerances(records):
    """{"witness dtype (case)": (atol, rtol)}: each distinct tolerance once, cases named only
    where they differ."""
    used = defaultdict(set)
    for r in records:
        if r["atol"] is not None:
            used[(r["oracle"], r["dtype"], r["atol"], r["rtol"])].add(r["case"])
    per_pair = defaultdict(list)
    for (oracle, dtype, atol, rtol), cases in used.items():
        per_pair[(oracle, dtype)].append((atol, rtol, cases))
    out = {}
    for (oracle, dtype), values in sorted(per_pair.items()):
        for atol, rtol, cases in sorted(values, key=lambda v: (v[0], v[1])):
            where = f" ({', '.join(sorted(cases))})" if len(values) > 1 else ""
            out[f"{oracle} {dtype}{where}"] = (atol, rtol)
    return out


def _max(records, field):
    values = [r[field] for r in records if r.get(field) is not None]
    return max(values) if values else None


def _worked(op):
    """The worked example of an op (reports/worked.py: the smallest case, every number of its
    forward and backward, from the answer key), or None where there is none."""
    try:
        from . import worked
        from ..oracle import registry
        spec = registry.get(op)
    except Exception:   # no worked examples in this version, or an op it does not know
        return None
    try:
        return worked.worked_example(spec)   # the answer key's numbers: no learner code runs here
    except Exception:
        return None


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def render_into(results, report_dir, module=None, lang="en"):
    """Render `results` and its results.json beside `report_dir`, then put it in its place in
    one step; return index.html's path."""
    import uuid
    from . import publish
    from .model import write_results
    staging = publish.staging_dir(report_dir, "render-" + uuid.uuid4().hex[:8])
    try:
        write_results(os.path.join(staging, "results.json"), results["meta"], results["records"])
        render(results, staging, module=module, lang=lang)
        reruns = os.path.join(report_dir, "reruns")   # re-rendering keeps the reruns beside it
        if os.path.isdir(reruns):
            os.rename(reruns, os.path.join(staging, "reruns"))
        publish.publish(staging, report_dir)
    finally:
        import shutil
        shutil.rmtree(staging, ignore_errors=True)
    return os.path.join(os.path.abspath(report_dir), "index.html")


def render(results, out_dir, module=None, lang="en"):
    """Write the report of `results` ({"meta", "records"}) into out_dir; return index.html's path.

    The sources shown on op pages are those the implementation's own process recorded
    in meta["classes"]; learner code is never imported here. `module` (a trusted,
    in-process module, for tests) replaces them."""
    from ..conformance.grading import grade_of
    env = _environment(lang)
    meta, records = results["meta"], results["records"]
    if module is not None:
        from ..oracle.party import describe_classes
        module = describe_classes(module, sorted({_impl_of(r["op"]) for r in records} - {None}))
    else:
        module = opinfo.classes_of(meta)
    options, suite = options_of(meta)
    by_op = defaultdict(list)
    for r in records:
        by_op[r["op"]].append(r)
    table, columns = matrix(records)
    problems = [dict(p, rerun=check_command(check_id(p["record"]), options, suite))
                for p in distinct_problems(records)]
    written = set()
    ops_dir = os.path.join(out_dir, "ops")
    for op, op_records in by_op.items():
        written |= _render_op(env, ops_dir, op, op_records, meta, module, options, suite)
    _remove_stale(ops_dir, written)
    for asset in ("style.css", "report.js"):
        with open(os.path.join(TEMPLATES, asset), encoding="utf-8") as f:
            _write(os.path.join(out_dir, asset), f.read())
    _write(os.path.join(out_dir, "tolerance.html"),
                 env.get_template("tolerance.html").render(meta=meta, **tolerance_page(lang)))
    grade = grade_of(results)
    html = env.get_template("index.html").render(
        meta=meta, counts=counts(records), table=table, columns=columns,
        groups=column_groups(columns), bands=[b for b, _ in BANDS], problems=problems,
        grade=grade, fraction=lambda tally: _fraction(tally, lang),
        failing=sum(p["records"] for p in problems),
        total=sum(counts(records).values()), witnesses=witness_disagreements(records))
    path = os.path.join(out_dir, "index.html")
    _write(path, html)
    return path


def _impl_of(op):
    spec = opinfo._spec(op)
    return spec.impl if spec else None


def _fraction(tally, lang):
    from ..conformance.grading import fraction
    if not tally["attempted"]:
        return i18n.t("grade_nothing", lang, n=tally["not_attempted"])
    return fraction(tally, lang)


def check_id(r):
    from ..oracle.engine import Check  # the one place that spells a check's id
    return Check(r["op"], r["case"], r["oracle"], r["device"], r["dtype"]).id


_check_id = check_id


def _render_op(env, ops_dir, op, records, meta, module, options, suite):
    info = opinfo.op_info(op, module)
    if info:
        info = dict(info, formulas=[(part, latex, fix_mathml(mathml))
                                    for part, latex, mathml in info["formulas"]])
    cases = _case_order(records, info)
    name = page_name(op)
    svg = plots.error_plot(records, cases)
    written = {f"{name}.html"}
    if svg:
        _write(os.path.join(ops_dir, f"{name}.svg"), svg)
        written.add(f"{name}.svg")
    own = [r for r in records if not is_cross(r)]
    rows = check_rows(records, cases)
    grid = check_grid(records, cases)
    html = env.get_template("op.html").render(
        op=op, meta=meta, info=info, family=records[0]["family"], plot=f"{name}.svg" if svg else None,
        counts=counts(own), rows=rows, grid=grid, summary=quantity_summary(own),
        worked=_worked(op), tolerances=_tolerances(records),
        witnesses=sorted({r["witness"] for r in rows}), dtypes=sorted({r["dtype"] for r in rows}),
        problems=[dict(p, rerun=check_command(check_id(p["record"]), options, suite))
                  for p in distinct_problems(own)],
        case_commands={c: case_command(op, c, options, suite) for c in cases},
        cases_without_spec=[c for c in cases if not info
                            or c not in {x["name"] for x in info["cases"] + info["golden"]}])
    _write(os.path.join(ops_dir, f"{name}.html"), html)
    return written


def tolerance_page(lang="en"):
    """The policy with each row's reason, the overrides and the witnesses that cannot check
    an op, each grouped by reason: every reason once."""
    from ..oracle.tolerance import WHY
    policy = opinfo.tolerance_policy()
    return dict(policy,
                reasons=[{"witnesses": ", ".join(w.witnesses), "dtype": w.dtype,
                          "text": w.ja if lang == "ja" else w.en} for w in WHY],
                reasons_grouped=_by_reason(policy["overrides"], "reason"),
                unavailable_grouped=_by_reason(policy["unavailable"], "why"))


def _by_reason(entries, field):
    grouped = defaultdict(list)
    for e in entries:
        grouped[e[field]].append(e)
    return [{"reason": reason, "reason_ja": group[0].get(field + "_ja", ""), "overrides": group}
            for reason, group in grouped.items()]


def _remove_stale(ops_dir, written):
    """Pages of ops that are not in this run (left by an earlier run) would mislead."""
    if not os.path.isdir(ops_dir):
        return
    for entry in os.listdir(ops_dir):
        if entry.endswith((".html", ".svg")) and entry not in written:
            os.unlink(os.path.join(ops_dir, entry))
