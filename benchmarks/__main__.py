"""python -m benchmarks: every speed figure of the suite and of the answer key, side by side.

    python -m benchmarks              # full suite cold and warm, one op, where the time goes,
                                      # memory, report size, fd vs gradcheck, lstm, conv2d,
                                      # binary addition (a few minutes)
    python -m benchmarks --levers     # also: the suite warm without each lever
    python -m benchmarks --quick      # a reduced run that checks the script itself

Figures are printed with their targets and the ratio measured / allowed; nothing
is asserted. See docs/speed.md.
"""
import argparse
import os
import platform
import shutil
import tempfile

from . import kernels, suite
from .kernels import Figure

TARGETS = {"cold": 60.0, "warm": 30.0, "one_op": 5.0, "report_mb": 5.0}


def seconds_figure(name, run, allowed):
    note = f"{run.checks} checks, {run.checks / run.wall:.1f} checks/s" if run.checks else ""
    if run.returncode not in (0, 1):
        note += f"; pytest exit {run.returncode}: {run.tail.strip().splitlines()[-1:]}"
    ratio = run.wall / allowed if allowed else None
    return Figure(name, f"{run.wall:.1f} s", f"<= {allowed:g} s" if allowed else "", ratio, note)


def print_figures(title, figures):
    print(f"\n{title}")
    width = max(len(f.name) for f in figures) + 2
    for f in figures:
        ratio = f"{f.ratio:5.2f} of target" if f.ratio is not None else ""
        print(f"  {f.name:<{width}}{f.measured:<40}{f.target:<11}{ratio:<17}{f.verdict:<8}{f.note}")


def breakdown(run):
    """Where the time of one run goes, in worker-seconds (summed over the workers)."""
    w = run.workers
    if not w:
        return ["  (no probe data: " + run.tail.strip().splitlines()[-1] + ")"] if run.tail else []
    imports = {k: sum(p["imports"].get(k, 0) for p in w) for k in ("torch", "jax")}
    nested = lambda key: run.total("nested", key)
    witness = lambda key: run.total("witness", key)
    jax_counts = lambda key: run.total("jax", key)
    parts = [
        ("start-up to the first check (interpreter, pytest, harness, collection)", run.total("startup")),
        ("import torch", imports["torch"]),
        ("import jax", imports["jax"]),
        ("jax tracing and lowering", nested("jax_trace") + nested("jax_lower")),
        (f"jax compilation ({jax_counts('compiles'):.0f} compiles for {jax_counts('signatures'):.0f} "
         f"signatures; persistent cache {jax_counts('cache_hits'):.0f} hits, "
         f"{jax_counts('cache_misses'):.0f} misses)", nested("jax_compile")),
        ("jax checks, the rest (dispatch, run, compare)", witness("jax")),
        ("torch checks (import excluded)", witness("torch")),
        ("finite differences", witness("fd")),
        ("golden examples", witness("golden")),
        ("the implementation under test (once per op, case, dtype)", nested("impl")),
    ]
    lifetime = run.total("lifetime")
    report = run.controller.get("report", 0)
    in_workers = report if w == [run.controller] else 0   # no xdist: one process does all
    parts.append(("the rest: pytest and xdist between checks, teardown, idle workers",
                  lifetime - in_workers - sum(v for _, v in parts)))
    lines = [f"  {len(w)} workers, {lifetime:.1f} worker-seconds in a {run.wall:.1f} s run"]
    lines += [f"  {v:7.2f} s  {100 * v / lifetime:4.0f}%  {name}" for name, v in parts]
    lines.append(f"  {report:7.2f} s         merging records and rendering "
                 f"the report (controller, after the last check)")
    at_collection = sorted({m for p in run.probes for m in p.get("frameworks_at_collection", [])})
    lines.append(f"  frameworks imported at collection time: {', '.join(at_collection) or 'none'}")
    threads = sorted({f"torch {p['threads']['torch']}, OMP_NUM_THREADS {p['threads']['OMP_NUM_THREADS']}"
                      for p in w if "threads" in p})
    lines.append(f"  threads in each worker: {'; '.join(threads) or 'not recorded'}")
    scattered = suite.op_scattering(run)
    lines.append("  one op, one worker: " + ("yes" if not scattered else
                                             f"NO, split: {scattered}"))
    return lines


