"""Run one check: one (op, case, oracle, device, dtype), one record per quantity.

The same case arrays (seeded by seed, op and case only) and the same upstream
gradient go to the implementation under test and to the witness; every
quantity the witness computes is compared, with the tolerance of the policy
table or of the spec's override.
"""
import os
import time
import traceback
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import impl as reference_impl
from . import fd, impl_runner, jax_oracle, mistakes, party as parties, records, registry, torch_oracle
from .compare import compare
from .diagnose import Diagnosis
from .context import Context, cast, cast_data
from .errors import NotAttempted, Unavailable
from .seeding import rng_for
from .spec import Golden
from .tolerance import Tolerance, tolerance


def golden_values(spec, ctx):
    """The witness of a worked example: the values the teaching notes print."""
    return {k: np.asarray(v, dtype=np.float64) for k, v in spec.case(ctx.case).expected.items()}


# The witnesses, one registry: name -> fn(spec, ctx) -> {quantity: array | fd.Projection}.
# fd reaches the implementation's forward through ctx.party; the others never call it.
WITNESSES = {"torch": torch_oracle.run, "jax": jax_oracle.run, "fd": fd.run,
             "golden": golden_values}


@dataclass(frozen=True)
class Check:
    op: str
    case: str
    oracle: str
    device: str
    dtype: str

    @property
    def id(self):
        return f"{self.op}-{self.case}-{self.oracle}-{self.device}-{self.dtype}"


@lru_cache(maxsize=512)
def case_data(op, case, seed):
    """The case's float64 arrays: a function of (seed, op, case) alone."""
    spec = registry.get(op)
    return spec.case(case).make(rng_for(seed, op, case, "inputs"))


@lru_cache(maxsize=512)
def upstream_gradients(op, case, seed, dtype):
    """(dout, {extra: d extra}): standard normal, shaped like the answer key's forward
    output and like the extra outputs the case names in `upstream` (each its own stream)."""
    spec = registry.get(op)
    c = spec.case(case)
    ctx = Context(cast_data(case_data(op, case, seed), dtype), dict(c.hparams), None, dtype,
                  module=reference_impl, seed=seed, case=case)
    shape, extra_shapes = impl_runner.output_shapes(spec, ctx, c.upstream)
    if shape is None:
        return None, {}
    dout = cast(rng_for(seed, op, case, "dout").standard_normal(shape), dtype)
    return dout, {name: cast(rng_for(seed, op, case, "dout", name).standard_normal(s), dtype)
                  for name, s in extra_shapes.items()}


def upstream_gradient(op, case, seed, dtype):
    """dout: standard normal, shaped like the answer key's forward output."""
    return upstream_gradients(op, case, seed, dtype)[0]


def context(check, seed, party=None):
    """What a witness of `check` is given (fresh casts of the cached case arrays)."""
    party = as_party(party)
    spec = registry.get(check.op)
    c = spec.case(check.case)
    module = party.module if isinstance(party, parties.InProcess) else None
    if isinstance(c, Golden):
        return Context(data=None, hp={}, dout=None, dtype=check.dtype, device=check.device,
                       module=module, seed=seed, case=check.case, party=party)
    dout, dout_extra = upstream_gradients(check.op, check.case, seed, check.dtype)
    return Context(data=cast_data(case_data(check.op, check.case, seed), check.dtype),
                   hp=dict(c.hparams), dout=dout, dtype=check.dtype, device=check.device,
                   module=module, seed=seed, case=check.case, dout_extra=dict(dout_extra),
                   party=party)


_in_process_parties = {}


def as_party(implementation):
    """A Party for `implementation`: a Party itself, None (the answer key), or a module
    (called in this process: tests' planted modules; the plugin never passes one)."""
    if implementation is None or implementation is reference_impl:
        return parties.ANSWER_KEY
    if isinstance(implementation, parties.Party):
        return implementation
    key = id(implementation)
    if key not in _in_process_parties:   # holds the module: its id cannot be reused
        _in_process_parties[key] = (implementation, parties.InProcess(implementation))
    return _in_process_parties[key][1]


_impl_results = {}


def implementation_result(check, seed, party=None):
    """The party's quantities for (op, case, dtype, seed), computed once per process:
    {quantity: array | party.Invalid}, or NotAttempted, or party.Failed."""
    party = as_party(party)
    key = (check.op, check.case, seed, check.dtype, party.key)
    if key not in _impl_results:
        _impl_results[key] = _compute(check, seed, party)
    return _impl_results[key]


def _compute(check, seed, party):
    spec = registry.get(check.op)
    if isinstance(spec.case(check.case), Golden):
        return party.golden(check)
    data = cast_data(case_data(check.op, check.case, seed), check.dtype)
    dout, dout_extra = upstream_gradients(check.op, check.case, seed, check.dtype)
    return party.quantities(check, seed, data, dout, dout_extra)


HARNESS_DIRS = ("/oracle/", "/conformance/", "/_pytest/", "/pluggy/",
                "/backprop_oracle/api.py")   # check()'s wrapper of the pair
