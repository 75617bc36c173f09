"""Attention: the mask multiplies the softmax's output. Expected: mask_after_softmax."""
import numpy as np

from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class ScaledDotProductAttention(honest.ScaledDotProductAttention):
    def forward(self, q, k, v, mask=None):
        if mask is not None and np.asarray(mask).dtype != bool:
            raise NotImplementedError("a boolean mask only")
        self.s = self.scale if self.scale is not None else 1 / np.sqrt(q.shape[-1])
        self.m = self.allowed(q, k, mask)
        self.P = honest.softmax(q @ np.swapaxes(k, -1, -2) * self.s)
        self.W = self.P * self.m
        self.q, self.k, self.v = q, k, v
        return self.W @ v

    def backward(self, dout):
        dv = np.swapaxes(self.W, -1, -2) @ dout
        dS = self.softmax_backward((dout @ np.swapaxes(self.v, -1, -2)) * self.m)
        return dS @ self.k * self.s, np.swapaxes(dS, -1, -2) @ self.q * self.s, dv
