"""The Python API: grade a learner's layers, or check one forward/backward pair, from a
script or a notebook, with the engine, isolation and records of the pytest run.

    import backprop_oracle as bo
    result = bo.grade({"Affine": Affine, "Relu": Relu})        # classes defined in a notebook
    result = bo.grade("my_layers.py", ops=["affine"])         # a file, package or module name
    result = bo.check(forward, backward, {"x": x}, {"W": W, "b": b}, torch=torch_forward)

Both return a backprop_oracle.result.Result. torch and JAX are imported once per
Python process and stay loaded, with JAX's compiled functions; the learner's code runs
in a process of its own, started afresh for each call (see backprop_oracle/forked.py).

`backprop-oracle grade FILE` is grade() from the command line (main() below).
"""
import argparse
import datetime
import inspect
import itertools
import os
import platform
import sys
import types
from importlib import metadata

import numpy as np

from .conformance.adapters import STYLES
from .conformance.options import DEVICES, DTYPES, ORACLES, cuda_present, measured
from .oracle import engine, registry
from .oracle.engine import Check, all_checks
from .oracle.spec import CaseData, Case, OpSpec, Override
from .reports.i18n import LANGS, default_lang, t
from .result import Result

DEFAULT_TIMEOUT = 60.0        # seconds the implementation may take on one request


# -- what to run -------------------------------------------------------------------------
def _names(value, allowed, what):
    """The names chosen, in `allowed`'s order (the suite's), from None (every allowed one),
    a comma-separated str or an iterable of names."""
    if value is None:
        return tuple(allowed)
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    items = [v for v in items if v]
    unknown = [v for v in items if v not in allowed]
    if unknown or not items:
        said = f"unknown {', '.join(map(repr, unknown))}" if unknown else f"none given ({value!r})"
        raise ValueError(f"{what}: {said}; expected some of {', '.join(allowed)}")
    return tuple(v for v in allowed if v in items)


def _devices(devices):
    """The devices to check on, and why an absent one is absent (as the suite decides)."""
    if devices is not None:
        return _names(devices, DEVICES, "devices"), {}
    present, why = cuda_present()
    return (("cpu", "cuda"), {}) if present else (("cpu",), {"cuda": why})


def _selection(ops, oracles, dtypes, devices):
    known = [s.name for s in registry.all_specs()]
    chosen_ops = _names(ops, known, "ops")
    devices, absent = _devices(devices)
    return {"ops": chosen_ops, "oracles": _names(oracles, ORACLES, "oracles"),
            "dtypes": _names(dtypes, DTYPES, "dtypes"), "devices": devices,
            "devices_absent": absent}


def _checks(specs, selection):
    return [c for c in all_checks(specs, selection["oracles"], selection["devices"],
                                  selection["dtypes"]) if measured(c)]


# -- who answers ---------------------------------------------------------------------------
def _classes(namespace):
    """The classes (and functions, for the adapters' styles) of a dict or module namespace."""
    return {k: v for k, v in dict(namespace).items()
            if isinstance(k, str) and not k.startswith("__")
            and (isinstance(v, type) or callable(v) or isinstance(v, types.ModuleType))}


def _describe_impl(impl):
    if isinstance(impl, dict):
        names = sorted(k for k, v in impl.items() if isinstance(v, type) and not k.startswith("_"))
        what = "classes"
        if not names:       # CS231n's style: functions
            names = sorted(k for k, v in impl.items() if inspect.isfunction(v) and not k.startswith("_"))
            what = "functions"
        return f"your {what} ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''})"
    if isinstance(impl, types.ModuleType):
        return getattr(impl, "__file__", None) or impl.__name__
    return str(impl)


