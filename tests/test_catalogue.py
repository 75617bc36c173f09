"""The catalogue of mistakes is the project's own mutation test.

For EVERY entry of EVERY op's catalogue (every family, found in the specs, so a new
op or entry is tested without listing it here), a learner whose result is that
mistaken computation is graded: the suite must fail it, and the diagnosis must name
that entry (or, where a record cannot tell them apart, a set of entries that includes
it). No record may name an entry whose result differs from the planted one's: a
diagnosis is only named when it matches.

Graded against torch in float64 (jax where torch cannot check the op) and the golden
worked examples: the cheapest witnesses, so that the whole catalogue takes well under
a minute. Each test is named op/entry, so the ids do not shift when an op is added.
"""
import numpy as np
import pytest

from backprop_oracle.oracle import engine, mistakes, registry
from backprop_oracle.oracle.compare import close
from backprop_oracle.oracle.engine import all_checks, run_check
from backprop_oracle.oracle.tolerance import tolerance

MY_FAMILIES = ("graph", "linear", "activation", "loss", "optim", "regularization", "init", "network")
MIN_ENTRIES = 2


def _entries():
    return [(spec.name, m.name) for spec in registry.all_specs() for m in spec.mistakes]


def _witnesses(spec):
    first = "torch" if spec.torch is not None or "torch" in spec.runners else "jax"
    return (first, "golden") if spec.golden else (first,)


def _learner(spec, mistake, monkeypatch):
    """A module whose class for `spec` does the mistake (a compute entry: the engine's
    implementation result is the answer key's with the mistake's quantities)."""
    if mistake.layer is not None:
        return mistakes.namespace(spec, mistake.layer)
    module = mistakes.namespace(spec, getattr(engine.reference_impl, spec.impl))
    real = engine.implementation_result

    def planted(check, seed, party=None):
        # the engine passes a Party; a module is wrapped in one Party per module (as_party)
        if engine.as_party(party) is not engine.as_party(module):
            return real(check, seed, party)
        ctx = engine.context(check, seed, engine.reference_impl)
        try:
            planted_result = mistake.compute(ctx.data, dict(ctx.hp), ctx.dout)
        except Exception as err:      # the mistaken code raises on this case: an error record
            return err
        return {**real(check, seed, engine.reference_impl), **planted_result}
    monkeypatch.setattr(engine, "implementation_result", planted)
    return module


def _names(record):
    return (record.get("mistake") or "").split("|") if record.get("mistake") else []


@pytest.mark.filterwarnings("ignore::RuntimeWarning")      # NaN and overflow are some mistakes' point
@pytest.mark.parametrize("op, entry", _entries(), ids=[f"{op}/{entry}" for op, entry in _entries()])
def test_every_entry_fails_the_suite_and_is_named(op, entry, monkeypatch):
    spec = registry.get(op)
    mistake = next(m for m in spec.mistakes if m.name == entry)
    module = _learner(spec, mistake, monkeypatch)
    checks = all_checks([spec], _witnesses(spec), ("cpu",), ("float64",))
    records = [r for c in checks for r in run_check(c, module) if "~" not in r["oracle"]]
    failing = [r for r in records if r["status"] in ("fail", "error")]
    assert failing, f"{op}/{entry} passes every check: the suite misses this mistake"
    named = [r for r in failing if entry in _names(r)]
    assert named, (f"{op}/{entry} fails, but no record names it: "
                   f"{sorted({(r['quantity'], r['diagnosis'] or r['message'][-80:]) for r in failing})}")
    for r in failing:
        for other in _names(r):
            if other != entry:
                _assert_indistinguishable(spec, r, mistake, other)


