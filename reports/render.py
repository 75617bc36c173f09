"""Render results.json as a self-contained HTML report (no network, no JavaScript).

    out_dir/index.html        summary, agreement matrix, failures, witness disagreements
    out_dir/tolerance.html    the policy table, its reasons, every override
    out_dir/ops/<op>.html     formulas, source, cases, every check, error plot
    out_dir/ops/<op>.svg      that plot
    out_dir/style.css

Every file is written atomically; text from the records (a learner's error
messages and names) is escaped by the templates.
"""
import os
import re
from collections import defaultdict

from . import opinfo, plots
from .commands import case_command, check_command
from .model import STATUSES, counts, is_cross, write_atomic

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
ORACLE_ORDER = {"golden": 0, "torch": 1, "jax": 2, "fd": 3}
MAX_PROBLEMS_LISTED = 200  # the rest are on the op pages: the first page stays small


def _environment():
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
    env.globals.update(statuses=STATUSES, label=lambda s: s.replace("_", " "))
    return env


def page_name(op):
    """The file name of an op's page (op names are identifiers; anything else is replaced)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", op)


def column_key(record):
    return f"{record['oracle']}@{record['device']}", record["dtype"]


def _column_order(key):
    witness, device = key[0].split("@", 1)
    return ORACLE_ORDER.get(witness, 9), witness, device, key[1] != "float64", key[1]


def matrix(records):
    """{family: {op: {(witness@device, dtype): cell}}} and the ordered columns.

    Only records of the implementation: the witnesses against each other have their own section."""
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
    columns = sorted(columns, key=_column_order)
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
    return {"state": state, "passed": s.get("pass", 0), "total": sum(s.values()),
            "worst": cell["worst"], "band": _band(cell["worst"], state),
            "statuses": dict(s)}


BANDS = [("m0", 1e-3, "margin < 0.001"), ("m1", 0.1, "< 0.1"), ("m2", 0.5, "< 0.5"),
         ("m3", 1.0, "< 1: passes, close to the tolerance")]


def _band(margin, state):
    """Color band by how close the worst error came to the tolerance."""
    if state != "pass" or margin is None:
        return state
    for name, upper, _ in BANDS:
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


def _case_order(records, info):
    names = [c["name"] for c in info["cases"]] + [g["name"] for g in info["golden"]] if info else []
    for r in records:
        if r["case"] not in names:
            names.append(r["case"])
    return names


def _sorted_checks(records, cases):
    position = {c: i for i, c in enumerate(cases)}
    return sorted(records, key=lambda r: (position.get(r["case"], 999), is_cross(r),
                                          _column_order(column_key(r)), r["quantity"]))


def _meta_for_commands(meta):
    return meta.get("seed", 0), meta.get("impl_name", "impl")


def render(results, out_dir, module=None):
    """Write the report of `results` ({"meta", "records"}) into out_dir; return index.html's path.

    The sources shown on op pages are those the implementation's own process recorded
    in meta["classes"]; learner code is never imported here. `module` (a trusted,
    in-process module, for tests) replaces them."""
    env = _environment()
    meta, records = results["meta"], results["records"]
    if module is not None:
        from ..oracle.party import describe_classes
        module = describe_classes(module, sorted({r["op"] and _impl_of(r["op"]) for r in records}
                                                 - {None}))
    else:
        module = opinfo.classes_of(meta)
    seed, impl_name = _meta_for_commands(meta)
    by_op = defaultdict(list)
    for r in records:
        by_op[r["op"]].append(r)
    table, columns = matrix(records)
    problems = sorted((r for r in records if r["status"] in ("fail", "error") and not is_cross(r)),
                      key=lambda r: (r["family"], r["op"], r["case"], _column_order(column_key(r)),
                                     r["quantity"]))
    shown = [dict(r, rerun=check_command(_check_id(r), seed, impl_name))
             for r in problems[:MAX_PROBLEMS_LISTED]]
    written = set()
    ops_dir = os.path.join(out_dir, "ops")
    for op, op_records in by_op.items():
        written |= _render_op(env, ops_dir, op, op_records, meta, module, seed, impl_name)
    _remove_stale(ops_dir, written)
    with open(os.path.join(TEMPLATES, "style.css"), encoding="utf-8") as f:
        write_atomic(os.path.join(out_dir, "style.css"), f.read())
    write_atomic(os.path.join(out_dir, "tolerance.html"),
                 env.get_template("tolerance.html").render(meta=meta, **opinfo.tolerance_policy()))
    html = env.get_template("index.html").render(
        meta=meta, counts=counts(records), table=table, columns=columns,
        groups=column_groups(columns), bands=BANDS, problems=shown, problem_count=len(problems),
        total=sum(counts(records).values()), witnesses=witness_disagreements(records))
    path = os.path.join(out_dir, "index.html")
    write_atomic(path, html)
    return path


def _impl_of(op):
    spec = opinfo._spec(op)
    return spec.impl if spec else None


def _check_id(r):
    from ..oracle.engine import Check  # the one place that spells a check's id
    return Check(r["op"], r["case"], r["oracle"], r["device"], r["dtype"]).id


def _render_op(env, ops_dir, op, records, meta, module, seed, impl_name):
    info = opinfo.op_info(op, module)
    cases = _case_order(records, info)
    name = page_name(op)
    svg = plots.error_plot(records, cases)
    written = {f"{name}.html"}
    if svg:
        write_atomic(os.path.join(ops_dir, f"{name}.svg"), svg)
        written.add(f"{name}.svg")
    own = [r for r in records if not is_cross(r)]
    html = env.get_template("op.html").render(
        op=op, meta=meta, info=info, family=records[0]["family"], plot=f"{name}.svg" if svg else None,
        counts=counts(own), checks=_sorted_checks(records, cases),
        case_commands={c: case_command(op, c, seed, impl_name) for c in cases},
        cases_without_spec=[c for c in cases if not info
                            or c not in {x["name"] for x in info["cases"] + info["golden"]}])
    write_atomic(os.path.join(ops_dir, f"{name}.html"), html)
    return written


def _remove_stale(ops_dir, written):
    """Pages of ops that are not in this run (left by an earlier run) would mislead."""
    if not os.path.isdir(ops_dir):
        return
    for entry in os.listdir(ops_dir):
        if entry.endswith((".html", ".svg")) and entry not in written:
            os.unlink(os.path.join(ops_dir, entry))

