"""Run the implementation under test (the answer key, or a learner's module) on one case."""
import inspect

import numpy as np

from .errors import NotAttempted


def layer_class(spec, module):
    cls = getattr(module, spec.impl, None)
    if cls is None:
        raise NotAttempted(f"{getattr(module, '__name__', module)} has no class {spec.impl}")
    return cls


def unknown_options(cls, hp):
    """The case's hyperparameters the class's constructor does not take (none when it takes
    **kwargs or its signature cannot be read)."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return []
    return [k for k in hp if k not in parameters]


def build(spec, ctx):
    cls = layer_class(spec, ctx.module)
    unknown = unknown_options(cls, ctx.hp)
    if unknown:   # an option of the answer key the learner's class does not offer
        raise NotAttempted(f"{spec.impl} takes no argument {', '.join(map(repr, unknown))}: this "
                           f"case is an option of the answer key ({', '.join(f'{k}={ctx.hp[k]!r}' for k in unknown)})")
    return cls(**ctx.data.params, **ctx.hp)


def constants(spec, ctx):
    """The names of the case's arrays held constant (Case.constants): forward gets them by
    keyword, and backward's gradients of them are not checked."""
    case = next((c for c in spec.cases if c.name == ctx.case), None)
    names = tuple(getattr(case, "constants", ()))
    extra = list(ctx.data.extra)
    if list(names) != extra[len(extra) - len(names):]:
        raise ValueError(f"op {spec.name!r}, case {ctx.case!r}: the constants {list(names)} "
                         f"must be the last arrays of extra, got extra {extra}")
    return names


def _by_keyword(method, names):
    """The names `method` takes by keyword (all of them when its signature cannot be read)."""
    if not names:           # most cases: no signature to read on every forward
        return set()
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return set(names)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return set(names)
    return {n for n in names if n in parameters
            and parameters[n].kind is not inspect.Parameter.POSITIONAL_ONLY}


def forward(spec, ctx, layer=None):
    """layer.forward(*inputs, *extra); the case's constants by keyword where forward takes
    them by that name (so an adapter can tell them from inputs), else in their place."""
    layer = layer or build(spec, ctx)
    keyword = _by_keyword(layer.forward, constants(spec, ctx))
    positional = [v for k, v in ctx.data.extra.items() if k not in keyword]
    return layer, layer.forward(*ctx.data.inputs.values(), *positional,
                                **{k: ctx.data.extra[k] for k in keyword})


def run_layer(spec, ctx):
    """forward, then backward(dout): {"out", "out:<extra>", "grad:<input>", "grad:<param>"}."""
    layer, out = forward(spec, ctx)
    grads = layer.backward(ctx.dout, *ctx.dout_extra.values())   # backward(dout, dh_n, dc_n)
    held = constants(spec, ctx)
    names = list(ctx.data.inputs) + list(held)   # the constants' gradients: not checked
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
    result.update({f"grad:{n}": g for n, g in zip(names, grads) if n not in held})
    for name in ctx.data.params:
        if name not in getattr(layer, "grads", {}):
            raise KeyError(f"{spec.impl}.backward left no gradient for parameter '{name}' "
                           f"in layer.grads (it has: {sorted(getattr(layer, 'grads', {}))})")
        result[f"grad:{name}"] = layer.grads[name]
    return result


def run(spec, ctx):
    runner = spec.runners.get("impl", run_layer)
    return runner(spec, ctx)


def extra_outputs(spec, layer, names):
    """{name: the layer's extra output} for `names` (of spec.impl_extras), after forward;
    KeyError naming the first the layer does not keep."""
    if not names:
        return {}
    extras = spec.impl_extras(layer)
    for k in names:
        if k not in extras:
            raise KeyError(f"{spec.impl} keeps no {k} after forward: the case gives {k} "
                           f"an upstream gradient, which finite differences must include")
    return {k: extras[k] for k in names}


def output_shape(spec, ctx):
    """The shape of the reference forward output, which the upstream gradient takes."""
    return output_shapes(spec, ctx, ())[0]


def output_shapes(spec, ctx, extras):
    """The shapes of the reference forward output and of the extra outputs `extras`
    (names of impl_extras), which their upstream gradients take."""
    if "impl" in spec.runners:
        return None, {}
    if spec.upstream_shape is not None:     # an op the answer key has no class for
        return spec.upstream_shape(ctx.data, ctx.hp), {}
    layer, out = forward(spec, ctx)
    values = spec.impl_extras(layer) if extras else {}
    missing = [name for name in extras if name not in values]
    if missing:
        raise KeyError(f"op {spec.name!r}: the case asks for an upstream gradient of "
                       f"{missing}, which the answer key's impl_extras does not give")
    return np.shape(out), {name: np.shape(values[name]) for name in extras}