def _party(impl, style, timeout, memory_bytes):
    """The party for `impl`: the answer key in this process, or a process of its own."""
    from . import forked, impl as answer_key
    from .oracle import party
    if impl is None or impl is answer_key:
        return party.ANSWER_KEY
    if isinstance(impl, (str, os.PathLike)):
        return forked.for_target(os.fspath(impl), style, timeout, memory_bytes)
    if isinstance(impl, types.ModuleType):
        path = getattr(impl, "__file__", None)
        if path and not getattr(impl, "__path__", None) and path.endswith(".py"):
            return forked.for_target(path, style, timeout, memory_bytes)
        if getattr(impl, "__path__", None):       # a package: from its folder
            return forked.for_target(os.path.dirname(path), style, timeout, memory_bytes)
        return forked.for_namespace(_classes(vars(impl)), style, timeout, memory_bytes,
                                    label=impl.__name__)
    if isinstance(impl, dict):
        return forked.for_namespace(_classes(impl), style, timeout, memory_bytes,
                                    label=_describe_impl(impl))
    raise TypeError(f"impl: expected a module, a path (str), a dotted module name or a dict "
                    f"of classes, got a {type(impl).__name__}")


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _rerun_options(impl, style, seed, oracles, dtypes, devices, lang):
    """{"rerun_options": the suite's options that grade the same way} for the report's rerun
    commands, where `impl` is a file or a module the suite can load; nothing for classes in
    memory (no command can name them: the report then says --impl as it was described)."""
    if isinstance(impl, types.ModuleType):
        impl = getattr(impl, "__file__", None)
    if not isinstance(impl, (str, os.PathLike)):
        return {} if impl is not None else {"rerun_options": _selected(seed, oracles, dtypes,
                                                                        devices, lang)}
    words = ["--impl", os.fspath(impl)] + (["--impl-style", style] if style != "native" else [])
    return {"rerun_options": words + _selected(seed, oracles, dtypes, devices, lang)}


def _selected(seed, oracles, dtypes, devices, lang):
    words = ["--seed", str(seed)] if seed else []
    for flag, value in (("--oracle", oracles), ("--dtype", dtypes), ("--device", devices),
                        ("--lang", lang)):
        if value:
            words += [flag, value if isinstance(value, str) else ",".join(value)]
    return words


def _lang(lang):
    """The language asked for, or the locale's; a clear error for any other."""
    if lang is None:
        return default_lang()
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def _meta(impl, style, seed, selection, started, the_party, lang="en"):
    return {
        "impl": _describe_impl(impl) if impl is not None else "impl (the answer key)",
        "impl_name": impl if isinstance(impl, str) else ("impl" if impl is None else "(in memory)"),
        "impl_style": style,
        "adapter": (f"{style}: conformance/adapters/{style}.py" if style != "native" else "none"),
        "entry": "backprop_oracle.grade",
        "seed": seed, "oracles": list(selection["oracles"]), "devices": list(selection["devices"]),
        "devices_absent": selection["devices_absent"], "dtypes": list(selection["dtypes"]),
        "ops": list(selection["ops"]),
        "versions": {"python": platform.python_version(), "numpy": _version("numpy"),
                     "torch": _version("torch"), "jax": _version("jax"),
                     "backprop-oracle": _version("backprop-oracle")},
        "host": platform.node(), "platform": platform.platform(),
        "started": started, "finished": _now(),
        "protections": the_party.protections() if the_party is not None else {},
        "partial": False, "partial_reason": "", "lang": lang,
    }


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def run(checks, the_party, seed, progress=None):
    """Every record of `checks`, answered by `the_party`, in the pytest run's order."""
    records = []
    for check in checks:
        records += engine.run_check(check, the_party, seed)
        if progress:
            progress(check, records)
    return records


# -- grade ---------------------------------------------------------------------------------
def grade(impl, ops=None, oracles=None, dtypes=None, style="native", seed=0, *, devices=None,
          timeout=DEFAULT_TIMEOUT, memory_bytes=None, progress=None, lang=None):
    """Grade an implementation of the answer key's layers; returns a Result.

    impl: the implementation under test, as the suite's --impl takes it: a module, the
        path of a .py file or of a package folder, a dotted module name importable from
        the current folder, or a dict {class name: class} (the classes a notebook
        defines: `grade({"Affine": Affine})`, or `grade(globals())`). None grades the
        answer key itself.
    ops: op names (a list, or a comma-separated str); None: every op. An op whose class
        the implementation does not have is "not attempted", never a failure.
    oracles: witnesses among "torch", "jax", "fd", "golden"; None: all. One that is not
        installed is "skipped", with the reason.
    dtypes: "float64", "float32" (None: both). devices: "cpu", "cuda" (None: every device
        present, as the suite decides).
    style: "native" (the answer key's classes), "book" (『ゼロから作るDeep Learning』) or
        "cs231n" (forward/backward functions): an adapter maps the last two.
    seed: the seed of every case's data and upstream gradient (the suite's --seed).
    timeout: seconds the implementation may take on one case (0 or None: no limit);
        memory_bytes: its address-space limit beyond what its process starts with.
    progress: called as progress(check, records_so_far) after each check.
    lang: "en" or "ja", the language of print(result), the notebook's cell and
        result.write()'s report (None: ja under a Japanese locale, else en).

    The implementation runs in a process of its own (a fork of this one for classes in
    memory, which also serves files and modules: the harness is already loaded there),
    given fresh copies of the arrays; what comes back is validated as plain ndarrays.
    """
    if style not in STYLES:
        raise ValueError(f"style: expected one of {', '.join(STYLES)}, got {style!r}")
    lang_given, lang = lang, _lang(lang)
    selection = _selection(ops, oracles, dtypes, devices)
    specs = [registry.get(name) for name in selection["ops"]]
    started = _now()
    the_party = _party(impl, style, timeout, memory_bytes)
    try:
        records = run(_checks(specs, selection), the_party, seed, progress)
        meta = _meta(impl, style, seed, selection, started, the_party, lang)
        meta.update(_party_meta(the_party, specs))
        meta.update(_rerun_options(impl, style, seed, oracles, dtypes, devices, lang_given))
    finally:
        if not the_party.is_answer_key:
            the_party.close()
            _forget(the_party)
    return Result(records, meta, module=answer_key_module() if the_party.is_answer_key else None)


