"""Affine (fully connected) layer: y = x W + b, in the book's layout W (in, out)."""
import numpy as np

from ._checks import float_array, dim_equals, upstream, require_forward, ShapeError
from .base import Layer

__all__ = ['Affine']


class Affine(Layer):
    """y = x W + b for x of shape (..., in), W (in, out), b (out,).

    Backward, with the leading axes flattened into one batch axis n:
        dx = dout W^T
        dW = x^T dout          (sums over the batch: dW_ij = sum_n x_ni dout_nj)
        db = sum_n dout_n
    """

    def __init__(self, W, b):
        W = float_array(self, "W", W, ndim=2)
        b = float_array(self, "b", b, ndim=1)
        if b.shape[0] != W.shape[1]:
            raise ShapeError(f"Affine: argument 'b' must have shape ({W.shape[1]},) "
                             f"(the output size of W {W.shape}), got {b.shape}")
        super().__init__(W=W, b=b)

    def forward(self, x):
        x = float_array(self, "x", x, min_ndim=1)
        dim_equals(self, "x", x, -1, self.params["W"].shape[0], "the input size of W")
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        require_forward(self, "x")
        W = self.params["W"]
        dout = upstream(self, dout, self.x.shape[:-1] + (W.shape[1],))
        x2 = self.x.reshape(-1, W.shape[0])
        dout2 = dout.reshape(-1, W.shape[1])
        self.grads["W"] = x2.T @ dout2
        self.grads["b"] = dout2.sum(axis=0)
        return dout @ W.T
