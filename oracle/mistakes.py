"""Name the mistake: run an op's catalogue of common mistakes on the failing case.

Each Mistake of a spec is the computation that mistaken code does. On a failure, the
quantities the mistake would produce for the same case arrays and the same upstream
gradient are compared with what the implementation under test returned; a mistake
whose result matches within the record's tolerance is named. This runs in the
grader's process, on the grader's own arrays: only the spec's code runs here.
"""
import types

import numpy as np

from . import impl_runner
from .compare import close


def mistaken_result(spec, mistake, ctx):
    """{quantity: array} of the mistaken computation on the case of `ctx`."""
    if mistake.compute is not None:
        return dict(mistake.compute(ctx.data, dict(ctx.hp), ctx.dout))
    namespace = types.SimpleNamespace(**{spec.impl: mistake.layer})
    mistaken_ctx = type(ctx)(**{**ctx.__dict__, "module": namespace})
    return impl_runner.run(spec, mistaken_ctx)


def matching_mistakes(spec, ctx, quantity, actual, tol, cache=None):
    """The mistakes of `spec` whose `quantity` matches `actual` within `tol`, in order.

    `cache` (a dict) keeps each mistake's result across the quantities of one check.
    A mistake that raises on this case, or does not produce this quantity, never matches.
    """
    found = []
    for mistake in spec.mistakes:
        key = mistake.name
        if cache is None or key not in cache:
            try:
                result = mistaken_result(spec, mistake, ctx)
            except Exception:          # a mistake that does not apply to this case
                result = {}
            if cache is not None:
                cache[key] = result
        else:
            result = cache[key]
        want = result.get(quantity)
        if want is None:
            continue
        with np.errstate(all="ignore"):
            if close(np.asarray(actual, dtype=np.float64), np.asarray(want, dtype=np.float64), tol):
                found.append(mistake)
    return found
