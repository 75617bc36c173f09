"""Element-wise activations and softmax: y = f(x), dx = dout * f'(x)."""
import numpy as np

from ._checks import float_array, upstream, require_forward, ShapeError
from .base import Layer

__all__ = ['Identity', 'Relu', 'Sigmoid', 'Tanh', 'Softmax']


class Identity(Layer):
    """y = x;  dx = dout."""

    def forward(self, x):
        self.shape = float_array(self, "x", x).shape
        return np.array(x, copy=True)

    def backward(self, dout):
        require_forward(self, "shape")
        return upstream(self, dout, self.shape).copy()


class Relu(Layer):
    """y = max(0, x);  dx = dout where x > 0, else 0 (PyTorch: the gradient at x = 0 is 0)."""

    def forward(self, x):
        x = float_array(self, "x", x)
        self.mask = x > 0
        return np.where(self.mask, x, 0.0).astype(x.dtype)

    def backward(self, dout):
        require_forward(self, "mask")
        dout = upstream(self, dout, self.mask.shape)
        return np.where(self.mask, dout, 0.0).astype(dout.dtype)


def sigmoid(x):
    """1 / (1 + e^{-x}), written so that neither branch overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype)


class Sigmoid(Layer):
    """y = 1 / (1 + e^{-x});  dx = dout * y (1 - y), from the output y, not the input."""

    def forward(self, x):
        self.out = sigmoid(float_array(self, "x", x))
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        return dout * self.out * (1.0 - self.out)


class Tanh(Layer):
    """y = tanh(x);  dx = dout * (1 - y^2)."""

    def forward(self, x):
        self.out = np.tanh(float_array(self, "x", x))
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        return dout * (1.0 - self.out ** 2)


def softmax(x, axis=-1):
    """e^{x_i} / sum_j e^{x_j}, shifted by the maximum so that exp never overflows."""
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Layer):
    """y_i = e^{x_i} / sum_j e^{x_j} along `axis`.

    Backward: dx_i = y_i (dout_i - sum_j dout_j y_j), the Jacobian diag(y) - y y^T
    applied to dout without forming it.
    """

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        x = float_array(self, "x", x, min_ndim=1)
        if not -x.ndim <= self.axis < x.ndim:
            raise ShapeError(f"Softmax: axis {self.axis} is out of range for argument 'x' "
                             f"of shape {x.shape}")
        self.out = softmax(x, self.axis)
        return self.out

    def backward(self, dout):
        require_forward(self, "out")
        dout = upstream(self, dout, self.out.shape)
        inner = (dout * self.out).sum(axis=self.axis, keepdims=True)
        return self.out * (dout - inner)
