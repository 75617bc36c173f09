"""GRU written as h' = z n + (1 - z) h. Expected: z_swapped (gru_cell, gru)."""
import numpy as np

from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest
from tests.learners.mistakes_recurrent.honest import sigmoid


class GRUCell(honest.GRUCell):
    def forward(self, x, h):
        p = self.params
        H = h.shape[1]
        gi = x @ p["weight_ih"].T + p["bias_ih"]
        gh = h @ p["weight_hh"].T + p["bias_hh"]
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        self.cache = (x, h, r, z, n, gh[:, 2 * H:])
        return z * n + (1 - z) * h

    def backward(self, dh_next):
        x, h, r, z, n, hn = self.cache
        p = self.params
        dn = dh_next * z * (1 - n ** 2)
        dz = dh_next * (n - h) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        d_in = np.hstack([dr, dz, dn])
        d_hid = np.hstack([dr, dz, dn * r])
        self.grads = {"weight_ih": d_in.T @ x, "weight_hh": d_hid.T @ h,
                      "bias_ih": d_in.sum(axis=0), "bias_hh": d_hid.sum(axis=0)}
        return d_in @ p["weight_ih"], dh_next * (1 - z) + d_hid @ p["weight_hh"]


class GRU(honest.GRU):
    cell = GRUCell
