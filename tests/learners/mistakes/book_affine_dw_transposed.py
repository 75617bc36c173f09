"""Book style. Affine computes dW = dout^T x.
Diagnosis: the entry affine/dW_transposed."""
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x
        return x @ self.params[0] + self.params[1]

    def backward(self, dout):
        W, _ = self.params
        self.grads[0] = (dout.T @ self.x)
        self.grads[1] = dout.sum(axis=0)
        return dout @ W.T
