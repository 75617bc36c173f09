"""results.json: the public record of a run, and how it is written and read.

    {"schema": 2,
     "meta": {"impl", "seed", "oracles", "devices", "dtypes", "versions", "host",
              "started", "finished", "partial", ...},
     "fields": ["op", "family", "case", "oracle", "device", "dtype", "quantity",
                "status", "max_abs", "max_rel", "margin", "atol", "rtol", ...],
     "records": [["affine", "linear", "batch3", "torch", "cpu", "float64", "out",
                  "pass", 4.4e-16, ...], ...]}

Each record is a row of a table whose columns `fields` names (the layout pandas
calls "split"): one line per record, and no key repeated 11,000 times, which was
half of schema 1's file. `load_results` gives the records back as dicts and reads
schema 1 files too (a record an object), so runs of an older version still merge.

Files are written atomically (a temporary file renamed over the target), so a
reader never sees half a file, even when the run is interrupted.
"""
import json
import re
import math
import os
import tempfile

SCHEMA = 2
READABLE_SCHEMAS = (1, 2)    # 1: each record an object with its keys
from ..oracle.records import FIELDS, STATUSES  # noqa: E402  (the record's one definition)
RECORD_FIELDS = ("op", "family", "case", "oracle", "device", "dtype", "quantity", "status",
                 "max_abs", "max_rel", "margin", "atol", "rtol", "diagnosis", "message")


class SchemaError(ValueError):
    """A results file that this version cannot read."""


def write_atomic(path, content):
    """Write text or bytes to a temporary file beside `path`, then rename it over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        mode, encoding = ("wb", None) if isinstance(content, bytes) else ("w", "utf-8")
        with os.fdopen(fd, mode, encoding=encoding) as f:
            f.write(content)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# Summary figures keep 6 significant digits (timings 3): enough to read and compare,
# and a third of the file. The values at the worst element keep every digit.
SIGNIFICANT = {"max_abs": 6, "max_rel": 6, "margin": 6, "seconds": 3}


def _clean(value, digits=None):
    """JSON has no NaN or infinity: such numbers are written as null."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if digits:
            return float(f"{value:.{digits}g}")
    return value


# A float32 value is exact in 9 significant digits (the shortest decimal that reads back to
# the same float32): the values at the worst element of a float32 record need no more.
FLOAT32_FIELDS = ("expected_at_worst", "actual_at_worst")


def _columns(records):
    """The fields the records carry, in the record's defined order, then any other key."""
    carried = dict.fromkeys(k for r in records for k in r)
    return [k for k in FIELDS if k in carried] + [k for k in carried if k not in FIELDS]


def _record_line(r, columns):
    float32 = r.get("dtype") == "float32"
    return json.dumps([_clean(r.get(k), 9 if float32 and k in FLOAT32_FIELDS else SIGNIFICANT.get(k))
                       for k in columns], separators=(",", ":"), ensure_ascii=False)


# A tolerance override's reason is a paragraph, and every record of the op repeats it: the
# file keeps each reason once, in meta["tolerance_reasons"], and the records say
# "override #k"; load_results puts the words back.
REASON_REF = "override #"


def _long_reason(source):
    return isinstance(source, str) and source.startswith("override: ") and len(source) > 40


def _shared_reasons(records):
    """(records citing reasons by number, the reasons): numbered in sorted order, so that the
    same records give the same file whatever order the workers wrote them in."""
    reasons = sorted({r.get("tolerance") for r in records if _long_reason(r.get("tolerance"))})
    number = {text: k for k, text in enumerate(reasons)}
    return [dict(r, tolerance=f"{REASON_REF}{number[r['tolerance']]}")
            if _long_reason(r.get("tolerance")) else r for r in records], reasons


def _restore_reasons(data):
    reasons = data.get("meta", {}).pop("tolerance_reasons", None)
    if not reasons:
        return data
    for r in data.get("records", []):
        source = r.get("tolerance")
        if isinstance(source, str) and source.startswith(REASON_REF):
            r["tolerance"] = reasons[int(source[len(REASON_REF):])]
    return data


