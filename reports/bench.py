"""Benchmark of the report: render time, size on disk, load time in headless Chromium.

    python -m backprop_oracle.reports.bench RUN_DIR [--ops N]

Renders RUN_DIR's results.json into a temporary folder and prints the figures;
--ops N also extrapolates the size to a suite of N ops (from the mean per op).
"""
import argparse
import os
import statistics
import tempfile
import time

from .browser import Browser, Page, find_chromium
from .merge import results_path
from .model import load_results
from .render import render


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
    args = parser.parse_args(argv)
    source = results_path(args.run)
    results = load_results(source)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        index = render(results, out)
        seconds = time.perf_counter() - start
        ops_dir = os.path.join(out, "ops")
        pages = sorted((p for p in os.listdir(ops_dir) if p.endswith(".html")),
                       key=lambda p: -os.path.getsize(os.path.join(ops_dir, p)))
        n_ops, html_size = len(pages), _size(out)
        print(f"{len(results['records'])} records, {n_ops} ops: rendered in {seconds:.2f} s")
        print(f"report {html_size / 1e3:.0f} kB (index.html {_size(index) / 1e3:.0f} kB, "
              f"ops/ {_size(ops_dir) / 1e3:.0f} kB, largest page {pages[0]} "
              f"{_size(os.path.join(ops_dir, pages[0])) / 1e3:.0f} kB), "
              f"results.json {_size(source) / 1e3:.0f} kB")
        if args.ops:
            per_op = (html_size + _size(source)) / max(1, n_ops)
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
