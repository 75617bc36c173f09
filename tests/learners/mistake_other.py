"""Planted mistake: Tanh's backward uses the input, dx = dout (1 - x^2), not the output y.
No rule fits; diagnosis: "worst elements" with expected and actual values."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Tanh as _Tanh


class Tanh(_Tanh):
    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * (1.0 - self.x ** 2)
