"""Bad input across the whole catalogue: a clear error or a defined result, never a
silent broadcast.

For every layer op in the registry, the arrays of its first case are spoiled one
way at a time (probes):

    <arg>:size1     the last axis of size > 1 of one array shrunk to 1 (broadcastable!)
    <arg>:rank+1    one array given an extra leading axis of size 1 (broadcastable!)
    <arg>:rank-1    one array given one axis less (its first row)
    <arg>:int       an integer array where floats are needed (inputs and parameters)
    empty_batch     the leading (batch) axis of the inputs, and of the extras that
                    share it, set to 0
    nan             one element of the first input set to NaN

and the layer must either raise a clear error (its message names the layer class
and one of its arguments) or return a defined result:

- every gradient has exactly the shape of its input or parameter (a broadcast
  input gets a gradient of the broadcast shape: caught here),
- where the torch reference accepts the same arrays, the output has the torch
  output's shape; where torch refuses them, the layer must refuse them too,
- NaN propagates to the output wherever it does in the torch reference.

An integer array where floats are needed must always be an error. Ops whose
behaviour is legitimately different declare it in ALLOWED below, with the reason;
KNOWN_FINDINGS are failures of the current answer key, reported and expected to fail
(strict: the test says so once they are fixed).
"""
import warnings

import numpy as np
import pytest

from backprop_oracle import impl
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.engine import case_data
from backprop_oracle.oracle.spec import Golden

SEED = 0

# (op, probe) -> why the layer's behaviour legitimately differs from the rule above
ALLOWED = {
    ("hinge", "nan"): "torch's multi_margin_loss drops a NaN score (its margin test z > 0 is False "
                      "for NaN); the CS231n loss max(0, .) of the answer key propagates it, as "
                      "jnp.maximum does",
}

# (op, probe) -> the finding, for failures of the current answer key (xfail, strict)
# (op, "*") marks every probe of the op (not strict: some of its probes pass).
KNOWN_FINDINGS = {}   # none left: the last ones (empty-batch reshapes, composite names) are fixed


def layer_specs():
    return [s for s in registry.all_specs()
            if "impl" not in s.runners and any(not isinstance(c, Golden) for c in s.cases)]


def first_case(spec):
    """The spec's first case whose first input is an array (not a scalar), else its first."""
    cases = [c for c in spec.cases if not isinstance(c, Golden)]
    for case in cases:
        data = case_data(spec.name, case.name, SEED)
        if not data.inputs or np.ndim(next(iter(data.inputs.values()))) > 0:
            return case, data
    return cases[0], case_data(spec.name, cases[0].name, SEED)


def _arrays(data):
    return {**data.inputs, **data.params, **data.extra}


def _is_float(x):
    return np.issubdtype(np.asarray(x).dtype, np.floating)


def _replace(data, name, value):
    """A copy of the case data with one array replaced."""
    parts = [dict(data.inputs), dict(data.params), dict(data.extra)]
    for part in parts:
        if name in part:
            part[name] = value
    return type(data)(*parts)


def _size1(x):
    axes = [a for a in range(x.ndim) if x.shape[a] > 1]
    return None if not axes else np.take(x, [0], axis=axes[-1])


def _empty_batch(data):
    inputs = list(data.inputs.values())
    if not inputs or np.ndim(inputs[0]) == 0:
        return None
    n = np.shape(inputs[0])[0]
    shrink = lambda part: {k: (np.asarray(v)[:0] if np.ndim(v) and np.shape(v)[0] == n else v)
                           for k, v in part.items()}
    return type(data)(shrink(data.inputs), dict(data.params), shrink(data.extra))


def _with_nan(data):
    name = next((k for k, v in data.inputs.items() if _is_float(v) and np.size(v)), None)
    if name is None:
        return None
    x = np.array(data.inputs[name], dtype=np.float64)
    x.flat[0] = np.nan
    return _replace(data, name, x)


