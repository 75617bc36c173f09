"""Book style. SoftmaxWithLoss's backward forgets the batch size: dx = (y - t) * dout.
Diagnosis: the entry softmax_cross_entropy/mean_not_divided."""
import numpy as np


class SoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, x, t):
        x = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
        self.t = t.argmax(axis=1) if t.size == self.y.size else t
        n = self.y.shape[0]
        return -np.sum(np.log(self.y[np.arange(n), self.t])) / n

    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx * dout
