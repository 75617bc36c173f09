"""RNN: the gradient from step t+1 is not added. Expected: rnn dh_next_dropped."""
import numpy as np

from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest


class RNN(honest.RNN):
    def backward(self, dout, dh_n=None):
        dh = np.zeros_like(self.h_n[0])
        dx = np.zeros(dout.shape[:2] + (self.params["weight_ih_l0"].shape[1],))
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        for t in reversed(range(dout.shape[1])):
            dx[:, t], dh = self.cells[t].backward(dout[:, t])     # + dh forgotten
            for k, g in self.cells[t].grads.items():
                self.grads[k + "_l0"] += g
        return dx, dh[None]