def _assert_indistinguishable(spec, record, planted, other):
    """A record naming another entry is honest only if the two give the same result there."""
    check = engine.Check(record["op"], record["case"], record["oracle"], record["device"], record["dtype"])
    if record["oracle"] == "golden":
        where = spec.case(record["case"])
    else:
        where = engine.context(check, 0, engine.reference_impl)
    _ref, results = mistakes.case_results(spec, where)
    a, b = results[planted.name].get(record["quantity"]), results[other].get(record["quantity"])
    tol = tolerance(spec, record["oracle"], record["dtype"])
    assert a is not None and b is not None and close(np.asarray(a, float), np.asarray(b, float), tol), \
        (f"{spec.name}/{planted.name}: the record {record['case']} {record['quantity']} names "
         f"{other}, whose result differs there: a false diagnosis")


@pytest.mark.parametrize("family", MY_FAMILIES)
def test_every_op_of_these_families_has_a_catalogue(family):
    thin = [(s.name, len(s.mistakes)) for s in registry.all_specs()
            if s.family == family and len(s.mistakes) < MIN_ENTRIES]
    assert not thin, f"ops of {family} with fewer than {MIN_ENTRIES} catalogue entries: {thin}"


def test_every_entry_says_it_in_both_languages():
    missing = [(s.name, m.name) for s in registry.all_specs() for m in s.mistakes
               if not m.says.strip() or not m.says_ja.strip()]
    assert not missing, f"entries without an English or a Japanese sentence: {missing}"


def test_the_answer_key_matches_no_entry():
    """Entries are mistakes: on every case, each changes some quantity of some case."""
    unchanged = []
    for spec in registry.all_specs():
        for mistake in spec.mistakes:
            if not any(_changes(spec, mistake, case) for case in spec.cases):
                unchanged.append(f"{spec.name}/{mistake.name}")
    assert not unchanged, f"entries that compute what the answer key computes on every case: {unchanged}"


def _changes(spec, mistake, case):
    check = engine.Check(spec.name, case.name, "torch", "cpu", "float64")
    ctx = engine.context(check, 0, engine.reference_impl)
    reference, results = mistakes.case_results(spec, ctx)
    result = results.get(mistake.name) or {}
    tol = tolerance(spec, "torch", "float64")
    with np.errstate(all="ignore"):
        return any(q in reference and not close(np.asarray(v, float), np.asarray(reference[q], float), tol)
                   for q, v in result.items())


def _names_used(fn):
    """Every name a function's code reads (attributes, globals), nested code included."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return set()
    stack, names = [code], set()
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    return names


def _members(cls, dunder=False):
    """(name, function or None) for what `cls` defines itself, properties and static
    methods unwrapped; `dunder`: with __init__ and the like."""
    for name, value in vars(cls).items():
        if name.startswith("__") and not dunder:
            continue
        for fn in (getattr(value, "__func__", None), getattr(value, "fget", None), value):
            if callable(fn):
                yield name, fn
                break
        else:
            yield name, None


def test_no_entry_overrides_what_the_answer_key_no_longer_has():
    """A mistake class that defines a method or attribute its answer-key class does not
    have, and that no code of the class calls, computes the answer key: the hook it
    overrides was removed (as `derivative` was from the activations). Structural, cheap."""
    dead = []
    for spec in registry.all_specs():
        key = getattr(engine.reference_impl, spec.impl, None) if spec.impl else None
        for mistake in spec.mistakes:
            layer = mistake.layer
            if not (isinstance(layer, type) and isinstance(key, type) and issubclass(layer, key)):
                continue
            chain = layer.__mro__[:layer.__mro__.index(key)]      # the mistake's own classes
            used = {n for cls in layer.__mro__ for _, fn in _members(cls, dunder=True)
                    for n in _names_used(fn)}
            dead += [f"{spec.name}/{mistake.name}: {cls.__name__}.{name}"
                     for cls in chain for name, _fn in _members(cls)
                     if not hasattr(key, name) and name not in used]
    assert not dead, ("catalogue entries define what the answer key no longer has and nothing "
                      f"calls, so they compute the answer key: {dead}")
