"""Losses: forward(prediction, target) returns the loss; backward(dout=1.0)
returns the gradient of the prediction (the target is data, not a parameter).
"""
import numpy as np

from ._checks import float_array, int_array, same_shape, require_forward, ShapeError
from .base import Layer

__all__ = ['SoftmaxCrossEntropy', 'MSE']

REDUCTIONS = ("mean", "sum", "none")


def _reduction(layer, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{type(layer).__name__}: reduction must be one of {allowed}, "
                         f"got {reduction!r}")
    return reduction


def _upstream_for(layer, dout, reduction, unreduced_shape):
    """The upstream gradient is a scalar for mean/sum and one value per item for 'none'."""
    dout = np.asarray(dout, dtype=float) if np.isscalar(dout) else float_array(layer, "dout", dout)
    expected = unreduced_shape if reduction == "none" else ()
    if dout.shape != expected:
        raise ShapeError(f"{type(layer).__name__}: argument 'dout' must have shape {expected} "
                         f"for reduction={reduction!r}, got {dout.shape}")
    return dout


def log_softmax(x):
    """log p_c = x_c - logsumexp(x), stable for logits of any magnitude."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class SoftmaxCrossEntropy(Layer):
    """Softmax followed by cross-entropy, as one layer (the book's SoftmaxWithLoss).

    logits x (N, C); target either class indices t (N,) or a distribution T (N, C)
    (one-hot labels or probabilities).
        L_n = -sum_c T_nc log softmax(x_n)_c
        mean: L = (1/N) sum_n L_n;  sum: L = sum_n L_n;  none: (L_1 .. L_N)
    Backward: dx_n = (softmax(x_n) - T_n) * dout, divided by N for 'mean'.
    """

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(self, reduction)

    def forward(self, x, target):
        x = float_array(self, "x", x, ndim=2)
        self.target = self._distribution(x, np.asarray(target))
        logp = log_softmax(x)
        self.prob = np.exp(logp)
        losses = -(self.target * logp).sum(axis=1)
        if self.reduction == "none":
            return losses
        return losses.sum() / (len(x) if self.reduction == "mean" else 1)

    def _distribution(self, x, target):
        n, c = x.shape
        if np.issubdtype(target.dtype, np.integer):
            labels = int_array(self, "target", target, ndim=1, high=c)
            if labels.shape[0] != n:
                raise ShapeError(f"SoftmaxCrossEntropy: argument 'target' must have shape ({n},) "
                                 f"(one class index per row of x), got {labels.shape}")
            onehot = np.zeros_like(x)
            onehot[np.arange(n), labels] = 1.0
            return onehot
        target = float_array(self, "target", target, ndim=2)
        return same_shape(self, "target", target, x.shape, "one distribution per row of x")

    def backward(self, dout=1.0):
        require_forward(self, "prob")
        n = self.prob.shape[0]
        dout = _upstream_for(self, dout, self.reduction, (n,))
        dx = self.prob - self.target
        if self.reduction == "none":
            return dx * dout[:, None]
        return dx * dout / (n if self.reduction == "mean" else 1)


class MSE(Layer):
    """Squared error between prediction y and target t of the same shape.

        mean:     L = (1/K) sum (y - t)^2        (PyTorch's mse_loss; K = number of elements)
        sum:      L = sum (y - t)^2
        half_sum: E = 1/2 sum (y - t)^2          (the lecture notes' E; dE/dy = y - t)
        none:     (y - t)^2 element-wise
    """

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(self, reduction, REDUCTIONS + ("half_sum",))

    def forward(self, y, t):
        y = float_array(self, "y", y)
        t = same_shape(self, "t", float_array(self, "t", t), y.shape, "the shape of y")
        self.diff = y - t
        squared = self.diff ** 2
        if self.reduction == "none":
            return squared
        scale = {"mean": 1.0 / max(squared.size, 1), "sum": 1.0, "half_sum": 0.5}[self.reduction]
        return squared.sum() * scale

    def backward(self, dout=1.0):
        require_forward(self, "diff")
        dout = _upstream_for(self, dout, "none" if self.reduction == "none" else "sum",
                             self.diff.shape)
        # d/dy (y - t)^2 = 2 (y - t); the 1/2 of half_sum cancels the 2.
        scale = {"mean": 2.0 / max(self.diff.size, 1), "sum": 2.0,
                 "half_sum": 1.0, "none": 2.0}[self.reduction]
        return scale * self.diff * dout
