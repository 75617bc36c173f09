"""Run the implementation under test (the answer key, or a learner's module) on one case."""
import numpy as np

from .errors import NotAttempted


def layer_class(spec, module):
    cls = getattr(module, spec.impl, None)
    if cls is None:
        raise NotAttempted(f"{getattr(module, '__name__', module)} has no class {spec.impl}")
    return cls


def build(spec, ctx):
    return layer_class(spec, ctx.module)(**ctx.data.params, **ctx.hp)


def forward(spec, ctx, layer=None):
    layer = layer or build(spec, ctx)
    return layer, layer.forward(*ctx.data.inputs.values(), *ctx.data.extra.values())


def run_layer(spec, ctx):
    """forward, then backward(dout): {"out", "out:<extra>", "grad:<input>", "grad:<param>"}."""
    layer, out = forward(spec, ctx)
    grads = layer.backward(ctx.dout)
    names = list(ctx.data.inputs)
    if not names:                 # only parameters (an embedding): backward may return None
        grads = ()
    elif len(names) == 1:
        grads = (grads,)
    elif not isinstance(grads, (tuple, list)) or len(grads) != len(names):
        raise TypeError(f"{spec.impl}.backward must return {len(names)} gradients "
                        f"({', '.join(names)}) as a tuple, got {type(grads).__name__}")
    result = {"out": out}
    if spec.impl_extras:
        result.update({f"out:{k}": v for k, v in spec.impl_extras(layer).items()})
    result.update({f"grad:{n}": g for n, g in zip(names, grads)})
    for name in ctx.data.params:
        if name not in getattr(layer, "grads", {}):
            raise KeyError(f"{spec.impl}.backward left no gradient for parameter '{name}' "
                           f"in layer.grads (it has: {sorted(getattr(layer, 'grads', {}))})")
        result[f"grad:{name}"] = layer.grads[name]
    return result


def run(spec, ctx):
    runner = spec.runners.get("impl", run_layer)
    return runner(spec, ctx)


def output_shape(spec, ctx):
    """The shape of the reference forward output, which the upstream gradient takes."""
    if "impl" in spec.runners:
        return None
    if spec.upstream_shape is not None:
        return spec.upstream_shape(ctx.data, ctx.hp)
    _, out = forward(spec, ctx)
    return np.shape(out)
