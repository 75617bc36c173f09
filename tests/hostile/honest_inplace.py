"""Honest layers written with the in-place idioms of the book and of CS231n: must pass."""
import numpy as np


class Sigmoid:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backward(self, dout):
        dout *= (1.0 - self.out) * self.out      # writes into the upstream gradient
        return dout


class Relu:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0                       # the book's Relu.backward
        return dout