def answer_key_module():
    from . import impl
    return impl


def _party_meta(the_party, specs):
    """What the report says of the implementation (as the plugin's Run.party_meta): its
    classes' sources, recorded by its own process, and how it was isolated."""
    names = sorted({s.impl for s in specs})
    classes = the_party.describe(names)
    using = sorted(n for n, c in classes.items() if c.get("answer_key"))
    return {"classes": classes, "isolation": the_party.protections(),
            "uses_answer_key": [] if the_party.is_answer_key else using,
            "is_answer_key": the_party.is_answer_key}


def _forget(the_party, op=None):
    """Drop what this process cached for a party that is gone (and for an op made for one
    check() call), so that a notebook grading again and again does not grow."""
    for key in [k for k in engine._impl_results if k[-1] == the_party.key]:
        del engine._impl_results[key]
    if op is not None:
        from .oracle import jax_oracle
        for key in [k for k in jax_oracle._compiled if k[0] == op]:
            del jax_oracle._compiled[key]
        for key in [k for k in engine._first_witness_results if k[0] == op]:
            del engine._first_witness_results[key]


# -- check: one forward/backward pair ----------------------------------------------------
CHECK_FAMILY = "check"
CHECK_CASE = "given"
CHECK_CLASS = "Checked"
_check_count = itertools.count(1)


def _float_arrays(arrays, what):
    out = {}
    for name, value in dict(arrays or {}).items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{what}: names must be identifiers, got {name!r}")
        a = np.array(value, dtype=None, copy=True)
        if not np.issubdtype(a.dtype, np.floating):
            raise TypeError(f"{what}[{name!r}]: a floating array is differentiable, got dtype "
                            f"{a.dtype}; pass integer arrays (labels, indices) in extra=")
        out[name] = a.astype(np.float64)
    return out


def _gradients(grads, names, what):
    """The gradients returned by backward, as {name: array} in `names`' order."""
    if isinstance(grads, dict):
        missing = [n for n in names if n not in grads]
        if missing:
            raise KeyError(f"{what} returned no gradient for {', '.join(missing)} "
                           f"(it has: {', '.join(map(str, grads))})")
        return {n: grads[n] for n in names}
    if len(names) == 1 and not isinstance(grads, (tuple, list)):
        return {names[0]: grads}
    if not isinstance(grads, (tuple, list)) or len(grads) != len(names):
        raise TypeError(f"{what} must return {len(names)} gradients ({', '.join(names)}) as a "
                        f"tuple in that order or a dict, got "
                        f"{type(grads).__name__}{f' of {len(grads)}' if isinstance(grads, (tuple, list)) else ''}")
    return dict(zip(names, grads))


def _layer_class(forward, backward, input_names, param_names, hparam_names, cache):
    """forward/backward as a layer of the answer key's protocol (constructor: the params and
    hyperparameters; forward(*inputs, *extra); backward(dout); gradients of params in grads)."""
    n_inputs = len(input_names)
    differentiable = list(input_names) + list(param_names)

    class Checked:
        def __init__(self, **kwargs):
            self.params = {n: kwargs[n] for n in param_names}
            self.hp = {n: kwargs[n] for n in hparam_names}
            self.grads = {}

        def _arguments(self, args):
            return tuple(args[:n_inputs]) + tuple(self.params.values()) + tuple(args[n_inputs:])

        def forward(self, *args):
            self.arguments = self._arguments(args)
            out = forward(*self.arguments, **self.hp)
            if cache:
                if not isinstance(out, tuple) or len(out) != 2:
                    raise TypeError(f"with cache=True, {forward.__name__} must return "
                                    f"(out, cache), got {type(out).__name__}")
                out, self.cache = out
            return out

        def backward(self, dout):
            grads = (backward(dout, self.cache) if cache
                     else backward(dout, *self.arguments, **self.hp))
            named = _gradients(grads, differentiable, getattr(backward, "__name__", "backward"))
            self.grads = {n: named[n] for n in param_names}
            returned = [named[n] for n in input_names]
            if not returned:
                return None
            return returned[0] if len(returned) == 1 else tuple(returned)

    return Checked


