"""Planted mistake: softmax cross-entropy 'mean' gradient not divided by N."""
import numpy as np

from backprop_oracle.impl import *  # noqa: F401,F403
from backprop_oracle.impl import SoftmaxCrossEntropy as _SoftmaxCrossEntropy


class SoftmaxCrossEntropy(_SoftmaxCrossEntropy):
    def backward(self, dout=1.0):
        dx = super().backward(dout)
        return dx * (len(self.prob) if self.reduction == "mean" else 1)
