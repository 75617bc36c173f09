"""GRU written with Cho's reset, n = tanh(W_in x + b_in + W_hn (r h) + b_hn), where torch's
GRU applies r after the matmul. Expected: reset_before_matmul (gru_cell, gru)."""
import numpy as np

from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest
from tests.learners.mistakes_recurrent.honest import sigmoid


class GRUCell(honest.GRUCell):
    def forward(self, x, h):
        p = self.params
        H = h.shape[1]
        W, b = p["weight_hh"], p["bias_hh"]
        gi = x @ p["weight_ih"].T + p["bias_ih"]
        r = sigmoid(gi[:, :H] + h @ W[:H].T + b[:H])
        z = sigmoid(gi[:, H:2 * H] + h @ W[H:2 * H].T + b[H:2 * H])
        rh = r * h
        n = np.tanh(gi[:, 2 * H:] + rh @ W[2 * H:].T + b[2 * H:])
        self.cache = (x, h, r, z, n, rh)
        return (1 - z) * n + z * h

    def backward(self, dh_next):
        x, h, r, z, n, rh = self.cache
        p = self.params
        H = h.shape[1]
        W = p["weight_hh"]
        dn = dh_next * (1 - z) * (1 - n ** 2)
        dz = dh_next * (h - n) * z * (1 - z)
        drh = dn @ W[2 * H:]
        dr = drh * h * r * (1 - r)
        d_in = np.hstack([dr, dz, dn])
        drz = np.hstack([dr, dz])
        self.grads = {"weight_ih": d_in.T @ x,
                      "weight_hh": np.vstack([drz.T @ h, dn.T @ rh]),
                      "bias_ih": d_in.sum(axis=0), "bias_hh": d_in.sum(axis=0)}
        return d_in @ p["weight_ih"], dh_next * z + drh * r + drz @ W[:2 * H]


class GRU(honest.GRU):
    cell = GRUCell