def write_results(path, meta, records):
    """One record per line, a row under `fields`: compact, and still readable and diffable."""
    records, reasons = _shared_reasons(records)
    if reasons:
        meta = dict(meta, tolerance_reasons=reasons)
    columns = _columns(records)
    lines = ",\n".join(_record_line(r, columns) for r in records)
    compact = dict(separators=(",", ":"), ensure_ascii=False)
    head = json.dumps({"schema": SCHEMA, "meta": meta}, **compact)[:-1]
    write_atomic(path, f'{head},\n"fields":{json.dumps(columns, **compact)},\n'
                       f'"records":[\n{lines}\n]}}\n')


def _rows_to_records(data, source):
    """Schema 2's rows as dicts (in place); schema 1's records are dicts already."""
    if data["schema"] == 1:
        return data
    columns = data.pop("fields", None)
    if not isinstance(columns, list):
        raise SchemaError(f"{source}: schema 2 without its 'fields' list")
    rows = data.get("records", [])
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise SchemaError(f"{source}: record {i} is not a row of {len(columns)} fields")
        rows[i] = dict(zip(columns, row))
    return data


def validate(data, source="results"):
    """`data` (parsed JSON) checked against the schema, with schema 2's rows made dicts."""
    if not isinstance(data, dict) or "schema" not in data:
        raise SchemaError(f"{source}: not a backprop-oracle results file (no 'schema' field)")
    if data["schema"] not in READABLE_SCHEMAS:
        raise SchemaError(f"{source}: schema {data['schema']!r}, this version reads schemas "
                          f"{' and '.join(map(str, READABLE_SCHEMAS))}")
    _rows_to_records(data, source)
    for i, record in enumerate(data.get("records", [])):
        missing = [f for f in RECORD_FIELDS if f not in record]
        if missing:
            raise SchemaError(f"{source}: record {i} lacks {', '.join(missing)}")
        if record["status"] not in STATUSES:
            raise SchemaError(f"{source}: record {i} has unknown status {record['status']!r}")
    return data


