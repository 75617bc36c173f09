"""Planted mistake: Affine's db left per sample instead of summed over the batch."""
from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Affine as _Affine


class Affine(_Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = dout.reshape(-1, dout.shape[-1])
        return dx
