"""Planted mistake: Tanh's backward uses the input, dx = dout (1 - x^2), not the output y.
The catalogue of tanh names it: "1 - x^2 evaluated at the input"."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Tanh as _Tanh


class Tanh(_Tanh):
    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * (1.0 - self.x ** 2)
