"""Name the mistake: run an op's catalogue of common mistakes on the failing case.

Each Mistake of a spec is the computation that mistaken code does. On a failure, the
quantities the mistake would produce for the same case arrays, the same upstream
gradient and the same dtype are compared with what the implementation under test
returned; a mistake whose result matches within the record's tolerance is named.
When none matches, the structural rules (oracle/diagnose.py) speak.

This runs in the grader's process, on the grader's own arrays: only the spec's code
(subclasses of the answer key's classes, or functions of the case's arrays) runs here,
never the learner's.

A finite-difference record compares random projections, which say nothing about the
structure of an error; but the learner's full gradient is known, so the catalogue and
the rules compare it with the answer key's value on the same case (at the fd record's
tolerance). Where the learner's gradient agrees with the answer key and finite
differences still disagree, it is the learner's forward that computes another function.
"""
import types
from collections import OrderedDict

import numpy as np

from .. import impl as reference_impl
from . import fd, impl_runner
from .compare import close, margins
from .context import cast_data
from .diagnose import Diagnosis, explain
from .spec import Golden
from .tolerance import tolerance

CACHE_CASES = 32          # cases whose catalogue results are kept (one check's quantities,
_results = OrderedDict()  # and the torch, jax and fd checks of one case, share them)


def namespace(spec, layer):
    """The answer key's module with the class of `spec` replaced by `layer`."""
    names = {n: getattr(reference_impl, n) for n in dir(reference_impl) if not n.startswith("_")}
    names[spec.impl] = layer
    return types.SimpleNamespace(__name__=f"mistake:{spec.name}", **names)


def mistaken_result(spec, mistake, ctx):
    """{quantity: array} of the mistaken computation on the case of `ctx` (a Context, or a
    Golden example: its worked example run with the mistaken class)."""
    if isinstance(ctx, Golden):
        if mistake.layer is None:
            return {}
        return dict(ctx.run(namespace(spec, mistake.layer)))
    if mistake.compute is not None:
        return dict(mistake.compute(ctx.data, dict(ctx.hp), ctx.dout))
    mistaken_ctx = type(ctx)(**{**ctx.__dict__, "module": namespace(spec, mistake.layer)})
    return impl_runner.run(spec, mistaken_ctx)


def _key(spec, ctx):
    if isinstance(ctx, Golden):
        return (spec.name, "golden", ctx.name)
    # a case's arrays and dout are a function of (op, case, seed, dtype); a context made
    # by hand (no case name) is keyed by its arrays' identity
    return (spec.name, ctx.case, ctx.seed, ctx.dtype, ctx.case or id(ctx.data))


def _reference(spec, ctx):
    """The answer key's quantities on the same case."""
    if isinstance(ctx, Golden):
        return {k: np.asarray(v, dtype=np.float64) for k, v in ctx.expected.items()}
    return impl_runner.run(spec, type(ctx)(**{**ctx.__dict__, "module": reference_impl}))


def case_results(spec, ctx):
    """(the answer key's result, {mistake name: the mistake's result}) on the case of `ctx`.

    A compute entry gives only the quantities it changes: the others are the answer
    key's. An entry that raises on this case (it does not apply) gives nothing."""
    key = _key(spec, ctx)
    if key in _results:
        _results.move_to_end(key)
        return _results[key]
    try:
        reference = _reference(spec, ctx)
    except Exception:      # the answer key itself cannot run this case: nothing to compare
        reference = {}
    found = {}
    for mistake in spec.mistakes:
        try:
            result = mistaken_result(spec, mistake, ctx)
        except Exception:
            result = {}
        if result and mistake.compute is not None:
            result = {**reference, **result}
        found[mistake.name] = result
    _results[key] = (reference, found)
    while len(_results) > CACHE_CASES:
        _results.popitem(last=False)
    return _results[key]


