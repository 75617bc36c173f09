"""A record: the outcome of one quantity of one check, as written to results.json.

One type, made in one place (`make`): the engine, the plugin (crash and timeout
records) and reports/model.py all use it. On disk a record is a plain JSON object
with exactly FIELDS as keys (schema 1; fields are only ever added).
"""

FIELDS = ("op", "family", "case", "oracle", "device", "dtype", "quantity", "status",
          "max_abs", "max_rel", "margin", "atol", "rtol", "tolerance",
          "worst_index", "expected_at_worst", "actual_at_worst",
          "diagnosis", "message", "diagnosis_ja", "mistake", "seconds")
STATUSES = ("pass", "fail", "error", "not_attempted", "skipped")


def make(check, spec, status, quantity="*", message="", tol=None, cmp=None, seconds=None):
    """The record of `quantity` of `check` (an engine.Check) for the op `spec`.

    tol: the Tolerance applied (None where nothing was compared); cmp: the
    comparison (compare.Comparison) or None; "*" stands for the whole check.
    """
    if status not in STATUSES:
        raise ValueError(f"record status {status!r}: expected one of {', '.join(STATUSES)}")
    return {
        "op": check.op, "family": spec.family, "case": check.case, "oracle": check.oracle,
        "device": check.device, "dtype": check.dtype, "quantity": quantity, "status": status,
        "max_abs": cmp.max_abs if cmp else None, "max_rel": cmp.max_rel if cmp else None,
        "margin": cmp.margin if cmp else None,
        "atol": tol.atol if tol else None, "rtol": tol.rtol if tol else None,
        "tolerance": tol.source if tol else None,
        "worst_index": cmp.worst_index if cmp else None,
        "expected_at_worst": cmp.expected_at_worst if cmp else None,
        "actual_at_worst": cmp.actual_at_worst if cmp else None,
        "diagnosis": cmp.diagnosis if cmp else "", "message": message,
        "diagnosis_ja": cmp.diagnosis_ja if cmp else "", "mistake": cmp.mistake if cmp else None,
        "seconds": seconds,
    }


def error(check, spec, message):
    """The one error record of a check that produced no comparison."""
    return make(check, spec, "error", message=message)
