"""The book-style layers of book_style.py with one planted mistake: SoftmaxWithLoss's
backward forgets to divide by the batch size.
Diagnosis: "off by a constant factor ... the batch size N="."""
import numpy as np

from tests.learners.book_style import Affine, Relu, Sigmoid  # noqa: F401
from tests.learners.book_style import SoftmaxWithLoss as _SoftmaxWithLoss


class SoftmaxWithLoss(_SoftmaxWithLoss):
    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(self.t.shape[0]), self.t] -= 1
        return dx * dout
