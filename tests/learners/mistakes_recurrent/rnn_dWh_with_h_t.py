"""RNN: dW_hh summed with the step's own output. Expected: dWh_with_h_t (rnn_cell, rnn)."""
from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest


class RNNCell(honest.RNNCell):
    def backward(self, dh_next):
        x, h, u, z = self.cache
        p = self.params
        delta = dh_next * self.derivative(u, z)
        self.grads = {"weight_ih": delta.T @ x, "weight_hh": delta.T @ z,     # the mistake: h
                      "bias_ih": delta.sum(axis=0), "bias_hh": delta.sum(axis=0)}
        return delta @ p["weight_ih"], delta @ p["weight_hh"]


class RNN(honest.RNN):
    cell = RNNCell
