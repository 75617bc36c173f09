"""The grade: checks passed out of checks attempted, per family and overall.

A check is one (op, case, oracle, device, dtype). It passes when every one of
its records passes; it is attempted unless it is "not attempted" (no such class,
NotImplementedError) or skipped (a witness that does not apply here). A check
with an error or a failing record counts as attempted and not passed.
Records of one witness against another ("torch~jax") are not the implementation's.
"""
from collections import defaultdict

from ..reports.model import is_cross

KEY = ("op", "case", "oracle", "device", "dtype")


def check_status(statuses):
    for status in ("error", "fail", "not_attempted"):
        if status in statuses:
            return status
    return "pass" if "pass" in statuses else "skipped"


def _tally(statuses):
    passed = sum(1 for s in statuses if s == "pass")
    attempted = sum(1 for s in statuses if s in ("pass", "fail", "error"))
    return {"passed": passed, "attempted": attempted,
            "failed": sum(1 for s in statuses if s == "fail"),
            "errors": sum(1 for s in statuses if s == "error"),
            "not_attempted": sum(1 for s in statuses if s == "not_attempted"),
            "skipped": sum(1 for s in statuses if s == "skipped"),
            "percent": round(100.0 * passed / attempted, 1) if attempted else None}


def grade(records):
    """{"overall": tally, "families": {family: tally}, "ops": {op: tally}} of every check of
    the implementation (records of one witness against another are not graded)."""
    statuses, family_of = defaultdict(set), {}
    for r in records:
        if is_cross(r):
            continue
        key = tuple(r[k] for k in KEY)
        statuses[key].add(r["status"])
        family_of[key] = r["family"]
    per_check = {key: check_status(s) for key, s in statuses.items()}
    by_family, by_op = defaultdict(list), defaultdict(list)
    for key, status in per_check.items():
        by_family[family_of[key]].append(status)
        by_op[key[0]].append(status)
    return {"unit": "checks (op, case, oracle, device, dtype); passed / attempted",
            "overall": _tally(list(per_check.values())),
            "families": {f: _tally(s) for f, s in sorted(by_family.items())},
            "ops": {op: _tally(s) for op, s in sorted(by_op.items())}}


def _line(label, tally):
    if not tally["attempted"]:
        return f"{label:<14} nothing attempted ({tally['not_attempted']} not attempted)"
    rest = f", {tally['not_attempted']} not attempted" if tally["not_attempted"] else ""
    return (f"{label:<14} {tally['passed']}/{tally['attempted']} checks passed "
            f"({tally['percent']:g}%){rest}")


def summary_lines(g):
    """The grade as terminal lines: one per family, then the overall line."""
    lines = [_line(f"  {family}", t) for family, t in g["families"].items()]
    return ["grade (passed / attempted):"] + lines + [_line("  overall", g["overall"])]
