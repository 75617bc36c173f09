"""Native API. BCE clamps its logs but divides the gradient by p (1 - p) unclamped.
Diagnosis of the saturated case: the entry bce/gradient_not_clamped."""
import numpy as np


class BCE:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, p, t):
        self.p, self.t = p, t
        with np.errstate(divide="ignore"):
            loss = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))
        return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[self.reduction]

    def backward(self, dout=1.0):
        p, t = self.p, self.t
        with np.errstate(divide="ignore", invalid="ignore"):
            g = (p - t) / (p * (1 - p))
        return g * dout / (p.size if self.reduction == "mean" else 1)
