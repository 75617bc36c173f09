"""Planted mistake: the sigmoid derivative taken at the output as if it were the input,
sigma(y)(1 - sigma(y)) instead of y(1 - y)."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Sigmoid as _Sigmoid
from backprop_oracle.impl.activations import sigmoid


class Sigmoid(_Sigmoid):
    def backward(self, dout):
        s = sigmoid(self.out)
        return dout * s * (1.0 - s)
