"""What the report shows about an op beyond its records: read from its spec and its class.

The spec (oracle.registry) gives the formulas, convention, cases and tolerance
overrides; the implementation module gives the class's source. Both are read
at render time; an op that this version does not know (a results file from
another version) gets a page with its records only.
"""
import os

import numpy as np


def formula_mathml(latex):
    """MathML for a LaTeX formula (no JavaScript needed to show it); None if it cannot convert."""
    try:
        from latex2mathml.converter import convert
        return convert(latex, display="block")
    except Exception:  # a formula the converter does not know: the page shows the LaTeX
        return None


def answer_key_classes(names=None):
    """The answer key's classes described in this process (trusted code; for results
    written before sources were recorded, and for runs of the answer key itself)."""
    from ..oracle import party, registry
    names = names or sorted({s.impl for s in registry.all_specs()} | {"Add", "Mul"})
    return party.ANSWER_KEY.describe(names)


def classes_of(meta):
    """{class name: description} recorded in the run's meta by the implementation's own
    process (oracle.party.describe); never found by importing the implementation here."""
    classes = meta.get("classes")
    if isinstance(classes, dict):
        return classes
    learner = meta.get("impls") or (meta.get("impl_name") not in (None, "impl"))
    return None if learner else answer_key_classes()


def class_source(classes, class_name):
    """(source text, where it is, what it owes the answer key) of the class; the source is
    None (and `where` says why) when it was not recorded."""
    if classes is None:
        return None, "the implementation's sources were not recorded in this run's results", ""
    entry = classes.get(class_name)
    if not isinstance(entry, dict):
        return None, f"the implementation has no {class_name}", ""
    note = entry.get("answer_key_note") or ""
    if entry.get("module_imports_answer_key") and not note:
        note = "its module imports backprop_oracle's answer key"
    if not entry.get("source"):
        return None, entry.get("source_missing") or f"source of {class_name} not available", note
    where = entry.get("file") or "?"
    try:
        rel = os.path.relpath(where)
        where = where if rel.startswith("..") else rel
    except ValueError:
        pass
    return entry["source"], f"{where}:{entry.get('line')}", note


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


def op_info(op, classes):
    """Everything the op page shows that is not a record; None if no spec of that name.
    `classes`: the recorded descriptions of the implementation's classes (classes_of)."""
    spec = _spec(op)
    if spec is None:
        return None
    source, where, answer_key_note = class_source(classes, spec.impl)
    return {
        "impl": spec.impl, "family": spec.family, "doc": spec.doc, "convention": spec.convention,
        "convention_ja": spec.convention_ja,
        "formulas": [(part, latex, formula_mathml(latex)) for part, latex in spec.formulas.items()],
        "cases": [{"name": c.name, "why": c.why, "why_ja": c.why_ja, "hparams": dict(c.hparams), "shapes": _shapes(c),
                   "oracles": c.oracles} for c in spec.cases],
        "golden": [{"name": g.name, "source": g.source, "expected": g.expected}
                   for g in spec.golden],
        "overrides": overrides_of(spec),
        "unavailable": dict(spec.unavailable), "unavailable_ja": dict(spec.unavailable_ja),
        "source": source, "source_where": where, "answer_key_note": answer_key_note,
        # the op's prose that a skipped record's message cites, in Japanese
        "words_ja": {**{c.why: c.why_ja for c in spec.cases if c.why and c.why_ja},
                     **{why: spec.unavailable_ja[k] for k, why in spec.unavailable.items()
                        if spec.unavailable_ja.get(k)}},
    }


def overrides_of(spec):
    return [{"op": spec.name, "key": key, "rtol": o.rtol, "atol": o.atol, "reason": o.reason,
             "reason_ja": o.reason_ja}
            for key, o in spec.overrides.items()]


def tolerance_policy():
    """The policy table, its reasons (tolerance.WHY) and every override of every spec."""
    from ..oracle import registry, tolerance
    specs = registry.all_specs()
    return {
        "policy": dict(tolerance.POLICY),
        "overrides": [o for s in specs for o in overrides_of(s)],
        "unavailable": [{"op": s.name, "oracle": k, "why": v, "why_ja": s.unavailable_ja.get(k, "")}
                        for s in specs for k, v in s.unavailable.items()],
    }