def load_results(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise SchemaError(f"{path}: not valid JSON ({err})") from None
    return _restore_reasons(validate(data, str(path)))


def is_cross(record):
    """A record of one witness against another ("torch~jax"), not of the implementation."""
    return "~" in record["oracle"]


def counts(records):
    """How many records of the implementation have each status (zero if none).

    Records of the witnesses against each other are findings about the
    frameworks and are not counted here."""
    out = {s: 0 for s in STATUSES}
    for r in records:
        if not is_cross(r):
            out[r["status"]] += 1
    return out


# -- one mistake, one line -------------------------------------------------------
ORACLE_RANK = {"torch": 0, "jax": 1, "golden": 2, "fd": 3}
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def failing(records):
    """The implementation's failing and erroring records (witness comparisons are not its)."""
    return [r for r in records if r["status"] in ("fail", "error") and not is_cross(r)]


def problem_text(record):
    """What a failing record says is wrong: its diagnosis, else its message's last line
    (an error's last line is the exception; its first lines are where it was raised)."""
    if record.get("diagnosis"):
        return record["diagnosis"]
    # lines of the excerpt are "\n"-separated; a "\r" inside the message is not a new line
    lines = [line for line in (record.get("message") or "").split("\n") if line.strip()]
    return lines[-1] if lines else record["status"]


# What varies from case to case inside one diagnosis (shapes, indices, numbers, case names,
# "axis 0" or "axes 0, 1") is not part of what a problem is known by: "not summed over the
# batch: shape (3, 5) ... axis 0" on one case and "shape (2, 3, 5) ... axes 0, 1" on another
# are one problem.
VARYING = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|(?<=case )\S+|" + NUMBER.pattern)
AXES = re.compile(r"\bax[ie]s [\d, ]*\d")


def problem_key(record):
    """(op, the catalogue's mistake it names), or (op, the problem's words without what
    varies between cases): one mistake seen at several cases, witnesses and dtypes, even
    where a record says more about it (finite differences of a forward that computes
    another function name the forward's mistake after their own words)."""
    names = [n for n in (record.get("mistake") or "").split("|") if n]
    if len(names) == 1:
        return record["op"], f"mistake {names[0]}"
    return record["op"], VARYING.sub("#", AXES.sub("axes", problem_text(record))).strip()


def _case_rank(op, case):
    """Where a case comes in its op's spec (the first case is the plainest); 999 if unknown."""
    try:
        from ..oracle import registry
        names = [c.name for c in registry.get(op).cases]
    except Exception:   # an op this version does not know
        return 999
    return names.index(case) if case in names else 999


def _representative_order(record):
    """The record whose rerun is shown: float64 first, torch first, then the spec's first case."""
    return (record["dtype"] != "float64", ORACLE_RANK.get(record["oracle"], 9),
            record["device"], _case_rank(record["op"], record["case"]), record["case"],
            record["quantity"])


def problem_groups(records):
    """The failing records grouped by (op, diagnosis): [[record, ...], ...], one list per
    distinct problem. A record that names several mistakes ("one of these", a case that
    cannot tell them apart) joins the group of one of them where other cases name it."""
    groups, by_mistake, ambiguous = {}, {}, []
    for r in failing(records):
        names = (r.get("mistake") or "").split("|")
        if len(names) > 1:           # "one of these mistakes": placed once the others are known
            ambiguous.append((r, names))
            continue
        key = problem_key(r)
        groups.setdefault(key, []).append(r)
        if names[0]:
            by_mistake.setdefault((r["op"], names[0]), key)
    for r, names in ambiguous:
        # a case that cannot tell mistake A from B belongs with A when other cases name A
        known = [by_mistake[(r["op"], n)] for n in names if (r["op"], n) in by_mistake]
        key = max(known, key=lambda k: len(groups[k])) if known else problem_key(r)
        groups.setdefault(key, []).append(r)
    return list(groups.values())


def representative(group):
    """The record a problem is shown by (and rerun with): one naming a single mistake,
    float64, torch, the spec's first case."""
    return min(group, key=lambda r: ("|" in (r.get("mistake") or ""), _representative_order(r)))


def distinct_problems(records):
    """The failing records grouped by (op, diagnosis), each group once, largest first.

    [{"op", "family", "problem" (the representative's words), "record" (the representative),
      "records" (how many it explains), "checks" (distinct checks), "quantities", "cases",
      "witnesses", "statuses"}], ordered by family and op, then by how many records."""
    out = []
    for rs in problem_groups(records):
        first = representative(rs)
        out.append({
            "op": first["op"], "family": first["family"], "problem": problem_text(first),
            "record": first, "records": len(rs),
            "checks": len({(r["case"], r["oracle"], r["device"], r["dtype"]) for r in rs}),
            "quantities": sorted({r["quantity"] for r in rs}, key=_quantity_order),
            "cases": sorted({r["case"] for r in rs}),
            "witnesses": sorted({f"{r['oracle']}@{r['device']}" for r in rs}),
            "statuses": sorted({r["status"] for r in rs})})
    return sorted(out, key=lambda p: (p["family"], p["op"], -p["records"], p["problem"]))


def _quantity_order(quantity):
    return (quantity != "out", quantity != "*", quantity)


def quantity_summary(records):
    """Per quantity of one op: {"quantity", "status" (pass, fail, error, skipped, not_attempted),
    "passed", "attempted", "problems": [distinct problems of that quantity]}, out first."""
    own = [r for r in records if not is_cross(r)]
    by_quantity = {}
    for r in own:
        by_quantity.setdefault(r["quantity"], []).append(r)
    out = []
    for quantity in sorted(by_quantity, key=_quantity_order):
        rs = by_quantity[quantity]
        statuses = {r["status"] for r in rs}
        status = next((s for s in ("error", "fail", "pass", "not_attempted", "skipped")
                       if s in statuses), "skipped")
        out.append({"quantity": quantity, "status": status,
                    "passed": sum(r["status"] == "pass" for r in rs),
                    "attempted": sum(r["status"] in ("pass", "fail", "error") for r in rs),
                    "problems": distinct_problems(rs)})
    return out
