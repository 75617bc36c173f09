"""RNN with relu: the mask is u >= 0. Expected: relu_mask_ge (rnn_cell, rnn; case relu_kink)."""
from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest


class RNNCell(honest.RNNCell):
    def derivative(self, u, z):
        if self.nonlinearity == "relu":
            return (u >= 0).astype(u.dtype)          # the mistake: relu'(0) = 0
        return super().derivative(u, z)


class RNN(honest.RNN):
    cell = RNNCell
