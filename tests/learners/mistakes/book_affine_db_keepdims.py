"""Book style. Affine keeps db as a (1, out) row: np.sum(dout, axis=0, keepdims=True).
Diagnosis: the entry affine/db_keepdims."""
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        W, b = self.params
        self.x = x
        return np.dot(x, W) + b

    def backward(self, dout):
        W, b = self.params
        dx = np.dot(dout, W.T)
        self.grads[0] = np.dot(self.x.T, dout)
        self.grads[1] = np.sum(dout, axis=0, keepdims=True)
        return dx
