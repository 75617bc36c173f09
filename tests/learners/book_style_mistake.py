"""The book-style layers of book_style.py with one planted mistake: SoftmaxWithLoss's
backward forgets to divide by the batch size.
Diagnosis: the catalogue's "the gradient of the mean is not divided by N" (and, for 'sum',
which the adapter makes N times the book's mean, "off by a constant factor ... the batch size N=")."""
import numpy as np

from tests.learners.book_style import Affine, Relu, Sigmoid  # noqa: F401
from tests.learners.book_style import LSTM as _LSTM
from tests.learners.book_style import TimeLSTM as _TimeLSTM
from tests.learners.book_style import SoftmaxWithLoss as _SoftmaxWithLoss


class SoftmaxWithLoss(_SoftmaxWithLoss):
    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(self.t.shape[0]), self.t] -= 1
        return dx * dout


class LSTM(_LSTM):
    """Planted mistake: the forget gate's sigmoid derivative f (1 - f) is forgotten.
    Diagnosis of the weight gradients: "wrong only in the gate block f"."""

    def forget_gate_derivative(self, df, f):
        return df


class TimeLSTM(_TimeLSTM):
    """Planted mistake: BPTT without the gradient from step t+1 (dh is not carried back).
    Diagnosis of dx: "right at the last time step but wrong at earlier ones"."""

    def carried(self, dh):
        return 0
