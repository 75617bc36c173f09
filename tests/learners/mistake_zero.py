"""Planted mistake: Affine's dx is computed in a loop over the batch that stops after
the first sample (range(1)), so the other rows stay zero.
Diagnosis: "zero where it should not be"."""
import numpy as np

from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import Affine as _Affine


class Affine(_Affine):
    def backward(self, dout):
        super().backward(dout)
        W = self.params["W"]
        dout2 = dout.reshape(-1, W.shape[1])
        dx = np.zeros((len(dout2), W.shape[0]), dtype=dout.dtype)
        for n in range(1):
            dx[n] = dout2[n] @ W.T
        return dx.reshape(self.x.shape)
