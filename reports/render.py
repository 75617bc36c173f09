"""Render results.json as a self-contained HTML report (no network, no JavaScript)."""
import os
from collections import defaultdict

from .model import STATUSES, counts, write_atomic

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")


def _environment():
    try:
        import jinja2
    except ImportError as err:
        raise ImportError("the HTML report needs jinja2: "
                          "pip install 'backprop-oracle[report]'") from err
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html"]))


def column_key(record):
    return f"{record['oracle']}@{record['device']}", record["dtype"]


def matrix(records):
    """{family: {op: {(witness@device, dtype): cell}}} and the ordered columns."""
    cells = defaultdict(lambda: {"statuses": defaultdict(int), "worst": None})
    families = defaultdict(dict)
    columns = []
    for r in records:
        key = column_key(r)
        if key not in columns:
            columns.append(key)
        cell = cells[(r["op"], key)]
        cell["statuses"][r["status"]] += 1
        if r["margin"] is not None and (cell["worst"] is None or r["margin"] > cell["worst"]):
            cell["worst"] = r["margin"]
        families[r["family"]][r["op"]] = True
    order = {"golden": 0, "torch": 1, "jax": 2, "fd": 3}
    columns.sort(key=lambda k: (order.get(k[0].split("@")[0], 9), k[0], k[1] != "float64"))
    table = {fam: {op: {col: _cell_summary(cells.get((op, col))) for col in columns}
                   for op in ops} for fam, ops in sorted(families.items())}
    return table, columns


def _cell_summary(cell):
    if cell is None:
        return None
    s = cell["statuses"]
    total = sum(s.values())
    if s.get("error") or s.get("fail"):
        state = "fail"
    elif s.get("pass"):
        state = "pass"
    elif s.get("not_attempted"):
        state = "not_attempted"
    else:
        state = "skipped"
    return {"state": state, "passed": s.get("pass", 0), "total": total, "worst": cell["worst"],
            "band": _band(cell["worst"], state)}


def _band(margin, state):
    """Color band by how close the worst error came to the tolerance."""
    if state != "pass" or margin is None:
        return state
    if margin < 1e-3:
        return "m0"
    if margin < 0.1:
        return "m1"
    if margin < 0.5:
        return "m2"
    return "m3"


def render(results, out_dir):
    """Write index.html for `results` ({"meta", "records"}) into out_dir; return its path."""
    env = _environment()
    records = results["records"]
    table, columns = matrix(records)
    problems = [r for r in records if r["status"] in ("fail", "error")]
    html = env.get_template("index.html").render(
        meta=results["meta"], counts=counts(records), statuses=STATUSES, table=table,
        columns=columns, problems=problems, total=len(records))
    path = os.path.join(out_dir, "index.html")
    write_atomic(path, html)
    return path
