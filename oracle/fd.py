"""Witness 3: finite differences through the implementation's own forward pass.

The scalar checked is L(inputs) = <dout, f(inputs)>, whose gradient with
respect to an input is exactly what backward(dout) returns. Central differences
in float64:

    dL/dx_i ~ (L(x + h e_i) - L(x - h e_i)) / (2h),   h = 1e-5 * max(1, |x_i|)

Small inputs get every element (a full check). Larger ones get a few random
directions u instead, as in PyTorch's gradcheck fast mode: the implementation's
<grad, u> is compared with (L(x + h u) - L(x - h u)) / (2h), two forward calls
per direction instead of two per element. A wrong gradient g' != g fails such a
check unless <g' - g, u> happens to vanish, which a random u makes improbable.
"""
from dataclasses import dataclass

import numpy as np

from . import impl_runner
from .context import cast_data
from .seeding import rng_for

FULL_CHECK_MAX_ELEMENTS = 24   # above this, random projections
DIRECTIONS = 3                 # random directions per input in projection mode
RELATIVE_STEP = 1e-5


@dataclass
class Projection:
    """Directional derivatives of L along `directions` (one direction per row)."""
    directions: np.ndarray     # (k, *shape)
    values: np.ndarray         # (k,)

    def project(self, gradient):
        """<gradient, u_k> for each direction, to compare with `values`."""
        g = np.asarray(gradient, dtype=np.float64)
        return np.tensordot(self.directions, g, axes=g.ndim)


def _forwards(spec, ctx, base, extras):
    """forwards(name, values) -> for each value of array `name` (the other arrays as in
    `base`), {"out": the forward output, extra: the layer's extra output} for `extras`:
    one request to the implementation's party (its own process for a learner) per
    input, or calls in this process where there is none."""
    if ctx.party is not None:
        from .engine import Check
        check = Check(spec.name, ctx.case, "fd", ctx.device, "float64")
        return lambda name, values: ctx.party.forwards(check, ctx.seed, base, name, values,
                                                       extras)
    fd_ctx = type(ctx)(**{**ctx.__dict__, "data": base, "dtype": "float64"})

    def forwards(name, values):
        outputs = []
        for value in values:
            inputs, params = dict(base.inputs), dict(base.params)
            (inputs if name in inputs else params)[name] = value
            fd_ctx.data = type(base)(inputs=inputs, params=params, extra=base.extra)
            layer, out = impl_runner.forward(spec, fd_ctx)
            outputs.append({"out": out, **impl_runner.extra_outputs(spec, layer, extras)})
        return outputs
    return forwards


def _loss_function(spec, ctx):
    """losses(name, values) -> [L(arrays with `name` = value)], in float64, where
    L = sum(dout * forward(arrays)) + sum over the extra outputs the case gives an
    upstream gradient (h_n, c_n) of sum(d extra * extra)."""
    base = cast_data(ctx.data, "float64")
    dout = np.asarray(ctx.dout, dtype=np.float64)
    dextra = {k: np.asarray(v, dtype=np.float64) for k, v in ctx.dout_extra.items()}
    forwards = _forwards(spec, ctx, base, tuple(dextra))

    def loss(outputs):
        total = float((dout * np.asarray(outputs["out"], dtype=np.float64)).sum())
        return total + sum(float((d * np.asarray(outputs[k], dtype=np.float64)).sum())
                           for k, d in dextra.items())

    def losses(name, values):
        return [loss(outputs) for outputs in forwards(name, values)]

    return base, losses


def full_gradient(losses, name, x):
    """Every element: 2 forward calls each, all sent as one batch."""
    index = list(np.ndindex(x.shape))
    steps = [RELATIVE_STEP * max(1.0, abs(x[i])) for i in index]
    variants = []
    for i, h in zip(index, steps):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        variants += [plus, minus]
    values = losses(name, variants)
    grad = np.zeros_like(x)
    for k, (i, h) in enumerate(zip(index, steps)):
        grad[i] = (values[2 * k] - values[2 * k + 1]) / (2 * h)
    return grad


def projected_gradient(losses, name, x, rng):
    directions = rng.standard_normal((DIRECTIONS,) + x.shape)
    directions /= np.sqrt((directions ** 2).sum(axis=tuple(range(1, directions.ndim)),
                                                keepdims=True))
    h = RELATIVE_STEP * max(1.0, float(np.abs(x).max(initial=0.0)))
    values = losses(name, [v for u in directions for v in (x + h * u, x - h * u)])
    return Projection(directions, np.array([(values[2 * k] - values[2 * k + 1]) / (2 * h)
                                            for k in range(len(directions))]))


def run_layer(spec, ctx):
    base, losses = _loss_function(spec, ctx)
    result = {}
    for name, x in {**base.inputs, **base.params}.items():
        if x.size <= FULL_CHECK_MAX_ELEMENTS:
            result[f"grad:{name}"] = full_gradient(losses, name, x)
        else:
            rng = rng_for(ctx.seed, spec.name, ctx.case, "fd-directions", name)
            result[f"grad:{name}"] = projected_gradient(losses, name, x, rng)
    return result


def run(spec, ctx):
    return spec.runners.get("fd", run_layer)(spec, ctx)