def _batch_hint(inputs):
    """The diagnosis names a factor of the batch size N: the first input's leading axis,
    when it has more than one."""
    first = next(iter(inputs.values()))
    size = first.shape[0] if first.ndim >= 2 else None
    return lambda data, hp: {"batch_size": size} if size else {}


def _reference(fn, input_names, param_names):
    """A torch/jax function of the check's convention as the spec's (arrays, extra, hp) -> out."""
    if fn is None:
        return None
    order = list(input_names) + list(param_names)

    def reference(arrays, extra, hp):
        return fn(*[arrays[n] for n in order], *extra.values(), **hp)
    return reference


def check(forward, backward, inputs, params=None, *, extra=None, hparams=None, cache=False,
          torch=None, jax=None, oracles=None, dtypes=None, devices=None, seed=0, name=None,
          rtol=None, atol=None, timeout=DEFAULT_TIMEOUT, memory_bytes=None, lang=None):
    """Check a NumPy forward/backward pair, as torch.autograd.gradcheck does for autograd.

    The pair is checked by finite differences of its own forward (always) and, when
    given, against torch and jax references (torch.autograd.grad, jax.vjp of the same
    function), with the suite's tolerances, records and diagnoses; returns a Result.

    inputs: {name: array}: the differentiable arguments (floating arrays), in the order
        forward takes them. params: {name: array} (optional): more differentiable
        arguments, after the inputs (weights: the records call them grad:<name> too).
    extra: {name: array} (optional): non-differentiable arguments after those (labels,
        masks, indices). hparams: {name: value} (optional): keyword arguments of both.
    forward(*inputs, *params, *extra, **hparams) -> out
    backward(dout, *inputs, *params, *extra, **hparams) -> the gradients
    with cache=True (CS231n's style): forward(...) -> (out, cache) and
    backward(dout, cache) -> the gradients.
    The gradients: one array (one differentiable argument), a tuple in the order inputs
    then params, or a dict {name: array}. Wrap other signatures in a lambda.
    dout is drawn as the suite draws it: standard normal, shaped like forward's output,
    seeded by (seed, name); the finite differences differentiate <dout, forward(...)>.
    torch, jax: reference forwards with forward's signature, on torch tensors or jax
        arrays (hparams as keywords); each one given is a witness.
    oracles: a subset of the witnesses ("fd", "torch", "jax"); None: fd and those given.
    dtypes: "float64", "float32" (None: both: each input is cast from float64).
    devices: where the torch and jax references run: "cpu", "cuda" (None: every device
        present, as grade() and the suite decide); finite differences run on the CPU.
    rtol, atol: the tolerance of every witness instead of the policy table (the
        records say so).
    name: the op name in the records (default: forward's name).
    lang: as grade()'s.

    Like grade(), the pair runs in a process of its own, forked from this one.
    """
    lang = _lang(lang)
    inputs = _float_arrays(inputs, "inputs")
    params = _float_arrays(params, "params")
    extra = {k: np.array(v, copy=True) for k, v in dict(extra or {}).items()}
    hparams = dict(hparams or {})
    clash = set(inputs) & set(params) | (set(inputs) | set(params)) & (set(extra) | set(hparams))
    if clash:
        raise ValueError(f"names used twice among inputs, params, extra and hparams: "
                         f"{', '.join(sorted(clash))}")
    if not inputs and not params:
        raise ValueError("inputs: at least one differentiable array is needed")
    given = {"fd": True, "torch": torch is not None, "jax": jax is not None}
    if oracles is None:
        oracles = [o for o, ok in given.items() if ok]
    oracles = _names(oracles, ("torch", "jax", "fd"), "oracles")
    missing = [o for o in oracles if not given[o]]
    if missing:
        raise ValueError(f"oracles: {', '.join(missing)} asked for but no reference function "
                         f"given (pass {missing[0]}=...)")
    op = name or getattr(forward, "__name__", "check")
    if op == "<lambda>":
        op = "check"
    overrides = {}
    if rtol is not None or atol is not None:
        if rtol is None or atol is None:
            raise ValueError("give both rtol and atol, or neither")
        overrides = {o: Override(rtol, atol, "given to check()") for o in ("torch", "jax", "fd")}
    data = CaseData(inputs=inputs, params=params, extra=extra)
    case = Case(CHECK_CASE, make=lambda rng, d=data: CaseData(
        inputs={k: v.copy() for k, v in d.inputs.items()},
        params={k: v.copy() for k, v in d.params.items()},
        extra={k: np.array(v, copy=True) for k, v in d.extra.items()}),
        hparams=dict(hparams),
        why="the arrays given to check()")
    cls = _layer_class(forward, backward, list(inputs), list(params), list(hparams), cache)
    unavailable = {o: f"no {o} reference was given to check()" for o in ("torch", "jax")
                   if not given[o]}
    # A name of its own for this call: nothing cached for another call (case data, dout,
    # compiled JAX functions, the implementation's results) can answer for this one.
    spec = OpSpec(name=f"{op}#check{next(_check_count)}", family=CHECK_FAMILY, impl=CHECK_CLASS, cases=[case],
                  torch=_reference(torch, inputs, params), jax=_reference(jax, inputs, params),
                  unavailable=unavailable, overrides=overrides, hints=_batch_hint(inputs),
                  doc=inspect.getdoc(forward) or "")
    chosen_devices, absent = _devices(devices)
    selection = {"ops": (op,), "oracles": oracles, "dtypes": _names(dtypes, DTYPES, "dtypes"),
                 "devices": chosen_devices, "devices_absent": absent}
    from . import forked
    started = _now()
    with registry.temporary(spec):
        the_party = forked.for_namespace({CHECK_CLASS: cls}, "native", timeout, memory_bytes,
                                         label=f"{op} (check)")
        try:
            shape = _output_shape(the_party, spec, seed)
            spec.upstream_shape = lambda data, hp: () if shape is None else shape
            records = run(_checks([spec], selection), the_party, seed)
            meta = _meta(f"{op} (check)", "native", seed, selection, started, the_party, lang)
        finally:
            the_party.close()
            _forget(the_party, op=spec.name)
    for r in records:          # the op's name for this call only, back to the name asked for
        r["op"] = op
    meta.update(entry="backprop_oracle.check", impl_name="(in memory)", ops=[op],
                impl=f"{op} (check)")
    return Result(records, meta)


