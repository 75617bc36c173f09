"""Merge the results of several runs (a CPU box, a CUDA box) into one report.

Every input must have this version's schema and the same implementation under
test and seed: the same checks on the same data. Each run's devices become
their own columns. When two runs hold the same check (both ran on cpu, say),
the first run given keeps it and the report says how many were dropped.
"""
import os

from .model import SchemaError, load_results

KEY = ("op", "case", "oracle", "device", "dtype", "quantity")


class MergeError(SchemaError):
    """Results that cannot be put in one report."""


def results_path(path):
    """A run directory (holding results.json) or a results.json file."""
    candidate = os.path.join(path, "results.json") if os.path.isdir(path) else path
    if not os.path.isfile(candidate):
        raise MergeError(f"{path}: no results.json there")
    return candidate


def _same(runs, field, what):
    values = {source: data["meta"].get(field) for source, data in runs}
    if len(set(map(repr, values.values()))) > 1:
        listing = "; ".join(f"{source}: {value!r}" for source, value in values.items())
        raise MergeError(f"cannot merge runs of {what}: {listing}")


def merge(paths):
    """{"meta", "records"} of the runs at `paths`, or MergeError saying why not."""
    if not paths:
        raise MergeError("nothing to merge: give at least one run directory or results.json")
    runs = [(p, load_results(results_path(p))) for p in paths]
    for source, data in runs:
        data["meta"].setdefault("impl_name", data["meta"].get("impl"))
    _same(runs, "impl_name", "different implementations under test (meta.impl_name)")
    _same(runs, "seed", "different seeds (their cases hold different data)")
    records, seen, notes = [], set(), []
    for source, data in runs:
        dropped = 0
        for r in data["records"]:
            key = tuple(r[k] for k in KEY)
            if key in seen:
                dropped += 1
                continue
            seen.add(key)
            records.append(r)
        if dropped:
            notes.append(f"{source}: {dropped} records of checks that an earlier run also holds "
                         f"were left out (the earlier run's are shown)")
    metas = [data["meta"] for _, data in runs]
    first = metas[0]

    def union(field):
        return list(dict.fromkeys(v for m in metas for v in m.get(field, [])))

    devices = union("devices")
    absent = {d: why for m in metas for d, why in (m.get("devices_absent") or {}).items()
              if d not in devices}
    partial = [f"{source}: {data['meta']['partial_reason']}" for source, data in runs
               if data["meta"].get("partial")]
    meta = {
        "impl": first.get("impl"), "impl_name": first["impl_name"], "seed": first.get("seed"),
        "oracles": union("oracles"), "devices": devices, "devices_absent": absent,
        "dtypes": union("dtypes"),
        "started": min(m.get("started") or "" for m in metas),
        "finished": max(m.get("finished") or "" for m in metas),
        "checks_collected": _total(metas, "checks_collected"),
        "checks_finished": _total(metas, "checks_finished"),
        "partial": bool(partial), "partial_reason": "; ".join(partial),
        "runs": [{"source": source, **{k: data["meta"].get(k) for k in
                  ("host", "platform", "devices", "versions", "started", "finished",
                   "partial", "partial_reason", "command")}} for source, data in runs],
        "merge_notes": notes,
    }
    return {"meta": meta, "records": records}


def _total(metas, field):
    values = [m.get(field) for m in metas]
    return None if any(v is None for v in values) else sum(values)

