"""Planted mistake: Tanh's backward returns -(1 - y^2) dout."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Tanh as _Tanh


class Tanh(_Tanh):
    def backward(self, dout):
        return -super().backward(dout)
