"""Seed sweep: every check of every op, for several seeds, both dtypes, every oracle, on CPU.

    python -m backprop_oracle.tools.sweep --seeds 10            # seeds 0..9, every op
    python -m backprop_oracle.tools.sweep --seeds 2 --op affine,mlp --jobs 1

The answer key must pass everywhere (no false alarms). For each op it prints the
worst margin seen (|a - b| / (atol + rtol |b|), <= 1 passes) and where it was seen,
then the worst margin per family. An op whose worst margin exceeds --investigate
(0.1 by default) is flagged: its tolerance is closer to rounding noise than the
policy intends, so the cause is to be understood, never the tolerance widened.
The exit status is 1 when any record fails or errors.
"""
import argparse
import json
import multiprocessing
import sys
import time

ORACLES = ("torch", "jax", "fd", "golden")
DTYPES = ("float64", "float32")
INVESTIGATE = 0.1


def op_records(op, seeds, oracles=ORACLES, dtypes=DTYPES, module=None):
    """Every record of every check of one op for each seed, each tagged with its seed."""
    from ..oracle import registry
    from ..oracle.engine import all_checks, run_check
    from .. import impl
    module = module or impl
    records = []
    for seed in seeds:
        for check in all_checks([registry.get(op)], oracles, ("cpu",), dtypes):
            for record in run_check(check, module, seed):
                records.append({**record, "seed": seed})
    return records


def _op_task(args):
    op, seeds, oracles, dtypes = args
    start = time.perf_counter()
    return op, op_records(op, seeds, oracles, dtypes), time.perf_counter() - start


def sweep(ops, seeds, oracles=ORACLES, dtypes=DTYPES, jobs=2, progress=None):
    """{op: (records, seconds)}; ops are spread over `jobs` processes (one op per task,
    so that an op's compiled JAX functions are reused across its cases and seeds)."""
    tasks = [(op, tuple(seeds), tuple(oracles), tuple(dtypes)) for op in ops]
    results = {}
    if jobs <= 1:
        outcomes = map(_op_task, tasks)
        pool = None
    else:
        # spawn: a fresh interpreter per worker, never a fork of a process holding threads
        pool = multiprocessing.get_context("spawn").Pool(jobs)
        outcomes = pool.imap_unordered(_op_task, tasks)
    try:
        for op, records, seconds in outcomes:
            results[op] = (records, seconds)
            if progress:
                progress(op, records, seconds)
    finally:
        if pool:
            pool.close()
            pool.join()
    return results


def is_cross(record):
    """A record of one witness against another ("torch~jax"): a finding about the
    frameworks, not about the answer key; reported apart and never a failure."""
    return "~" in record["oracle"]


def worst(records):
    """The record of the answer key with the largest margin (None if none has one)."""
    measured = [r for r in records if r["margin"] is not None and not is_cross(r)]
    return max(measured, key=lambda r: r["margin"]) if measured else None


def bad(records):
    """Records that fail or error (a false alarm of the oracle on the answer key), or that
    the answer key does not attempt (a spec whose class is missing or unfinished)."""
    return [r for r in records
            if r["status"] in ("fail", "error", "not_attempted") and not is_cross(r)]


def where(record):
    return (f"{record['oracle']}/{record['dtype']} case={record['case']} "
            f"seed={record['seed']} {record['quantity']}")


