"""LSTM: the forget gate's derivative reads the new cell. Expected: forget_with_c_next."""
import numpy as np

from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest
from tests.learners.mistakes_recurrent.honest import sigmoid


class LSTMCell(honest.LSTMCell):
    def backward(self, dh_next, dc_next=None):
        x, h, c, i, f, g, o, c_next = self.cache
        p = self.params
        if dc_next is None:
            dc_next = np.zeros_like(c)
        tanh_c = np.tanh(c_next)
        dc = dc_next + dh_next * o * (1 - tanh_c ** 2)
        di = dc * g * i * (1 - i)
        df = dc * c_next * f * (1 - f)   # the mistake
        dg = dc * i * (1 - g ** 2)
        do = dh_next * tanh_c * o * (1 - o)
        da = np.hstack([di, df, dg, do])
        self.grads = {"weight_ih": da.T @ x, "weight_hh": da.T @ h,
                      "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
        return da @ p["weight_ih"], da @ p["weight_hh"], dc * f


class LSTM(honest.LSTM):
    cell = LSTMCell
