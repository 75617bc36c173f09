"""python -m backprop_oracle.reports merge RUN_DIR... -o OUT_DIR  |  python -m backprop_oracle.reports render RUN_DIR [-o OUT_DIR]"""
import argparse
import os
import sys

from .merge import MergeError, merge, results_path
from .model import SchemaError, counts, load_results
from .publish import ReportDirError, check_replaceable
from .render import render_into


def _write(results, out_dir):
    """results.json and the HTML, rendered beside out_dir and swapped in in one step."""
    check_replaceable(out_dir)
    index = render_into(results, out_dir, lang=results["meta"].get("lang") or "en")
    return os.path.join(os.path.abspath(out_dir), "results.json"), index


def _summary(results, paths):
    line = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts(results["records"]).items())
    meta = results["meta"]
    partial = f"  [PARTIAL: {meta['partial_reason']}]" if meta.get("partial") else ""
    return f"records: {line}{partial}\nresults: {paths[0]}\nreport:  {paths[1]}"


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog or "python -m backprop_oracle.reports",
                                     description="Render or merge backprop-oracle results.")
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("merge", help="combine the results.json of several runs into one report")
    m.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories or results.json files")
    m.add_argument("-o", "--out", required=True, metavar="OUT_DIR")
    r = sub.add_parser("render", help="(re)render the report of one run")
    r.add_argument("run", metavar="RUN_DIR", help="a run directory or its results.json")
    r.add_argument("-o", "--out", metavar="OUT_DIR", help="default: the run directory")
    args = parser.parse_args(argv)
    try:
        if args.command == "merge":
            results, out = merge(args.runs), args.out
        else:
            path = results_path(args.run)
            results = load_results(path)
            out = args.out or os.path.dirname(os.path.abspath(path))
        print(_summary(results, _write(results, out)))
    except (MergeError, SchemaError, ReportDirError) as err:
        print(f"python -m backprop_oracle.reports {args.command}: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
