"""`backprop-oracle list`: the ops, their families, cases and witnesses."""
import argparse
import json
import sys

from .oracle import registry
from .oracle.spec import ORACLES


def catalogue():
    """One entry per op: its family, the class under test, its cases and the witnesses
    that check it (with the reason for each one that does not)."""
    ops = []
    for spec in registry.all_specs():
        cases = [{"name": c.name, "why": getattr(c, "why", "") or getattr(c, "source", ""),
                  "golden": not hasattr(c, "make")}
                 for c in list(spec.cases) + list(spec.golden)]
        witnesses = {o: ("checks" if o not in spec.unavailable else spec.unavailable[o])
                     for o in ORACLES if o != "golden" or spec.golden}
        ops.append({"op": spec.name, "family": spec.family, "class": spec.impl,
                    "cases": cases, "witnesses": witnesses})
    return ops


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog or "backprop-oracle list",
                                     description=__doc__.split("\n")[0].strip("`"))
    parser.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    parser.add_argument("--family", help="only the ops of this family")
    args = parser.parse_args(argv)
    ops = [o for o in catalogue() if args.family in (None, o["family"])]
    if args.json:
        json.dump(ops, sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    for family in sorted({o["family"] for o in ops}):
        print(f"{family}:")
        for o in (o for o in ops if o["family"] == family):
            absent = [w for w, v in o["witnesses"].items() if v != "checks"]
            note = f"  (not checked by {', '.join(absent)})" if absent else ""
            print(f"  {o['op']:<30} {o['class']:<26} {len(o['cases'])} cases{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