def _as_array(value):
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _arranged(a, b):
    """`a` in `b`'s shape when only its leading axes are split or merged (the same last
    axis, as many numbers): the same numbers, the same mistake. db = dout is (2, 3, 5) from
    a learner who keeps the leading batch axes, (6, 5) from the catalogue's entry, which
    flattens them first. A (5, 1) against a (1, 5) is another shape, not another
    arrangement of the batch, and is left to the shape diagnosis."""
    if a.shape != b.shape and a.size == b.size and a.size and a.ndim and b.ndim \
            and a.shape[-1] == b.shape[-1]:
        return a.reshape(b.shape)
    return a


def _matches(value, want, tol, any_arrangement=False):
    """Whether `value` is `want` within `tol`; with any_arrangement, also in another shape
    of as many numbers (a learner's result against an entry's, never an entry against the
    right value: an entry that only changes the shape, keepdims, is a mistake)."""
    a, b = _as_array(value), _as_array(want)
    if a is None or b is None:
        return False
    with np.errstate(all="ignore"):
        return close(_arranged(a, b) if any_arrangement else a, b, tol)


def _margin(value, want, tol):
    a, b = _as_array(value), _as_array(want)
    if a is not None and b is not None:
        a = _arranged(a, b)
    if a is None or b is None or a.shape != b.shape or a.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        return float(margins(a, b, tol.rtol, tol.atol).max())


def matching_mistakes(spec, ctx, quantity, actual, tol, cache=None, expected=None, actual_all=None):
    """The mistakes of `spec` whose `quantity` matches `actual` within `tol`, most specific first.

    (`cache` is accepted for the callers of the first version: the results of each case
    are kept by this module, shared by every record and witness of the case.)

    A mistake whose result for this quantity equals `expected` (it does not change this
    quantity on this case) cannot explain a failure and never matches. Most specific:
    the one that matches the implementation's result on the most quantities
    (`actual_all`), then the closest, then the catalogue's order."""
    reference, results = case_results(spec, ctx)
    ranked = []
    for order, mistake in enumerate(spec.mistakes):
        result = results.get(mistake.name) or {}
        want = result.get(quantity)
        if want is None or isinstance(want, fd.Projection):
            continue
        # an entry that computes the right value here (the witness's, or the answer key's:
        # finite differences witness the implementation's own forward) explains nothing
        if expected is not None and _matches(want, expected, tol):
            continue
        if quantity in reference and _matches(want, reference[quantity], tol):
            continue
        if not _matches(actual, want, tol, any_arrangement=True):
            continue
        agree = sum(1 for q, v in (actual_all or {}).items()
                    if q in result and _matches(v, result[q], tol, any_arrangement=True))
        ranked.append((-agree, _margin(actual, want, tol), order, mistake))
    ranked.sort(key=lambda r: r[:3])
    return [m for *_rank, m in ranked]


def best_matches(spec, ctx, quantity, actual, tol, expected=None, actual_all=None):
    """The most specific matching mistakes: one, or several that this record cannot tell
    apart (they match the implementation's result on as many quantities)."""
    _reference_result, results = case_results(spec, ctx)
    found = matching_mistakes(spec, ctx, quantity, actual, tol, expected=expected, actual_all=actual_all)
    if not found:
        return []

    def agree(mistake):
        result = results.get(mistake.name) or {}
        return sum(1 for q, v in (actual_all or {}).items()
                   if q in result and _matches(v, result[q], tol, any_arrangement=True))

    best = agree(found[0])
    return [m for m in found if agree(m) == best]


def _entry(found):
    """The Diagnosis naming one entry, or the few that the record cannot tell apart."""
    if len(found) == 1:
        m = found[0]
        return Diagnosis(m.says, m.says_ja or m.says, m.name)
    shown = found[:3]
    return Diagnosis("one of these mistakes, which give the same result on this case: "
                     + "; or ".join(m.says for m in shown),
                     "次のどれか（このケースでは同じ結果になる）: "
                     + "。または ".join(m.says_ja or m.says for m in shown),
                     "|".join(m.name for m in shown))