def _output_shape(the_party, spec, seed):
    """The shape of forward's output (dout takes it), from the pair's own process; None if
    forward fails there (every check then records that error)."""
    from .oracle.party import Failed
    from .oracle.errors import NotAttempted
    check = Check(spec.name, CHECK_CASE, "fd", "cpu", "float64")
    data = spec.cases[0].make(None)
    first = next(iter({**data.inputs, **data.params}))
    try:
        (outputs,) = the_party.forwards(check, seed, data, first,
                                        [{**data.inputs, **data.params}[first]])
    except (Failed, NotAttempted):
        return None
    return np.shape(outputs["out"])


# -- backprop-oracle grade ----------------------------------------------------------------
def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(
        prog=prog or "backprop-oracle grade",
        description="Grade a learner's layers with the suite's checks, without pytest: "
                    "a summary, the distinct problems, and optionally the HTML report.")
    parser.add_argument("impl", help="a .py file, a package folder, or a module importable from "
                                     "the current folder")
    parser.add_argument("--op", help="comma-separated op names (default: every op)")
    parser.add_argument("--oracle", help="comma-separated witnesses: torch, jax, fd, golden")
    parser.add_argument("--dtype", help="float64, float32 (default: both)")
    parser.add_argument("--device", help="cpu, cuda (default: every device present)")
    parser.add_argument("--style", default="native", choices=tuple(STYLES),
                        help="native, book (the books' layers), cs231n (forward/backward functions) "
                             "or functions (E資格 f / d_f pairs): an adapter maps all but native")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per case in the implementation (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--report-dir", help="also write results.json and the HTML report here")
    parser.add_argument("--lang", choices=LANGS, default=None,
                        help="the language of the summary and the report (default: ja under a "
                             "Japanese locale, else en)")
    args = parser.parse_args(argv)
    try:
        result = grade(args.impl, ops=args.op, oracles=args.oracle, dtypes=args.dtype,
                       devices=args.device, style=args.style, seed=args.seed, timeout=args.timeout,
                       lang=args.lang)
    except (ValueError, TypeError, FileNotFoundError) as err:
        parser.error(str(err))
    print(result)
    if args.report_dir:
        print(f"\n{t('report_at', result.lang)}: {result.write(args.report_dir)}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