def summarize(results, threshold=INVESTIGATE):
    """Per-op and per-family rows: worst margin, where, counts, and the verdict."""
    rows = []
    for op in sorted(results):
        records, seconds = results[op]
        w = worst(records)
        failing = bad(records)
        margin = w["margin"] if w else None
        verdict = ("FAIL" if failing else
                   "investigate" if margin is not None and margin > threshold else "ok")
        cross = [r for r in records if is_cross(r) and r["status"] == "fail"]
        rows.append({"op": op, "family": records[0]["family"] if records else "?",
                     "records": len(records), "failing": len(failing), "margin": margin,
                     "frameworks_disagree": len(cross),
                     "where": where(w) if w else "", "verdict": verdict, "seconds": seconds,
                     "first_failure": failing[0] if failing else None})
    families = {}
    for row in rows:
        fam = families.setdefault(row["family"], {"family": row["family"], "margin": None,
                                                  "op": "", "failing": 0})
        fam["failing"] += row["failing"]
        if row["margin"] is not None and (fam["margin"] is None or row["margin"] > fam["margin"]):
            fam["margin"], fam["op"] = row["margin"], row["op"]
    return rows, [families[f] for f in sorted(families)]


def _fmt(margin):
    return "-" if margin is None else f"{margin:.3g}"


def print_report(rows, families, seeds, out=sys.stdout):
    print(f"seed sweep: seeds {seeds[0]}..{seeds[-1]}, worst margin per op "
          f"(<= 1 passes; > {INVESTIGATE} is flagged)", file=out)
    print(f"{'op':28s} {'family':14s} {'records':>7s} {'worst':>9s}  verdict      where", file=out)
    for r in rows:
        print(f"{r['op']:28s} {r['family']:14s} {r['records']:7d} {_fmt(r['margin']):>9s}  "
              f"{r['verdict']:12s} {r['where']}", file=out)
        if r["frameworks_disagree"]:
            print(f"{'':28s} torch and jax disagree on {r['frameworks_disagree']} records "
                  f"(a finding about the frameworks, not a failure)", file=out)
        if r["first_failure"]:
            f = r["first_failure"]
            detail = (f["diagnosis"] or f["message"]).strip().splitlines()[-1:] or [""]
            print(f"{'':28s} first failure: {where(f)}: {f['status']} {detail[0]}", file=out)
    print("\nworst margin per family", file=out)
    for f in families:
        print(f"{f['family']:16s} {_fmt(f['margin']):>9s}  ({f['op']})"
              + (f"  {f['failing']} failing records" if f["failing"] else ""), file=out)
    flagged = [r["op"] for r in rows if r["verdict"] != "ok"]
    total = sum(r["records"] for r in rows)
    failing = sum(r["failing"] for r in rows)
    print(f"\n{total} records, {failing} failing or erroring; "
          f"flagged: {', '.join(flagged) if flagged else 'none'}", file=out)


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog or "python -m backprop_oracle.tools.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds (default 10)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--op", default=None, help="comma-separated op names (default: every op)")
    parser.add_argument("--oracle", default=",".join(ORACLES))
    parser.add_argument("--dtype", default=",".join(DTYPES))
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--investigate", type=float, default=INVESTIGATE,
                        help=f"flag ops whose worst margin exceeds this (default {INVESTIGATE})")
    parser.add_argument("--json", default=None, help="also write the per-op summary here")
    args = parser.parse_args(argv)

    from ..oracle import registry
    ops = [s.name for s in registry.all_specs()]
    if args.op:
        wanted = [o.strip() for o in args.op.split(",") if o.strip()]
        unknown = set(wanted) - set(ops)
        if unknown:
            parser.error(f"unknown op(s): {', '.join(sorted(unknown))}")
        ops = wanted
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    start = time.perf_counter()
    results = sweep(ops, seeds, args.oracle.split(","), args.dtype.split(","), args.jobs,
                    progress=lambda op, recs, s: print(f"  {op}: {len(recs)} records, {s:.1f}s",
                                                       file=sys.stderr, flush=True))
    rows, families = summarize(results, args.investigate)
    print_report(rows, families, seeds)
    print(f"sweep took {time.perf_counter() - start:.0f}s with {args.jobs} job(s)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"seeds": seeds, "ops": [{k: v for k, v in r.items() if k != "first_failure"}
                                               for r in rows], "families": families}, f, indent=1)
    return 1 if any(r["failing"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
