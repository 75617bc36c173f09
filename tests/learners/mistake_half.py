"""Planted mistake: MSE(reduction='mean') differentiates (y - t)^2 as (y - t), losing the 2.
Diagnosis: "off by a constant factor ... 1/2"."""
import numpy as np

from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import MSE as _MSE


class MSE(_MSE):
    def backward(self, dout=1.0):
        if self.reduction != "mean" or self.target_grad:
            return super().backward(dout)
        return self.diff / self.diff.size * np.asarray(dout)
