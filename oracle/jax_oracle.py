"""Witness 2: JAX autodiff (jax.vjp) with float64 enabled, on CPU and on GPU when present.

Each (op, hyperparameters) gets one jitted function that returns the output and
the vector-Jacobian product; jax.jit then compiles it once per shape and dtype,
so cases of one op and shape reuse the compiled code within a worker.
"""
import json

import numpy as np

from .errors import Unavailable
from .frameworks import TF32_DEVICE, require, jax as _lazy_jax, jax_matmul_precision, jax_precision

_compiled = {}


def _jax():
    _lazy_jax.config  # first access imports jax and enables float64
    return require("jax")


def device(name):
    jax = _jax()
    platform = {"cpu": "cpu", "cuda": "gpu", TF32_DEVICE: "gpu"}.get(name)
    if platform is None:
        raise Unavailable(f"jax oracle has no device {name!r}")
    try:
        return jax.devices(platform)[0]
    except RuntimeError as err:
        raise Unavailable(f"jax sees no {platform} device ({err})") from None


def _key(spec, hp, precision):
    return spec.name, json.dumps(hp, sort_keys=True, default=repr), precision


def vjp_function(spec, hp, precision="highest", upstream=()):
    """jit(arrays, extra, dout, dout_extra -> (out, extras, grads)) for one op,
    hyperparameters and matmul precision (TF32 is traced into its own function, never a
    cached IEEE one). `upstream` names the extra outputs that get an upstream gradient
    (dout_extra); the others are auxiliary outputs, not differentiated."""
    key = _key(spec, hp, precision) + (tuple(upstream),)
    if key not in _compiled:
        jax = _jax()

        def primal(arrays, extra):
            result = spec.jax(arrays, extra, hp)
            out, extras = result if isinstance(result, tuple) else (result, {})
            missing = [k for k in upstream if k not in extras]
            if missing:
                raise KeyError(f"op {spec.name!r}: the jax reference returns no {missing}, "
                               f"which the case gives an upstream gradient")
            seen = {k: v for k, v in extras.items() if k in upstream}
            return (out, seen), {k: v for k, v in extras.items() if k not in upstream}

        def out_and_vjp(arrays, extra, dout, dout_extra):
            with jax.default_matmul_precision(precision):
                (out, seen), pullback, aux = jax.vjp(lambda a: primal(a, extra), arrays, has_aux=True)
                (grads,) = pullback((dout.astype(out.dtype),
                                     {k: dout_extra[k].astype(v.dtype) for k, v in seen.items()}))
            return out, {**aux, **seen}, grads

        _compiled[key] = jax.jit(out_and_vjp)
    return _compiled[key]


def run_layer(spec, ctx):
    jax = _jax()
    dev = device(ctx.device)
    put = lambda tree: jax.device_put(tree, dev)
    arrays = put({**ctx.data.inputs, **ctx.data.params})
    extra = put(dict(ctx.data.extra))
    precision = jax_matmul_precision(ctx.device)
    upstream = tuple(ctx.dout_extra)
    out, extras, grads = vjp_function(spec, ctx.hp, precision, upstream)(
        arrays, extra, put(ctx.dout), put(dict(ctx.dout_extra)))
    result = {"out": np.asarray(out)}
    result.update({f"out:{k}": np.asarray(v) for k, v in extras.items()})
    result.update({f"grad:{k}": np.asarray(v) for k, v in grads.items()})
    return result


def run(spec, ctx):
    _jax()
    with jax_precision(ctx.device):   # custom runners get the column's precision too
        return spec.runners.get("jax", run_layer)(spec, ctx)
