"""Planted mistake that no catalogue entry describes: Tanh's backward adds a stray term,
dx = dout (1 - y^2) + 0.01 y. No rule fits; diagnosis: "worst elements" with expected and
actual values."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Tanh as _Tanh


class Tanh(_Tanh):
    def backward(self, dout):
        return dout * (1.0 - self.out ** 2) + 0.01 * self.out
