"""Planted mistake: Affine's dW = dout^T x, the transpose of x^T dout.
Diagnosis: "transposed"."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Affine as _Affine


class Affine(_Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        x2 = self.x.reshape(-1, self.x.shape[-1])
        self.grads["W"] = dout.reshape(-1, dout.shape[-1]).T @ x2
        return dx
