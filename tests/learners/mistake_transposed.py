"""Planted mistake: Affine's dW = dout^T x, the transpose of x^T dout.
Diagnosis: "transposed"."""
import numpy as np

from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Affine as _Affine


class Affine(_Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        n = int(np.prod(self.x.shape[:-1]))       # explicit: x may have 0 features
        x2 = self.x.reshape(n, self.x.shape[-1])
        self.grads["W"] = dout.reshape(n, dout.shape[-1]).T @ x2
        return dx
