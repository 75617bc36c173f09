"""Planted mistake: Affine's dW computed as dout^T x instead of x^T dout."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Affine as _Affine


class Affine(_Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"].T
        return dx
