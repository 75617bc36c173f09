"""What the report shows about an op beyond its records: read from its spec and its class.

The spec (oracle.registry) gives the formulas, convention, cases and tolerance
overrides; the implementation module gives the class's source. Both are read
at render time; an op that this version does not know (a results file from
another version) gets a page with its records only.
"""
import importlib
import importlib.util
import inspect
import os
import sys

import numpy as np


def formula_mathml(latex):
    """MathML for a LaTeX formula (no JavaScript needed to show it); None if it cannot convert."""
    try:
        from latex2mathml.converter import convert
        return convert(latex, display="block")
    except Exception:  # a formula the converter does not know: the page shows the LaTeX
        return None


def load_module(name):
    """The implementation module named as by --impl (dotted name or .py path); None if it fails."""
    try:
        if name in (None, "impl"):
            from .. import impl
            return impl
        if name.endswith(".py") or os.sep in name:
            path = os.path.abspath(name)
            spec = importlib.util.spec_from_file_location(
                os.path.splitext(os.path.basename(path))[0], path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
        return sys.modules.get(name) or importlib.import_module(name)
    except Exception:
        return None


def class_source(module, class_name):
    """(source text, where it is) of the class, or (None, why not)."""
    if module is None:
        return None, "the implementation could not be imported while rendering"
    cls = getattr(module, class_name, None)
    if cls is None:
        return None, f"the implementation has no {class_name}"
    try:
        lines, first = inspect.getsourcelines(cls)
        where = os.path.relpath(inspect.getsourcefile(cls) or "?")
        return "".join(lines), f"{where}:{first}"
    except (OSError, TypeError) as err:
        return None, f"source of {class_name} not available ({err})"


def _shapes(case):
    try:
        data = case.make(np.random.default_rng(0))
    except Exception as err:
        return f"(cannot build: {type(err).__name__})"
    groups = (("", data.inputs), ("params ", data.params), ("extra ", data.extra))
    return "; ".join(label + ", ".join(f"{k} {tuple(np.shape(v))}" for k, v in arrays.items())
                     for label, arrays in groups if arrays)


def _spec(op):
    try:
        from ..oracle import registry
        return registry.get(op)
    except Exception:
        return None


def op_info(op, module):
    """Everything the op page shows that is not a record; None if no spec of that name."""
    spec = _spec(op)
    if spec is None:
        return None
    source, where = class_source(module, spec.impl)
    return {
        "impl": spec.impl, "family": spec.family, "doc": spec.doc, "convention": spec.convention,
        "formulas": [(part, latex, formula_mathml(latex)) for part, latex in spec.formulas.items()],
        "cases": [{"name": c.name, "why": c.why, "hparams": dict(c.hparams), "shapes": _shapes(c),
                   "oracles": c.oracles} for c in spec.cases],
        "golden": [{"name": g.name, "source": g.source, "expected": g.expected}
                   for g in spec.golden],
        "overrides": overrides_of(spec),
        "unavailable": dict(spec.unavailable),
        "source": source, "source_where": where,
    }


def overrides_of(spec):
    return [{"op": spec.name, "key": key, "rtol": o.rtol, "atol": o.atol, "reason": o.reason}
            for key, o in spec.overrides.items()]


def tolerance_policy():
    """The policy table, its reasons (the module docstring) and every override of every spec."""
    from ..oracle import registry, tolerance
    specs = registry.all_specs()
    return {
        "policy": dict(tolerance.POLICY),
        "reasons": inspect.getdoc(tolerance) or "",
        "overrides": [o for s in specs for o in overrides_of(s)],
        "unavailable": [{"op": s.name, "oracle": k, "why": v}
                        for s in specs for k, v in s.unavailable.items()],
    }
