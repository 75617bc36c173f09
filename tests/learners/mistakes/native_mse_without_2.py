"""Native API. MSE's backward drops the 2 of d/dy (y - t)^2.
Diagnosis: the entry mse/derivative_without_2."""
import numpy as np


class MSE:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, y, t):
        self.d = y - t
        sq = self.d ** 2
        return {"mean": sq.mean(), "sum": sq.sum(), "half_sum": 0.5 * sq.sum(), "none": sq}[self.reduction]

    def backward(self, dout=1.0):
        scale = {"mean": 1.0 / self.d.size, "sum": 1.0, "half_sum": 1.0, "none": 1.0}[self.reduction]
        return self.d * scale * dout