LIBRARY_DIRS = ("/site-packages/", "/dist-packages/", "/lib/python")


def _relative(path):
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def error_excerpt(err, limit=3):
    """Where the implementation went wrong: its own frames (file:line, the code) and the error.

    Frames of the harness (oracle/, conformance/ and its adapters, pytest) are left
    out; so are library frames (NumPy's), unless nothing else is left, so that the
    last line shown is the implementation's own line.
    """
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if not any(d in f.filename.replace("\\", "/") for d in HARNESS_DIRS)]
    own = [f for f in frames if not any(d in f.filename.replace("\\", "/") for d in LIBRARY_DIRS)]
    shown = own or frames or traceback.extract_tb(err.__traceback__)[-1:]   # e.g. in an adapter
    lines = [f"{_relative(f.filename)}:{f.lineno} in {f.name}: {(f.line or '').strip()}"
             for f in shown[-limit:]]
    lines.append(f"{type(err).__name__}: {err}")
    return "\n".join(lines)


_record = records.make   # the one constructor of a record (oracle/records.py)


def _compare_all(check, spec, actual, expected, hints, seconds, where=None, optional=()):
    """One record per quantity; `where` (the check's Context, or the Golden example) lets
    a failing record's diagnosis run the op's catalogue of mistakes on the same case.
    `optional`: the case's extra outputs checked only where the layer keeps them."""
    tol = tolerance(spec, check.oracle, check.dtype)
    found = []
    for quantity, want in expected.items():
        if quantity not in actual and quantity.startswith("out:") and quantity[4:] in optional:
            found.append(_record(check, spec, "skipped", quantity, seconds=seconds,
                                 message=f"the layer keeps no {quantity[4:]}: "
                                         f"case {check.case!r} checks it only where the layer does"))
            continue
        if quantity not in actual:
            found.append(_record(check, spec, "fail", quantity, tol=tol, seconds=seconds,
                                 message=f"the implementation returned no {quantity}"))
            continue
        got = actual[quantity]
        if isinstance(got, parties.Invalid):
            found.append(_record(check, spec, "error", quantity, tol=tol, seconds=seconds,
                                 message=f"the implementation returned {got.what} as "
                                         f"{quantity}, not an ndarray of a real dtype"))
            continue
        if isinstance(want, fd.Projection):
            if np.shape(got) != want.directions.shape[1:]:
                cmp = compare(got, np.zeros(want.directions.shape[1:]), tol, hints, quantity)
                cmp.diagnosis = f"wrong shape: {np.shape(got)}, expected {want.directions.shape[1:]}"
            else:
                cmp = compare(want.project(got), want.values, tol, hints, "")
            message = f"{len(want.values)} random directional derivatives"
        else:
            cmp, message = compare(got, want, tol, hints, quantity, check.dtype), ""
        if not cmp.passed and where is not None and not cmp.diagnosis.startswith("not a numeric"):
            cmp.diagnosed(diagnosis_of_failure(spec, where, quantity, actual, want, tol, hints,
                                               check.dtype))
        found.append(_record(check, spec, "pass" if cmp.passed else "fail", quantity, message,
                             tol, cmp, seconds))
    return found


def diagnosis_of_failure(spec, where, quantity, actual, want, tol, hints, dtype):
    """The hook where a failing comparison gets its diagnosis: the op's catalogue of
    mistakes on the same case, else the structural rules (oracle/mistakes.py)."""
    try:
        return mistakes.diagnose_failure(spec, where, quantity, actual[quantity], want, tol,
                                         hints, dtype, actual)
    except Exception as err:   # a diagnosis must never cost the record
        return Diagnosis(f"(no diagnosis: {type(err).__name__}: {err})",
                         f"（診断できず: {type(err).__name__}: {err}）")


def _hints(spec, ctx):
    return spec.hints(ctx.data, ctx.hp) if spec.hints and ctx.data is not None else {}


# A case with a zero-size array (zero input features, an empty batch) holds the answer
# key to torch's edge forms; the code learners write (x.reshape(-1, D), say) may fairly
# refuse it. An exception there is "not attempted", named; a wrong value still fails.
ZERO_SIZE_NOTE = ("a zero-size case (an edge form the answer key is held to; your code "
                  "need not handle it) raised:\n")


def _zero_size(check, seed):
    if isinstance(registry.get(check.op).case(check.case), Golden):
        return False
    data = case_data(check.op, check.case, seed)
    return any(np.size(v) == 0 for part in (data.inputs, data.params, data.extra)
               for v in part.values())


