import numpy as np


class Affine:
    def __init__(self, W, b):
        self.params, self.grads = {"W": W, "b": b}, {}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        x2 = self.x.reshape(-1, self.x.shape[-1])
        d2 = dout.reshape(-1, dout.shape[-1])
        self.grads["W"] = x2.T @ d2
        self.grads["b"] = d2.sum(axis=0)
        return dout @ self.params["W"].T
