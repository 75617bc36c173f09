"""LSTM: dc is not passed back into the cell of step t. Expected: lstm dc_not_carried."""
import numpy as np

from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest


class LSTM(honest.LSTM):
    def backward(self, dout, dh_n=None, dc_n=None):
        dh, dc = self.start(dh_n, dc_n)
        dx = np.zeros(dout.shape[:2] + (self.params["weight_ih_l0"].shape[1],))
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        for t in reversed(range(dout.shape[1])):
            dx[:, t], dh, dc = self.cells[t].backward(dout[:, t] + dh)   # dc not given
            for k, g in self.cells[t].grads.items():
                self.grads[k + "_l0"] += g
        return dx, dh[None], dc[None]