def suite_figures(args, workdir):
    cache = os.path.join(workdir, "jax-cache")
    # quick: one op, finite differences only, so that no framework is imported
    full = ["-n", args.workers] if not args.quick else ["--op", "add", "--oracle", "fd,golden"]
    op = args.op if not args.quick else "add"
    one_op = ["-k", op] if not args.quick else full
    cold = suite.run_suite("cold", full, workdir, cache)
    warm = suite.run_suite("warm", full, workdir, cache)
    single = suite.run_suite("one-op", one_op, workdir, cache)
    what = "whole suite" if not args.quick else "op add, fd only"
    figures = [seconds_figure(f"{what}, cold (empty JAX cache)", cold, TARGETS["cold"]),
               seconds_figure(f"{what}, warm", warm, TARGETS["warm"]),
               seconds_figure(f"one op warm (pytest conformance -k {op})", single,
                              TARGETS["one_op"])]
    rss = [p["max_rss_mb"] for p in warm.workers] or [p["max_rss_mb"] for p in warm.probes]
    figures.append(Figure("peak resident memory per worker", " / ".join(f"{m:.0f} MB" for m in rss)))
    mb = warm.report_bytes / 1e6
    figures.append(Figure("report size (results.json + index.html + assets)", f"{mb:.2f} MB",
                          f"< {TARGETS['report_mb']:g} MB", mb / TARGETS["report_mb"],
                          f"{warm.records} records"))
    return figures, cold, warm


def lever_figures(args, workdir, warm):
    """The warm suite with one lever taken away at a time."""
    cache = os.path.join(workdir, "jax-cache")
    full = ["-n", args.workers]
    cores = str(os.cpu_count() or 1)
    variants = [
        ("without one thread per worker", full, {n: cores for n in (
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BACKPROP_ORACLE_THREADS")}),
        ("without one op per worker (--dist worksteal)", full + ["--dist", "worksteal"], {}),
        ("without the persistent JAX cache", full, {"BACKPROP_ORACLE_JAX_CACHE": "off"}),
        ("without the persistent JAX cache, without XLA quick compile", full,
         {"BACKPROP_ORACLE_JAX_CACHE": "off", "BACKPROP_ORACLE_XLA_QUICK_COMPILE": "0"}),
    ]
    per_worker = lambda run: run.total("lifetime") / max(1, len(run.workers))
    figures = [Figure("with every lever (the warm run above)", f"{warm.wall:.1f} s", "", None,
                      f"workers lived {per_worker(warm):.1f} s each")]
    for name, run_args, env in variants:
        label = "lever-" + "".join(c if c.isalnum() else "-" for c in name)
        run = suite.run_suite(label, run_args, workdir, cache, env)
        figures.append(Figure(name, f"{run.wall:.1f} s", "", None,
                              f"{run.wall / warm.wall:.2f}x the warm run; workers lived "
                              f"{per_worker(run):.1f} s each; jax compile "
                              f"{run.total('nested', 'jax_compile'):.1f} s"))
    return figures


def import_figures():
    statements = {"python": "pass", "numpy": "import numpy", "the harness (plugin, specs)":
                  "import backprop_oracle.conformance.plugin, backprop_oracle.oracle.registry as r; r.all_specs()",
                  "torch": "import torch", "jax (and a first array)":
                  "import jax, jax.numpy as j; j.zeros(1).block_until_ready()"}
    return [Figure(f"fresh process: {name}", f"{suite.fresh_import_seconds(s):.2f} s")
            for name, s in statements.items()]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes: checks the script works")
    parser.add_argument("--levers", action="store_true", help="also run the suite without each lever")
    parser.add_argument("--skip-suite", action="store_true")
    parser.add_argument("--skip-kernels", action="store_true")
    parser.add_argument("--op", default="lstm", help="the op of the single-op figure (-k)")
    parser.add_argument("-n", "--workers", default="auto", help="xdist workers of the suite runs")
    parser.add_argument("--workdir", help="where runs write (default: a temporary directory)")
    args = parser.parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="backprop-oracle-bench-")
    print(f"backprop-oracle benchmarks on {platform.node()}: {os.cpu_count()} cores, "
          f"python {platform.python_version()}{' (quick mode)' if args.quick else ''}; "
          f"load average {os.getloadavg()[0]:.1f} (other processes share these cores: "
          f"read the ratios measured side by side)")
    try:
        if not args.skip_suite:
            figures, cold, warm = suite_figures(args, workdir)
            print_figures("The suite (fresh processes, measured from outside)", figures)
            for run in (cold, warm):
                print(f"\nWhere the time goes, {run.label} run")
                print("\n".join(breakdown(run)))
            if not args.quick:
                print_figures("Process start and imports", import_figures())
            if args.levers and not args.quick:
                print_figures("Levers (the warm suite without one of them)",
                              lever_figures(args, workdir, warm))
        if not args.skip_kernels:
            print_figures("Finite differences and the answer key against torch (same process, "
                          "median of repeats)", kernels.all_figures(args.quick))
    finally:
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
