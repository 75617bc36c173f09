"""The grade: checks passed out of checks attempted, per family and overall.

A check is one (op, case, oracle, device, dtype). It passes when every one of
its records passes; it is attempted unless it is "not attempted" (no such class,
NotImplementedError) or skipped (a witness that does not apply here). A check
with an error or a failing record counts as attempted and not passed.
Records of one witness against another ("torch~jax") are not the implementation's.

The grade is computed over the checks the run was expected to make: a check
that left no record at all (a worker that died, a file lost, a run stopped
before it) is given an error record saying so (missing_records), so it counts
as attempted and not passed. The percentage is floored to a tenth: a grade with
one failure never reads 100%. This module is the one place that computes and
words the grade: the terminal, results.json and the HTML all take it from here.
"""
import math
from collections import defaultdict

from ..reports.model import is_cross

KEY = ("op", "case", "oracle", "device", "dtype")


def check_status(statuses):
    for status in ("error", "fail", "not_attempted"):
        if status in statuses:
            return status
    return "pass" if "pass" in statuses else "skipped"


def percent(passed, attempted):
    """100 * passed / attempted floored to one decimal: never rounded up to 100."""
    if not attempted:
        return None
    return math.floor(1000 * passed / attempted) / 10   # integers: exact


def _tally(statuses):
    passed = sum(1 for s in statuses if s == "pass")
    attempted = sum(1 for s in statuses if s in ("pass", "fail", "error"))
    return {"passed": passed, "attempted": attempted,
            "failed": sum(1 for s in statuses if s == "fail"),
            "errors": sum(1 for s in statuses if s == "error"),
            "not_attempted": sum(1 for s in statuses if s == "not_attempted"),
            "skipped": sum(1 for s in statuses if s == "skipped"),
            "percent": percent(passed, attempted)}


def missing_records(expected, records, why):
    """Error records for the expected checks that have no record in `records`.

    expected: (check, family) pairs, check with op, case, oracle, device, dtype;
    why: the sentence saying what happened to them."""
    seen = {tuple(r[k] for k in KEY) for r in records if not is_cross(r)}
    out = []
    for check, family in expected:
        key = tuple(getattr(check, k) for k in KEY)
        if key not in seen:
            out.append({"op": check.op, "family": family, "case": check.case,
                        "oracle": check.oracle, "device": check.device, "dtype": check.dtype,
                        "quantity": "*", "status": "error", "max_abs": None,
                        "max_rel": None, "margin": None, "atol": None, "rtol": None,
                        "tolerance": None, "worst_index": None, "expected_at_worst": None,
                        "actual_at_worst": None, "diagnosis": "", "message": why,
                        "seconds": None})
    return out


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


def grade_of(results):
    """The grade stored with the results, or computed from their records (older files)."""
    return results["meta"].get("grade") or grade(results["records"])


def fraction(tally, lang="en"):
    """"2024/2025 checks passed (99.9%)": the grade's words, shared by terminal and HTML (the
    floored percentage, with no trailing zero: 100% only when every check passed)."""
    from ..reports.i18n import t
    return t("grade_fraction", lang, passed=tally["passed"], attempted=tally["attempted"],
             percent=f"{tally['percent']:g}")


def _line(label, tally, lang="en"):
    from ..reports.i18n import pad, t
    if not tally["attempted"]:
        return f"{pad(label, 14)} " + t("grade_nothing", lang, n=tally["not_attempted"])
    rest = (", " + t("grade_not_attempted", lang, n=tally["not_attempted"])
            if tally["not_attempted"] else "")
    return f"{pad(label, 14)} {fraction(tally, lang)}{rest}"


def summary_lines(g, lang="en"):
    """The grade as terminal lines: one per family, then the overall line."""
    from ..reports.i18n import t
    lines = [_line(f"  {family}", tally, lang) for family, tally in g["families"].items()]
    return [t("grade_title", lang)] + lines + [_line("  " + t("overall", lang), g["overall"], lang)]
