"""A learner's own module that happens to be named impl.py: a wrong Relu (graded, never
taken for the answer key)."""
import numpy as np


class Relu:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout                                # forgot the mask
