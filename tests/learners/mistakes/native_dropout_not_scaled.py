"""Native API. The book's Dropout: no 1 / (1 - p) in training, x (1 - p) at test.
Diagnosis: the entries dropout/not_scaled (training) and dropout/eval_scaled (eval)."""
import numpy as np


class Dropout:
    def __init__(self, p=0.5, training=True, rng=None):
        self.p, self.training = p, training
        self.rng = rng or np.random.default_rng()

    def forward(self, x, mask=None):
        if not self.training:
            self.mask = None
            return x * (1.0 - self.p)
        self.mask = mask if mask is not None else self.rng.random(x.shape) >= self.p
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask if self.mask is not None else dout * (1.0 - self.p)
