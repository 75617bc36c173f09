"""Backward passes that leave: sys.exit, os._exit, KeyboardInterrupt, a custom BaseException,
a segmentation fault."""
import ctypes
import os
import sys

import numpy as np


class Leave(BaseException):
    """Not an Exception: `except Exception` does not catch it."""


class _Elementwise:
    def __init__(self, **hp):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.x = x
        return self.function(x)


class Identity(_Elementwise):
    function = staticmethod(lambda x: x.copy())

    def backward(self, dout):
        sys.exit(0)


class LeakyRelu(_Elementwise):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.slope = negative_slope

    def function(self, x):
        return np.where(x > 0, x, self.slope * x)

    def backward(self, dout):
        os._exit(0)


class Elu(_Elementwise):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def function(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, dout):
        raise KeyboardInterrupt


class Softplus(_Elementwise):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta

    def function(self, x):
        return np.logaddexp(0.0, self.beta * x) / self.beta

    def backward(self, dout):
        raise Leave("gone")


class Hardtanh(_Elementwise):
    def __init__(self, min_val=-1.0, max_val=1.0):
        super().__init__()
        self.low, self.high = min_val, max_val

    def function(self, x):
        return np.clip(x, self.low, self.high)

    def backward(self, dout):
        return ctypes.string_at(0)                # reads address 0: SIGSEGV
