"""Attention: dQ, dK without the scale. Expected: scale_forgotten_in_backward."""
import numpy as np

from tests.learners.mistakes_cnn.honest import *  # noqa: F401,F403
from tests.learners.mistakes_cnn import honest


class ScaledDotProductAttention(honest.ScaledDotProductAttention):
    def backward(self, dout):
        dv = np.swapaxes(self.P, -1, -2) @ dout
        dS = self.softmax_backward(dout @ np.swapaxes(self.v, -1, -2))
        return dS @ self.k, np.swapaxes(dS, -1, -2) @ self.q, dv
