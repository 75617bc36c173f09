"""Dropout and other regularization layers."""
import numpy as np

from ._checks import float_array, require_forward, same_shape, upstream
from .base import Layer

__all__ = ['Dropout']


class Dropout(Layer):
    """Inverted dropout: keep each unit with probability 1 - p and scale it by 1 / (1 - p).

        training:  y = x * m / (1 - p),   dx = dout * m / (1 - p)    (m: the keep mask, 0 or 1)
        eval:      y = x,                 dx = dout

    The scaling happens in training, so that E[y] = x and the network is used
    unchanged at test time (PyTorch's convention). The book's Dropout
    (『ゼロから作るDeep Learning』 6.4.3) is not inverted: it keeps x * m in
    training and multiplies by (1 - p) at test time; its gradient in training is
    dout * m, without the 1 / (1 - p).

    inverted=False is the book's form, an option (a case of the dropout op):
        training:  y = x * m,             dx = dout * m
        eval:      y = x * (1 - p),       dx = dout * (1 - p)

    forward(x, mask): `mask` is the boolean keep mask (True = kept); when it is
    None, a fresh one is drawn from `rng`. Passing it makes the layer a
    deterministic function, which is how the oracles check it.
    """

    def __init__(self, p=0.5, training=True, rng=None, inverted=True):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p, self.training, self.inverted = p, training, bool(inverted)
        self.rng = rng if rng is not None else np.random.default_rng()

    def forward(self, x, mask=None):
        x = float_array(self, "x", x)
        if not self.training:
            keep = 1.0 if self.inverted else 1.0 - self.p    # the book scales at test time
            self.scaled_mask = np.full(x.shape, keep, dtype=x.dtype)
            return x * self.scaled_mask
        if mask is None:
            mask = self.rng.random(x.shape) >= self.p
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"Dropout: argument 'mask' must be a boolean keep mask, got dtype {mask.dtype}")
        same_shape(self, "mask", mask, x.shape, "the shape of x")
        scale = 1.0 if not self.inverted else 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        # (p = 1 drops everything)
        self.scaled_mask = (mask * scale).astype(x.dtype)
        return x * self.scaled_mask

    def backward(self, dout):
        require_forward(self, "scaled_mask")
        dout = upstream(self, dout, self.scaled_mask.shape)
        return dout * self.scaled_mask
