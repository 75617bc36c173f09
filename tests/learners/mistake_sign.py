"""Planted mistake: Sigmoid's backward has its sign flipped, dx = -dout y (1 - y).
Diagnosis: "sign flipped"."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Sigmoid as _Sigmoid


class Sigmoid(_Sigmoid):
    def backward(self, dout):
        return -dout * self.out * (1.0 - self.out)
