"""`backprop-oracle list`: the ops, their families, cases and witnesses.

    backprop-oracle list                      one line per op, grouped by family
    backprop-oracle list --family loss        the ops of one family
    backprop-oracle list --op lstm,gru -v     with every case and the reason it exists
    backprop-oracle list --json               everything, for a program to read
"""
import argparse
import json
import sys

from .oracle import registry
from .oracle.spec import ORACLES, Golden


def _plain(value):
    """A JSON-able copy of a hyperparameter (tuples become lists, other objects their repr)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


def _case(spec, case):
    """One case: its name, why it exists, its hyperparameters, and the witnesses that check it."""
    golden = isinstance(case, Golden)
    witnesses = [o for o in ORACLES if spec.applies(case, o)[0]]
    entry = {"name": case.name, "golden": golden, "witnesses": witnesses}
    if golden:
        entry["why"] = case.source or "a worked example of the teaching notes"
        entry["expected"] = {q: _plain(getattr(v, "tolist", lambda: v)())
                             for q, v in case.expected.items()}
    else:
        entry["why"] = case.why
        entry["hparams"] = _plain(dict(case.hparams))
    return entry


def _witnesses(spec):
    """Each witness: "checks", or the reason it cannot check this op."""
    out = {}
    for oracle in ORACLES:
        if oracle == "golden":
            if spec.golden:
                out[oracle] = "checks"
        else:
            out[oracle] = spec.unavailable.get(oracle, "checks")
    return out


def describe(spec):
    """Everything the catalogue says about one op."""
    return {
        "op": spec.name, "family": spec.family, "class": spec.impl,
        "convention": spec.convention,
        "cases": [_case(spec, c) for c in list(spec.cases) + list(spec.golden)],
        "witnesses": _witnesses(spec),
        "tolerance_overrides": {k: {"rtol": o.rtol, "atol": o.atol, "reason": o.reason}
                                for k, o in spec.overrides.items()},
        "mistakes": [{"name": m.name, "says": m.says} for m in spec.mistakes],
    }


WITNESSES = {
    "torch": ("PyTorch autograd: the spec's torch function, torch.autograd.grad(out, leaves, dout)",
              "torch"),
    "jax": ("JAX autodiff: the spec's jax function, jax.vjp, jitted once per op and "
            "hyperparameters", "jax"),
    "fd": ("finite differences: central differences in float64 of <dout, forward(...)> through "
           "the implementation's own forward", None),
    "golden": ("worked examples of the teaching notes, with the values they print", None),
}


def witnesses():
    """{witness: {"what", "installed"}}: installed is found without importing a framework."""
    import importlib.util
    return {name: {"what": what,
                   "installed": True if module is None else importlib.util.find_spec(module) is not None}
            for name, (what, module) in WITNESSES.items()}


def document(entries):
    """What `list --json` prints: the ops (describe()), their families, the witnesses, counts."""
    families = {}
    for e in entries:
        families.setdefault(e["family"], []).append(e["op"])
    return {"schema": 1, "ops": entries, "families": families, "witnesses": witnesses(),
            "counts": {"ops": len(entries), "families": len(families),
                       "cases": sum(len(e["cases"]) for e in entries)}}


def catalogue(ops=None, family=None):
    """One entry per op (describe()), in the registry's order; `ops` names, `family` one family."""
    specs = registry.all_specs()
    if ops is not None:
        specs = [registry.get(name) for name in ops]       # KeyError names the unknown op
    if family is not None:
        if family not in registry.families():
            raise KeyError(f"no family named {family!r}; known families: "
                           f"{', '.join(registry.families())}")
        specs = [s for s in specs if s.family == family]
    return [describe(s) for s in specs]


def text(entries, verbose=False):
    """The catalogue as terminal lines, grouped by family."""
    lines = []
    for family in sorted({e["family"] for e in entries}):
        members = [e for e in entries if e["family"] == family]
        lines.append(f"{family} ({len(members)} ops):")
        for e in members:
            absent = [w for w, v in e["witnesses"].items() if v != "checks"]
            note = f"  (not checked by {', '.join(absent)})" if absent else ""
            lines.append(f"  {e['op']:<28} {e['class']:<26} {len(e['cases']):>2} cases{note}")
            if verbose:
                for w in absent:
                    lines.append(f"      {w}: {e['witnesses'][w]}")
                for c in e["cases"]:
                    why = f": {c['why']}" if c["why"] else ""
                    lines.append(f"      {c['name']} [{', '.join(c['witnesses'])}]{why}")
    n_cases = sum(len(e["cases"]) for e in entries)
    lines.append(f"{len(entries)} ops, {len({e['family'] for e in entries})} families, "
                 f"{n_cases} cases")
    return lines


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog or "backprop-oracle list",
                                     description="The ops, their families, cases and witnesses.",
                                     epilog="\n".join(__doc__.split("\n")[1:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true",
                        help="print the catalogue as JSON: {ops: per op its family, class, "
                             "convention, cases (why, hyperparameters, witnesses), witnesses (or "
                             "why not), tolerance overrides and known mistakes; families; "
                             "witnesses (what each is, whether installed); counts}")
    parser.add_argument("--family", help=f"only the ops of this family ({', '.join(registry.families())})")
    parser.add_argument("--op", help="comma-separated op names")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="every case, with its witnesses and why it exists")
    args = parser.parse_args(argv)
    ops = [o.strip() for o in args.op.split(",") if o.strip()] if args.op else None
    try:
        entries = catalogue(ops, args.family)
    except KeyError as err:
        parser.error(err.args[0])
    if args.json:
        json.dump(document(entries), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print("\n".join(text(entries, args.verbose)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