def probes(spec):
    """{probe name: spoiled CaseData} for one op."""
    _case, data = first_case(spec)
    found = {}
    for name, x in _arrays(data).items():
        x = np.asarray(x)
        if _size1(x) is not None:
            found[f"{name}:size1"] = _replace(data, name, _size1(x))
        if x.ndim:
            found[f"{name}:rank-1"] = _replace(data, name, x[0])
        found[f"{name}:rank+1"] = _replace(data, name, x[None])
        if _is_float(x) and name not in data.extra:
            found[f"{name}:int"] = _replace(data, name, np.round(3 * x).astype(np.int64))
    found["empty_batch"] = _empty_batch(data)
    found["nan"] = _with_nan(data)
    return {k: v for k, v in found.items() if v is not None}


def run_layer(spec, hp, data):
    """forward and backward(ones) through the answer key: (output, {name: gradient})."""
    layer = getattr(impl, spec.impl)(**data.params, **hp)
    out = layer.forward(*data.inputs.values(), *data.extra.values())
    grads = layer.backward(np.ones(np.shape(out)))
    names = list(data.inputs)
    if not names:        # only parameters (an embedding): backward's return is not a gradient
        grads = ()
    grads = dict(zip(names, (grads,) if len(names) == 1 else grads))
    grads.update({k: layer.grads.get(k) for k in data.params})
    return np.asarray(out), grads


