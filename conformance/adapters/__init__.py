"""Adapters: grade a learner's code written in a common teaching style as it is.

`--impl-style book` reads layers written as in 『ゼロから作るDeep Learning』 (params and
grads as lists, backward(dout) storing the parameter gradients in place);
`--impl-style cs231n` reads the functions of the CS231n assignments
(`affine_forward(x, w, b) -> (out, cache)`, `affine_backward(dout, cache)`, ...).

An adapter wraps the learner's module into classes with the answer key's names
and API (`Affine(W, b)`, `forward`, `backward`, `layer.grads`), mapping weight
layouts and gate orders; a class whose counterpart the learner did not write is
absent, so its checks are "not attempted". Where a style has no counterpart for
a case (a reduction it does not offer), the adapter raises NotImplementedError
with the reason, which is also "not attempted".
"""
import types

from . import book, cs231n

STYLES = {"native": None, "book": book.CLASSES, "cs231n": cs231n.CLASSES}


def adapt(module, style="native"):
    """The module itself for the native style, else a module of adapter classes."""
    if style not in STYLES:
        raise ValueError(f"unknown implementation style {style!r}: expected one of "
                         f"{', '.join(STYLES)}")
    if STYLES[style] is None:
        return module
    adapted = types.ModuleType(f"{module.__name__} ({style} style)")
    adapted.__file__ = getattr(module, "__file__", None)
    adapted.learner_module = module
    adapted.style = style
    for name, make in STYLES[style].items():
        cls = make(module)
        if cls is not None:
            setattr(adapted, name, cls)
    adapted.__all__ = [name for name in STYLES[style] if hasattr(adapted, name)]
    return adapted