# -- kinks: the derivative at exactly a kink is a convention -------------------------------
def _kinks(spec, ctx, quantity, shape):
    """Where the input of `quantity` sits exactly on a kink: 0, a bound, or its target."""
    if not quantity.startswith("grad:") or isinstance(ctx, Golden):
        return None
    name = quantity[len("grad:"):]
    x = {**ctx.data.inputs, **ctx.data.params}.get(name)
    if x is None or np.shape(x) != shape:
        return None
    x = np.asarray(x, dtype=np.float64)
    at = x == 0
    for bound in ("min_val", "max_val"):
        if bound in ctx.hp:
            at |= x == ctx.hp[bound]
    for value in ctx.data.extra.values():
        if np.shape(value) == shape and np.issubdtype(np.asarray(value).dtype, np.floating):
            at |= x == np.asarray(value, dtype=np.float64)
    return at if at.any() else None


def _kink_rule(spec, ctx, quantity, actual, expected, tol):
    a, b = _as_array(actual), _as_array(expected)
    if a is None or a.shape != b.shape or not np.all(np.isfinite(a)):
        return None
    at = _kinks(spec, ctx, quantity, a.shape)
    if at is None:
        return None
    wrong = margins(a, b, tol.rtol, tol.atol) > 1.0
    if not wrong.any() or (wrong & ~at).any():
        return None
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    return Diagnosis(
        f"wrong only at the kink: the {int(wrong.sum())} element(s) where the input sits exactly on "
        f"a kink (0, a bound, or equal to its target; first at {first}), right everywhere else. "
        f"The derivative there is a convention: the answer key follows PyTorch (the op's "
        f"convention says which), e.g. relu's mask is x > 0, not x >= 0",
        f"折れ点でだけ違う: 入力がちょうど折れ点（0、境界、または目標値と等しい）にある "
        f"{int(wrong.sum())} 要素（最初は {first}）だけが違い、ほかは正しい。そこでの微分は約束事で、"
        f"答えは PyTorch に従う（演算の convention を参照）。例: relu のマスクは x >= 0 ではなく x > 0")


# -- the hook: the diagnosis of one failing record ----------------------------------------
def diagnose_failure(spec, ctx, quantity, actual, expected, tol, hints, dtype=None,
                     actual_all=None):
    """The Diagnosis of a failing record: a catalogue entry that matches, else the rules.

    `ctx` is the check's Context (or the Golden example); `expected` the witness's value,
    or an fd.Projection, in which case the answer key's full value on the same case
    stands in for it."""
    actual_all = actual_all or {}
    fd_record = isinstance(expected, fd.Projection)
    reference = case_results(spec, ctx)[0].get(quantity)
    full = reference if fd_record else expected
    if full is None:
        return Diagnosis("", "")
    if reference is not None and _matches(actual, reference, tol):
        # right by the answer key, wrong by the witness: only finite differences, which
        # differentiate the implementation's own forward, can disagree so
        return _own_forward(spec, ctx, tol, actual_all)
    found = best_matches(spec, ctx, quantity, actual, tol, full, actual_all)
    if found:
        return _entry(found)
    found = _kink_rule(spec, ctx, quantity, actual, full, tol)
    if found:
        return found
    found = _float32_precision(spec, ctx, quantity, actual, full, tol, dtype)
    if found:
        return found
    found = explain(np.asarray(actual), full, tol, hints or {}, quantity, dtype)
    if fd_record and found.text:
        return Diagnosis(found.text + " (the full gradient against the answer key's on this case)",
                         found.text_ja + "（勾配全体を同じケースの答えの値と比べて）")
    return found


# -- float32 precision in a float64 check ---------------------------------------------------
def _float32_reference(spec, ctx):
    """The answer key's quantities on the same case computed in float32."""
    key = ("float32 of",) + _key(spec, ctx)
    if key not in _results:
        data32 = cast_data(ctx.data, "float32")
        dout32 = None if ctx.dout is None else np.asarray(ctx.dout, dtype=np.float32)
        ctx32 = type(ctx)(**{**ctx.__dict__, "data": data32, "dout": dout32, "dtype": "float32",
                             "module": reference_impl})
        try:
            _results[key] = impl_runner.run(spec, ctx32)
        except Exception:
            _results[key] = {}
        while len(_results) > CACHE_CASES:
            _results.popitem(last=False)
    return _results[key]