def torch_output(spec, hp, data):
    """The torch reference's output on the same arrays, or an Exception if torch refuses them."""
    from backprop_oracle.oracle import torch_oracle
    dev = torch_oracle.device("cpu")
    leaves = {k: torch_oracle.to_tensor(np.asarray(v, dtype=np.float64), dev, True)
              for k, v in {**data.inputs, **data.params}.items()}
    extra = {k: torch_oracle.to_tensor(v, dev) for k, v in data.extra.items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch's "will likely lead to broadcasting"
            out, _ = torch_oracle.split_output(spec.torch(leaves, extra, hp))
        return torch_oracle.to_numpy(out)
    except Exception as err:  # torch refuses these arrays
        return err


def verdict(spec, probe, data, hp):
    """'' when the layer behaves (clear error or defined result), else what is wrong."""
    names = list(_arrays(data)) + ["dout"]
    reference = torch_output(spec, hp, data) if spec.torch and not probe.endswith(":int") else None
    try:
        with np.errstate(all="ignore"):   # 0/0 of a mean over an empty batch is NaN, as in torch
            out, grads = run_layer(spec, hp, data)
    except Exception as err:
        message = str(err)
        if any(c in message for c in layer_names(spec)) and \
                any(f"'{n}'" in message or f" {n} " in message for n in names):
            return ""
        return (f"unclear error {type(err).__name__}: {message[:200]!r} "
                f"(it should name {spec.impl} and one of {names})")
    if probe.endswith(":int"):
        return "accepted an integer array where floats are needed (no TypeError)"
    arrays = {**data.inputs, **data.params}
    wrong = {k: (np.shape(g), np.shape(arrays[k])) for k, g in grads.items()
             if g is None or np.shape(g) != np.shape(arrays[k])}
    if wrong:
        return "gradients of the wrong shape (a silent broadcast?): " + ", ".join(
            f"{k}: {got} for an input of shape {want}" for k, (got, want) in wrong.items())
    if probe == "nan":
        return nan_verdict(out, reference)
    if isinstance(reference, Exception):
        if probe != "empty_batch":
            return (f"accepted arrays that torch refuses ({type(reference).__name__}: "
                    f"{str(reference)[:120]}): a silent broadcast?")
    elif reference is not None:
        if np.shape(reference) != out.shape:
            return f"output of shape {out.shape}, torch gives {np.shape(reference)}"
    return ""


def nan_verdict(out, reference):
    """A NaN input must not vanish: it reaches the output wherever it does in torch (and
    everywhere when torch cannot say). Spreading NaN where torch does not is allowed."""
    torch_has_nan = (not isinstance(reference, np.ndarray)) or bool(np.isnan(reference).any())
    if torch_has_nan and not np.isnan(out).any():
        return "NaN in the input was swallowed: the output has none" + (
            ", torch propagates it" if isinstance(reference, np.ndarray) else "")
    return ""


def layer_names(spec):
    """Names an error may give for the layer: its class, or a base class that raised it
    (TimeAffine's weights are checked by Affine). A composite layer whose inner layer
    names itself and the argument (Conv1d's bias checked by its Conv2d) is clear enough:
    the argument is the learner's own."""
    cls = getattr(impl, spec.impl)
    return {k.__name__ for k in cls.__mro__ if k.__module__.startswith("backprop_oracle.impl")} | \
        {name for name in getattr(impl, "__all__", ()) if isinstance(getattr(impl, name, None), type)
         and name not in ("Layer", "ShapeError")}


def _params():
    params = []
    for spec in layer_specs():
        for probe in probes(spec):
            key = (spec.name, probe)
            marks = []
            if key in KNOWN_FINDINGS:
                marks = [pytest.mark.xfail(reason=KNOWN_FINDINGS[key], strict=True)]
            elif (spec.name, "*") in KNOWN_FINDINGS:
                marks = [pytest.mark.xfail(reason=KNOWN_FINDINGS[(spec.name, "*")], strict=False)]
            params.append(pytest.param(spec.name, probe, id=f"{spec.name}-{probe}", marks=marks))
    return params


@pytest.mark.parametrize("op, probe", _params())
def test_bad_input_gets_a_clear_error_or_a_defined_result(op, probe):
    if (op, probe) in ALLOWED:
        pytest.skip(ALLOWED[(op, probe)])
    spec = registry.get(op)
    case, _ = first_case(spec)
    problem = verdict(spec, probe, probes(spec)[probe], dict(case.hparams))
    assert not problem, f"{spec.impl} ({op}), probe {probe}: {problem}"


def test_every_layer_op_gets_every_kind_of_probe_that_applies():
    for spec in layer_specs():
        _case, data = first_case(spec)
        kinds = {p.split(":")[-1] for p in probes(spec)}
        wanted = {"rank+1"}
        if any(_is_float(v) for v in {**data.inputs, **data.params}.values()):
            wanted.add("int")
        if any(_is_float(v) and np.size(v) for v in data.inputs.values()):
            wanted.add("nan")
        if any(np.ndim(v) for v in data.inputs.values()):
            wanted |= {"rank-1", "empty_batch"}
        assert wanted <= kinds, f"{spec.name}: probes {sorted(kinds)}, expected {sorted(wanted)}"


def test_a_silent_broadcast_is_caught():
    """A layer that broadcasts y against x instead of refusing it fails the probe."""
    class BroadcastingAdd:
        def __init__(self):
            self.grads = {}

        def forward(self, x, y):
            self.shape = np.broadcast(x, y).shape
            return x + y

        def backward(self, dout):
            return dout, dout

    spec = registry.get("add")
    data = probes(spec)["y:size1"]
    original = impl.Add
    try:
        impl.Add = BroadcastingAdd
        problem = verdict(spec, "y:size1", data, {})
    finally:
        impl.Add = original
    assert "wrong shape" in problem and "y:" in problem


def test_allowlists_name_real_probes_with_reasons():
    ops = {s.name for s in layer_specs()}
    for table in (ALLOWED, KNOWN_FINDINGS):
        for (op, probe), reason in table.items():
            if op not in ops:
                continue   # an op not (yet) in this registry
            assert probe == "*" or probe in probes(registry.get(op)), f"{op}: no probe {probe}"
            assert len(reason) > 20


def test_an_error_that_does_not_name_the_layer_is_unclear():
    """numpy's own matmul error on a wrong shape does not tell the learner which layer."""
    class UncheckedAffine:
        def __init__(self, W, b):
            self.W, self.b, self.grads = W, b, {}

        def forward(self, x):
            return x @ self.W + self.b

    spec = registry.get("affine")
    original = impl.Affine
    try:
        impl.Affine = UncheckedAffine
        problem = verdict(spec, "x:size1", probes(spec)["x:size1"], {})
    finally:
        impl.Affine = original
    assert problem.startswith("unclear error ValueError")
