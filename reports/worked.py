"""The worked example of an op page: its smallest case with every number of the forward
and the backward, as seed 000 prints the apple example, computed by the answer key.

    worked_example(spec) -> {"case": ..., "forward": [...], "backward": [...], ...} or None

The case is the spec's own case with the fewest numbers (its arrays at seed 0, float64),
run exactly as the suite runs it: the same arrays, the same upstream gradient dout, the
answer key's class built with the case's hyperparameters. The witnesses check that very
case, so the numbers shown are the ones torch, jax and finite differences agree with
(tests/test_worked.py checks them against a witness). Each array is printed in full up
to MAX_NUMBERS numbers; the partial templates/_worked.html needs nothing else.
"""
import numpy as np

SEED = 0
DTYPE = "float64"
MAX_NUMBERS = 240          # per array; a larger array is printed as its first numbers
PRECISION = 4              # significant digits printed


def _size(data):
    return sum(np.size(v) for part in (data.inputs, data.params, data.extra) for v in part.values())


def smallest_case(spec, seed=SEED):
    """(case, data) of the spec's case with the fewest numbers; None if it has only golden cases."""
    from ..oracle.engine import case_data
    from ..oracle.spec import Golden

    best, best_rank = None, None
    for case in spec.cases:
        if isinstance(case, Golden):
            continue
        data = case_data(spec.name, case.name, seed)
        rank = _teaching_rank(case, data)
        if best is None or rank < best_rank:
            best, best_rank = (case, data), rank
    return best


def _teaching_rank(case, data):
    """Smallest first, but a degenerate case teaches nothing: one with an empty array (zero
    features, an empty batch), a NaN or infinity, or only some witnesses (a kink, a tie)
    comes after every plain one."""
    arrays = [np.asarray(v) for part in (data.inputs, data.params, data.extra)
              for v in part.values()]
    empty = any(a.size == 0 for a in arrays)
    not_finite = any(np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all()
                     for a in arrays)
    return (empty or not_finite, case.oracles is not None, _size(data))


def format_array(value, precision=PRECISION, limit=MAX_NUMBERS):
    """An array as text, every number (up to `limit`), `precision` significant digits."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        return _number(arr.item(), precision)
    shown = arr if arr.size <= limit else arr.reshape(-1)[:limit]
    text = np.array2string(shown, max_line_width=96, threshold=limit + 1, separator=", ",
                           formatter={"float_kind": lambda v: _number(v, precision),
                                      "int": str, "bool": str})
    if arr.size > limit:
        text += f"\n... the first {limit} of {arr.size} numbers (row-major)"
    return text


def _number(v, precision):
    if isinstance(v, (bool, np.bool_)) or isinstance(v, (int, np.integer)):
        return str(v)
    return f"{v:.{precision}g}"


def _entry(name, value, role):
    arr = np.asarray(value)
    return {"name": name, "role": role, "shape": str(tuple(arr.shape)), "dtype": str(arr.dtype),
            "text": format_array(arr), "value": arr}


def _call_lines(spec, case, data, result):
    """How the answer key computed it, as code."""
    if "impl" in spec.runners:     # an update rule or an initializer: the spec's runner calls it
        hp = ", ".join(f"{k}={v!r}" for k, v in case.hparams.items())
        return [f"{spec.impl}({hp})  # applied to the arrays below as the suite applies it"]
    hp = "".join(f", {k}={v!r}" for k, v in case.hparams.items())
    params = ", ".join(data.params) if data.params else ""
    build = f"layer = {spec.impl}({'**params' if params else ''}{hp if params else hp[2:]})"
    args = ", ".join(list(data.inputs) + list(data.extra))
    grads = [k[len("grad:"):] for k in result if k.startswith("grad:") and k[5:] in data.inputs]
    lines = [build, f"out = layer.forward({args})"]
    if "dout" in result or grads:
        lines.append(f"{', '.join('d' + g for g in grads) or '_'} = layer.backward(dout)")
    if any(k[5:] in data.params for k in result if k.startswith("grad:")):
        lines.append("layer.grads  # " + ", ".join(f"d{p}" for p in data.params))
    return lines


def worked_example(spec, module=None, seed=SEED):
    """The worked example of `spec`, or None where there is nothing to work through (only
    golden cases, or the answer key cannot run the case)."""
    from .. import impl
    from ..oracle import impl_runner
    from ..oracle.context import Context, cast_data
    from ..oracle.engine import upstream_gradient

    found = smallest_case(spec, seed)
    if found is None:
        return None
    case, data = found
    ctx = Context(cast_data(data, DTYPE), dict(case.hparams), upstream_gradient(spec.name, case.name, seed, DTYPE),
                  DTYPE, module=module or impl, seed=seed, case=case.name)
    try:
        result = impl_runner.run(spec, ctx)
    except Exception:              # a case the answer key refuses (it is not one the suite passes)
        return None
    forward = [_entry(k, v, "input") for k, v in ctx.data.inputs.items()]
    forward += [_entry(k, v, "parameter") for k, v in ctx.data.params.items()]
    forward += [_entry(k, v, "extra") for k, v in ctx.data.extra.items()]
    outputs = [_entry(k.replace("out:", "") if k != "out" else "out", v, "output")
               for k, v in result.items() if k == "out" or k.startswith("out:")]
    backward = [] if ctx.dout is None else [_entry("dout", ctx.dout, "dout")]
    backward += [_entry("d" + k[len("grad:"):], v, "gradient") for k, v in result.items()
                 if k.startswith("grad:")]
    others = [_entry(k, v, "result") for k, v in result.items()
              if not (k == "out" or k.startswith("out:") or k.startswith("grad:"))]
    return {"op": spec.name, "impl": spec.impl, "case": case.name, "why": case.why, "why_ja": case.why_ja,
            "hparams": dict(case.hparams), "seed": seed, "dtype": DTYPE,
            "numbers": sum(np.size(e["value"]) for e in forward + outputs + backward + others),
            "code": _call_lines(spec, case, ctx.data, {**result, **({"dout": 1} if ctx.dout is not None else {})}),
            "forward": forward, "outputs": outputs + others, "backward": backward,
            "quantities": result}