def run_check(check, party=None, seed=0):
    """Every record of one check. Never raises for the implementation's errors.

    `party`: an oracle.party.Party (the plugin's), None for the answer key, or a module
    to call in this process (tests)."""
    party = as_party(party)
    spec = registry.get(check.op)
    case = spec.case(check.case)
    applies, why = spec.applies(case, check.oracle)
    if not applies:
        return [_record(check, spec, "skipped", message=why)]
    start = time.perf_counter()
    actual = implementation_result(check, seed, party)
    if isinstance(actual, NotAttempted):
        return [_record(check, spec, "not_attempted", message=str(actual))]
    if isinstance(actual, (parties.Failed, Exception)):
        message = actual.message if isinstance(actual, parties.Failed) else error_excerpt(actual)
        if not party.is_answer_key and _zero_size(check, seed):
            return [_record(check, spec, "not_attempted", message=ZERO_SIZE_NOTE + message)]
        return [_record(check, spec, "error", message=message)]
    ctx = context(check, seed, party)
    if not isinstance(case, Golden):
        start = time.perf_counter()
    try:
        expected = WITNESSES[check.oracle](spec, ctx)
    except Unavailable as err:
        return [_record(check, spec, "skipped", message=str(err))]
    except NotAttempted as err:
        return [_record(check, spec, "not_attempted", message=str(err))]
    except parties.Failed as err:       # the implementation's forward, called by the witness
        return [_record(check, spec, "error", message=f"{check.oracle}: {err.message}")]
    except Exception as err:
        return [_record(check, spec, "error",
                        message=f"the {check.oracle} oracle itself failed:\n{error_excerpt(err)}")]
    where = case if isinstance(case, Golden) else ctx   # for the catalogue of mistakes
    found = _compare_all(check, spec, actual, expected, _hints(spec, ctx),
                         time.perf_counter() - start, where, getattr(case, "optional", ()))
    return found + (compare_witnesses(check, spec, ctx, expected)
                    if not isinstance(case, Golden) else [])


# -- the witnesses against each other ----------------------------------------------
# torch and jax compute every quantity of the same (op, case, device, dtype) from the
# same arrays. The jax check also compares jax with torch: torch's result comes from
# this process's torch check of that case if it ran here, else torch is run now (it
# is cheap; skipped quietly where torch cannot run). The record (one per check, its
# worst quantity) has oracle "torch~jax": a finding about the frameworks, which never
# fails a check.
CROSS_PAIRS = (("torch", "jax"),)
_first_witness_results = {}


def cross_oracle(pair):
    return "~".join(pair)


def compare_witnesses(check, spec, ctx, expected):
    """Records of the pairs whose second witness this check ran (and keeps the first's)."""
    key = (check.op, check.case, ctx.seed, check.device, check.dtype)
    records = []
    for first, second in CROSS_PAIRS:
        if check.oracle == first:
            _first_witness_results[key] = expected
            while len(_first_witness_results) > 64:  # partners on another worker, or none
                del _first_witness_results[next(iter(_first_witness_results))]
        elif check.oracle == second:
            reference = _first_witness_results.pop(key, None) or _run_quietly(first, spec, ctx)
            if reference is not None:
                records += _compare_pair(check, spec, (first, second), reference, expected)
    return records


def _run_quietly(oracle, spec, ctx):
    """A witness's result, or None where it does not apply or cannot run."""
    if not spec.applies(spec.case(ctx.case), oracle)[0]:
        return None
    try:
        return WITNESSES[oracle](spec, ctx)
    except Exception:
        return None


def _compare_pair(check, spec, pair, first, second):
    """One record: `second` against `first` at the larger of their tolerances, its worst
    quantity shown (one per quantity would double the records for a side finding)."""
    tols = [tolerance(spec, oracle, check.dtype) for oracle in pair]
    tol = Tolerance(max(t.rtol for t in tols), max(t.atol for t in tols),
                    "the larger of the two")
    compared = {}
    for quantity, want in first.items():
        got = second.get(quantity)
        if got is None or isinstance(want, fd.Projection) or isinstance(got, fd.Projection):
            continue
        compared[quantity] = compare(np.asarray(got), np.asarray(want), tol, {}, quantity)
    if not compared:
        return []
    beyond = [q for q, cmp in compared.items() if not cmp.passed]
    worst = max(compared, key=lambda q: (q in beyond, compared[q].margin or 0.0))
    message = (f"{len(compared)} quantities compared, the worst shown"
               + (f"; beyond tolerance: {', '.join(beyond)}" if beyond else ""))
    pair_check = Check(check.op, check.case, cross_oracle(pair), check.device, check.dtype)
    return [_record(pair_check, spec, "fail" if beyond else "pass", worst, message,
                    tol=tol, cmp=compared[worst])]


def all_checks(specs, oracles, devices, dtypes):
    """Every check, in a fixed order: the same on every worker and every machine."""
    checks = []
    for spec in specs:
        for case in list(spec.cases) + list(spec.golden):
            for oracle in oracles:
                if isinstance(case, Golden) != (oracle == "golden"):
                    continue
                for device in (devices if oracle in ("torch", "jax") else ("cpu",)):
                    for dtype in (dtypes if oracle != "golden" else ("float64",)):
                        checks.append(Check(spec.name, case.name, oracle, device, dtype))
    return checks
