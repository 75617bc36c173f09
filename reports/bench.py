"""Benchmark of the report: render time, size on disk, load time in headless Chromium.

    python -m backprop_oracle.reports.bench RUN_DIR [--ops N] [--lang ja]

Writes RUN_DIR's results.json (as a run writes it) and renders the HTML into a
temporary folder, and prints the figures against the targets: the whole report
(results.json included) under 5 MB, and results.json written and the HTML rendered in
under 3 s, judged on the first render in this process (as a run renders: templates
compiled, worked examples and formulas computed), with the median of 3 more beside it;
--ops N also extrapolates the size to a suite of N ops (from the mean per op). What a
run adds after its last check (reading the workers' records, the implementation's
description) is measured by the run itself: see the README's speed table.
"""
import argparse
import os
import statistics
import tempfile
import time

from .browser import Browser, Page, find_chromium
from .merge import results_path
from .model import load_results, write_results
from .render import render

SIZE_TARGET_MB, RENDER_TARGET_S = 5.0, 3.0


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def _load_times(paths, repeats=3):
    executable = find_chromium()
    if executable is None:
        return None
    with tempfile.TemporaryDirectory() as profile:
        browser = Browser(executable, profile)
        try:
            page = Page(browser)
            times = {}
            for path in paths:
                runs = [page.load(path) for _ in range(repeats)]
                times[path] = (statistics.median(ms for ms, _ in runs), runs[-1][1])
            return times
        finally:
            browser.close()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m backprop_oracle.reports.bench", description=__doc__.split("\n")[0])
    parser.add_argument("run", metavar="RUN_DIR")
    parser.add_argument("--ops", type=int, default=0, help="extrapolate the size to N ops")
    parser.add_argument("--lang", default="en", choices=("en", "ja"))
    args = parser.parse_args(argv)
    results = load_results(results_path(args.run))
    with tempfile.TemporaryDirectory() as out:
        source = os.path.join(out, "results.json")
        start = time.perf_counter()
        write_results(source, results["meta"], results["records"])
        written = time.perf_counter() - start
        runs, cpu = [], []
        for _ in range(4):
            start, start_cpu = time.perf_counter(), time.process_time()
            index = render(results, out, lang=args.lang)
            runs.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        # On a shared machine the wall time includes waiting for a core; the CPU time is the
        # render's own work. The target is judged on the wall time, as a user waits.
        first, first_cpu = written + runs[0], written + cpu[0]
        seconds, cpu_seconds = statistics.median(runs[1:]), statistics.median(cpu[1:])
        ops_dir = os.path.join(out, "ops")
        pages = sorted((p for p in os.listdir(ops_dir) if p.endswith(".html")),
                       key=lambda p: -os.path.getsize(os.path.join(ops_dir, p)))
        n_ops, total = len(pages), _size(out)
        html_size = total - _size(source)
        verdict = lambda ok: "under the target" if ok else "OVER THE TARGET"
        print(f"{len(results['records'])} records, {n_ops} ops: results.json written in "
              f"{written:.2f} s and the first render in {runs[0]:.2f} s: {first:.2f} s wall, "
              f"{first_cpu:.2f} s CPU (target {RENDER_TARGET_S:g} s: "
              f"{verdict(first < RENDER_TARGET_S)}; load average {os.getloadavg()[0]:.1f}); "
              f"a render again: {seconds:.2f} s wall, {cpu_seconds:.2f} s CPU (median of 3)")
        print(f"report {total / 1e6:.2f} MB with results.json (target {SIZE_TARGET_MB:g} MB: "
              f"{verdict(total / 1e6 < SIZE_TARGET_MB)}): results.json {_size(source) / 1e3:.0f} kB, "
              f"HTML and plots {html_size / 1e3:.0f} kB (index.html {_size(index) / 1e3:.0f} kB, "
              f"ops/ {_size(ops_dir) / 1e3:.0f} kB, largest page {pages[0]} "
              f"{_size(os.path.join(ops_dir, pages[0])) / 1e3:.0f} kB)")
        if args.ops:
            per_op = total / max(1, n_ops)
            print(f"extrapolated to {args.ops} ops: {per_op * args.ops / 1e6:.1f} MB "
                  f"with results.json ({per_op / 1e3:.0f} kB per op)")
        times = _load_times([index, os.path.join(ops_dir, pages[0])])
        if times is None:
            print("no Chromium found: load times not measured")
        for path, (ms, errors) in (times or {}).items():
            print(f"load {os.path.relpath(path, out)}: {ms:.0f} ms (median of 3), "
                  f"{len(errors)} console errors")


if __name__ == "__main__":
    main()
