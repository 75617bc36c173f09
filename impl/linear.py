"""Linear and shape layers: Affine (y = x W + b), MatMul (y = x W), Embedding (W[idx]), Flatten."""
import numpy as np

from ._checks import float_array, int_array, dim_equals, upstream, require_forward, ShapeError
from .base import Layer

__all__ = ['Affine', 'MatMul', 'Embedding', 'Flatten']


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
        n = int(np.prod(self.x.shape[:-1]))       # explicit sizes: -1 is ambiguous with 0 features
        x2 = self.x.reshape(n, W.shape[0])
        dout2 = dout.reshape(n, W.shape[1])
        self.grads["W"] = x2.T @ dout2
        self.grads["b"] = dout2.sum(axis=0)
        return dout @ W.T


class MatMul(Layer):
    """y = x W (no bias) for x of shape (..., in), W (in, out).

    Backward, with the leading axes of x flattened into one batch axis:
        dx = dout W^T,   dW = x^T dout
    """

    def __init__(self, W):
        super().__init__(W=float_array(self, "W", W, ndim=2))

    def forward(self, x):
        x = float_array(self, "x", x, min_ndim=1)
        dim_equals(self, "x", x, -1, self.params["W"].shape[0], "the input size of W")
        self.x = x
        return x @ self.params["W"]

    def backward(self, dout):
        require_forward(self, "x")
        W = self.params["W"]
        dout = upstream(self, dout, self.x.shape[:-1] + (W.shape[1],))
        n = int(np.prod(self.x.shape[:-1]))       # explicit sizes: -1 is ambiguous with 0 features
        self.grads["W"] = self.x.reshape(n, W.shape[0]).T @ dout.reshape(n, W.shape[1])
        return dout @ W.T


class Embedding(Layer):
    """y = W[idx]: row idx of the table W (vocabulary, dim) for every index.

    Backward: dW[v] = sum of dout over every position whose index is v. An index
    that appears twice receives both gradients: np.add.at accumulates, whereas
    `dW[idx] = dout` would keep only the last one. The indices are not
    differentiable, so backward returns None (as in the book).
    """

    def __init__(self, W):
        super().__init__(W=float_array(self, "W", W, ndim=2))

    def forward(self, idx):
        self.idx = int_array(self, "idx", idx, high=self.params["W"].shape[0])
        return self.params["W"][self.idx]

    def backward(self, dout):
        require_forward(self, "idx")
        W = self.params["W"]
        dout = upstream(self, dout, self.idx.shape + (W.shape[1],))
        dW = np.zeros_like(W)
        np.add.at(dW, self.idx, dout)
        self.grads["W"] = dW
        return None


class Flatten(Layer):
    """y = x reshaped to (N, everything else);  dx = dout reshaped back to x's shape."""

    def forward(self, x):
        x = float_array(self, "x", x, min_ndim=2)
        self.shape = x.shape
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))   # not -1: N may be 0

    def backward(self, dout):
        require_forward(self, "shape")
        n = self.shape[0]
        dout = upstream(self, dout, (n, int(np.prod(self.shape[1:]))))
        return dout.reshape(self.shape)
