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


def _loss_function(spec, ctx):
    """L(arrays) = sum(dout * forward(arrays)) + sum over the extra outputs the case gives
    an upstream gradient (h_n, c_n) of sum(d extra * extra), all in float64."""
    base = cast_data(ctx.data, "float64")
    dout = np.asarray(ctx.dout, dtype=np.float64)
    dextra = {k: np.asarray(v, dtype=np.float64) for k, v in ctx.dout_extra.items()}
    fd_ctx = type(ctx)(**{**ctx.__dict__, "data": base, "dtype": "float64"})

    def loss(name, value):
        inputs, params = dict(base.inputs), dict(base.params)
        (inputs if name in inputs else params)[name] = value
        fd_ctx.data = type(base)(inputs=inputs, params=params, extra=base.extra)
        layer, out = impl_runner.forward(spec, fd_ctx)
        total = float((dout * np.asarray(out, dtype=np.float64)).sum())
        if dextra:
            extras = spec.impl_extras(layer)
            for k in dextra:
                if k not in extras:
                    raise KeyError(f"{spec.impl} keeps no {k} after forward: the case gives {k} "
                                   f"an upstream gradient, which finite differences must include")
            total += sum(float((d * np.asarray(extras[k], dtype=np.float64)).sum())
                         for k, d in dextra.items())
        return total

    return base, loss


def full_gradient(loss, name, x):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        h = RELATIVE_STEP * max(1.0, abs(x[i]))
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        grad[i] = (loss(name, plus) - loss(name, minus)) / (2 * h)
    return grad


def projected_gradient(loss, name, x, rng):
    directions = rng.standard_normal((DIRECTIONS,) + x.shape)
    directions /= np.sqrt((directions ** 2).sum(axis=tuple(range(1, directions.ndim)),
                                                keepdims=True))
    h = RELATIVE_STEP * max(1.0, float(np.abs(x).max(initial=0.0)))
    values = np.array([(loss(name, x + h * u) - loss(name, x - h * u)) / (2 * h)
                       for u in directions])
    return Projection(directions, values)


def run_layer(spec, ctx):
    base, loss = _loss_function(spec, ctx)
    result = {}
    for name, x in {**base.inputs, **base.params}.items():
        if x.size <= FULL_CHECK_MAX_ELEMENTS:
            result[f"grad:{name}"] = full_gradient(loss, name, x)
        else:
            rng = rng_for(ctx.seed, spec.name, ctx.case, "fd-directions", name)
            result[f"grad:{name}"] = projected_gradient(loss, name, x, rng)
    return result


def run(spec, ctx):
    return spec.runners.get("fd", run_layer)(spec, ctx)
