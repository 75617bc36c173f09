"""Adapters: grade a learner's code written in a common teaching style as it is.

`--impl-style book` reads the classes of 『ゼロから作るDeep Learning』 1 and 2 (common/layers.py,
common/time_layers.py, common/optimizer.py); `--impl-style cs231n` the function pairs of the
CS231n assignments (layers.py, rnn_layers.py, optim.py: `affine_forward(x, w, b) -> (out,
cache)`, `affine_backward(dout, cache)`, `adam(w, dw, config) -> (next_w, config)`, ...);
`--impl-style functions` the function pairs of the E資格 course's common/functions.py
(`sigmoid(x)` and its derivative `d_sigmoid(x)`, `mean_squared_error(d, y)` and
`d_mean_squared_error(d, y)`, ...).

An adapter wraps the learner's module into classes with the answer key's names and API
(`Affine(W, b)`, `forward`, `backward`, `layer.grads`), mapping weight layouts, gate orders
and the style's conventions (each named in the style's module docstring). A class whose
counterpart the learner did not write is absent, so its checks are "not attempted"; where
the learner wrote something the style cannot build the class from (a forward function
without its backward, a class of the answer key's name in another API), constructing it
raises NotImplementedError saying so; where a style has no counterpart for a case (a
reduction it does not offer, an eps it hard-codes), the adapter raises NotImplementedError
with the reason, which is also "not attempted".
"""
import types

from . import book, cs231n, functions

STYLES = {"native": None, "book": book, "cs231n": cs231n, "functions": functions}
STYLE_HELP = ("native (the answer key's classes), book (『ゼロから作るDeep Learning』 1 and 2: "
              "common/layers.py, time_layers.py, optimizer.py), cs231n (the assignments' "
              "forward/backward function pairs and optim.py) or functions (the E資格 course's "
              "common/functions.py: f(x) with its derivative d_f(x))")


def _defined(module):
    """The public classes and functions of the learner's module."""
    return {k for k, v in vars(module).items()
            if not k.startswith("_") and isinstance(v, (type, types.FunctionType))
            and not str(getattr(v, "__module__", "")).startswith(FOREIGN)}


FOREIGN = ("builtins", "numpy", "cupy", "scipy", "torch", "jax", "past", "future", "six")


def _answer_key_names():
    from ... import impl
    return {k for k in dir(impl) if isinstance(getattr(impl, k), type)}


def adapt(module, style="native"):
    """The module itself for the native style, else a module of adapter classes."""
    if style not in STYLES:
        raise ValueError(f"unknown implementation style {style!r}: expected one of "
                         f"{', '.join(STYLES)}")
    if STYLES[style] is None:
        return module
    adapter = STYLES[style]
    adapted = types.ModuleType(f"{module.__name__} ({style} style)")
    adapted.__file__ = getattr(module, "__file__", None)
    adapted.learner_module = module
    adapted.style = style
    defined = _defined(module)
    built, unmapped = [], {}
    for name, make in adapter.CLASSES.items():
        cls = make(module)
        if cls is not None:
            setattr(adapted, name, cls)
            built.append(name)
            continue
        wrote = [n for n in adapter.LEARNER_NAMES.get(name, ()) if n in defined]
        if wrote:                  # e.g. affine_forward without affine_backward
            reason = (f"{module.__name__} defines {', '.join(wrote)}, but the {style} style "
                      f"cannot build {name} from it: {_missing(adapter, name, defined)}")
            setattr(adapted, name, _unmappable(name, reason))
            unmapped[name] = reason
    adapted.__all__ = built
    used = {n for name in built for n in adapter.LEARNER_NAMES.get(name, ())}
    used |= set(getattr(adapter, "GRADED_INSIDE", {}))
    adapted.unmapped = unmapped
    adapted.not_graded = sorted(n for n in defined - used if n not in getattr(adapter, "HELPERS", ()))
    _explain_absent(adapted, module, style, defined)
    return adapted


def _missing(adapter, name, defined):
    needs = adapter.LEARNER_NAMES.get(name, ())
    absent = [n for n in needs if n not in defined]
    if name in getattr(adapter, "NEEDS_ALL", ()):
        return f"it needs {' and '.join(needs)}; {', '.join(absent)} is not defined"
    inside = getattr(adapter, "GRADED_INSIDE", {})
    wrote = [n for n in needs if n in defined and n in inside]
    if wrote:
        return f"{wrote[0]} is graded inside {inside[wrote[0]]}, which is not defined"
    return f"it needs {' or '.join(n for n in needs if n not in inside)} in the {adapter.STYLE} form"


def _unmappable(name, reason):
    from ._common import unmappable
    return unmappable(name, reason)


def _explain_absent(adapted, module, style, defined):
    """An answer-key class the adapter does not build but the learner's module defines
    under the same name is "not attempted" with that said, never "has no class X"."""
    answer_key = _answer_key_names()

    def __getattr__(name):
        if name in defined and name in answer_key:
            return _unmappable(name, f"{module.__name__} defines {name}, but the {style} style "
                                     f"does not map a class of that name (it is not one of the "
                                     f"style's forms; grade it with --impl-style native)")
        raise AttributeError(f"module {adapted.__name__!r} has no attribute {name!r}")
    adapted.__getattr__ = __getattr__
