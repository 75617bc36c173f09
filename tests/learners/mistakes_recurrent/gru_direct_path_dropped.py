"""GRU: dh leaves out the direct path dh' z. Expected: direct_path_dropped (gru_cell, gru)."""
import numpy as np

from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest


class GRUCell(honest.GRUCell):
    def backward(self, dh_next):
        x, h, r, z, n, hn = self.cache
        p = self.params
        dn = dh_next * (1 - z) * (1 - n ** 2)
        dz = dh_next * (h - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        d_in = np.hstack([dr, dz, dn])
        d_hid = np.hstack([dr, dz, dn * r])
        self.grads = {"weight_ih": d_in.T @ x, "weight_hh": d_hid.T @ h,
                      "bias_ih": d_in.sum(axis=0), "bias_hh": d_hid.sum(axis=0)}
        return d_in @ p["weight_ih"], d_hid @ p["weight_hh"]       # the mistake: + dh_next * z


class GRU(honest.GRU):
    cell = GRUCell
