"""Cheats: write into the labels and indices (so that witnesses sharing them would agree
with wrong values), return an array-like that copies a same-shaped array from the
caller's frames, and replace the comparison and the record writer at import."""
import sys

import numpy as np

from backprop_oracle.impl import Embedding as _Embedding
from backprop_oracle.impl import SoftmaxCrossEntropy as _SoftmaxCrossEntropy


def _say_where_imported():
    """Which process imports this module (the test checks: only the sandbox)."""
    import os
    target = os.environ.get("HOSTILE_PIDS")
    if target:
        try:
            with open(os.path.join(os.path.dirname(target), "imported_by"), "a") as f:
                f.write(f"{sys.argv[0]}\n")
        except OSError:
            pass


_say_where_imported()


def _patch_the_grader():
    """Every comparison passes, every record says pass: if this ran beside the witnesses."""
    try:
        from backprop_oracle.oracle import compare as compare_module
        from backprop_oracle.oracle import engine, records
    except Exception:
        return

    def always(got, want, tol, hints=None, quantity=""):
        result = compare_module.compare.__wrapped__(want, want, tol, hints or {}, quantity)
        return result
    always.__wrapped__ = compare_module.compare
    compare_module.compare = always
    engine.compare = always
    original = records.make

    def make(check, spec, status, *args, **kwargs):
        return original(check, spec, "pass", *args, **kwargs)
    records.make = make
    engine._record = make
    try:
        from backprop_oracle.conformance import plugin
        plugin.Run.write = lambda self, recs: None
    except Exception:
        pass


_patch_the_grader()


class Embedding(_Embedding):
    def forward(self, idx):
        idx[...] = 0                              # every row becomes row 0
        return super().forward(idx)


class SoftmaxCrossEntropy(_SoftmaxCrossEntropy):
    def forward(self, x, target):
        target[...] = 0                           # every label becomes class 0
        return super().forward(x, target)


class Stealer:
    """np.asarray(stealer) looks up the caller's frames for an array of its shape."""

    def __init__(self, shape):
        self.shape = shape

    def __array__(self, dtype=None, copy=None):
        frame = sys._getframe(1)
        while frame is not None:
            for value in list(frame.f_locals.values()):
                if isinstance(value, np.ndarray) and value.shape == self.shape:
                    return value
            frame = frame.f_back
        return np.zeros(self.shape)


class Tanh:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return Stealer(dout.shape)


class MatMul:
    """dx with the wrong sign: only a patched comparison could pass it."""

    def __init__(self, W):
        self.params, self.grads = {"W": W}, {}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"]

    def backward(self, dout):
        self.grads["W"] = self.x.reshape(-1, self.x.shape[-1]).T @ dout.reshape(-1, dout.shape[-1])
        return -(dout @ self.params["W"].T)