def _float32_precision(spec, ctx, quantity, actual, expected, tol, dtype):
    """A float64 result only as accurate as the answer key's in float32: float32 buffers."""
    if dtype != "float64" or isinstance(ctx, Golden) or getattr(actual, "dtype", None) == np.float32:
        return None     # a float32 array is said by the rules, with certainty
    a, b = _as_array(actual), _as_array(expected)
    want = _as_array(_float32_reference(spec, ctx).get(quantity))
    if a is None or want is None or a.shape != b.shape or want.shape != a.shape:
        return None
    tol32 = tolerance(spec, "torch", "float32")
    if not (_matches(a, want, tol32) and _matches(a, b, tol32)):
        return None
    # rounding errors have either sign; an eps or a constant moves every element one way
    with np.errstate(all="ignore"):
        toward = ((a - b) * np.sign(b))[margins(a, b, tol.rtol, tol.atol) > 1.0]
    if toward.size < 4 or min(np.sum(toward > 0), np.sum(toward < 0)) < 0.2 * toward.size:
        return None
    with np.errstate(all="ignore"):
        worst = float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
    return Diagnosis(
        f"errors of float32's size in a float64 check (max relative error {worst:.2g}; the answer "
        f"key computed in float32 agrees with it within float32's tolerance): usually a float32 "
        f"buffer or constant (dtype='f', np.float32) somewhere in the computation, or a small eps "
        f"of about that size",
        f"float64 の検査で float32 程度の誤差（最大相対誤差 {worst:.2g}。float32 で計算した答えと "
        f"float32 の許容誤差で一致する）: 計算の途中の float32 の配列か定数（dtype='f'、np.float32）"
        f"によることが多い。同じくらいの小さな eps のこともある")


def _float32_forward(out, reference_out, ctx):
    """Whether a float64 check's forward output is float32 (its dtype, or its values)."""
    if out is None or reference_out is None or getattr(ctx, "dtype", None) != "float64":
        return False
    if getattr(out, "dtype", None) == np.float32:
        return True
    a, b = _as_array(out), _as_array(reference_out)
    if a is None or b is None or a.shape != b.shape or a.size == 0:
        return False
    with np.errstate(all="ignore"):
        return bool(np.all(a.astype(np.float32).astype(np.float64) == a)
                    and not np.all(b.astype(np.float32).astype(np.float64) == b))


def _own_forward(spec, ctx, tol, actual_all):
    """fd disagrees with a backward that matches the answer key: the forward is off."""
    text = ("this gradient agrees with the answer key's on this case, but not with the finite "
            "differences of your own forward: your forward computes another function than the "
            "one your backward differentiates")
    text_ja = ("この勾配は同じケースの答えの値と一致するが、あなたの順伝播の有限差分とは一致しない: "
               "順伝播が、逆伝播で微分している関数とは別の関数を計算している")
    reference = case_results(spec, ctx)[0]
    out = actual_all.get("out")
    if _float32_forward(out, reference.get("out"), ctx):
        return Diagnosis(
            text + ": your forward's output is float32 (a buffer allocated with dtype='f', "
                   "np.float32) in a float64 check, and finite differences of a function rounded to "
                   "float32 are rounding noise; allocate with the input's dtype",
            text_ja + ": 順伝播の出力が float64 の検査で float32（dtype='f'、np.float32 で確保した配列）。"
                      "float32 に丸めた関数の有限差分は丸め誤差にすぎない。入力の dtype で確保する")
    # the forward's value is judged at the tolerance of an exact witness, not of fd
    tol = tolerance(spec, "torch", getattr(ctx, "dtype", "float64"))
    if out is not None and "out" in reference and not _matches(out, reference["out"], tol):
        found = best_matches(spec, ctx, "out", out, tol, reference["out"], actual_all)
        if found:
            entry = _entry(found)
            return Diagnosis(f"{text}: {entry.text}", f"{text_ja}: {entry.text_ja}", entry.mistake)
        text += " (see the record of out)"
        text_ja += "（out の記録を参照）"
    return Diagnosis(text, text_ja)
