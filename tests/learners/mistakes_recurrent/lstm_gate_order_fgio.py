"""LSTM: the gate blocks read in the book's order f, g, i, o. Expected: gate_order_fgio."""
import numpy as np

from tests.learners.mistakes_recurrent.honest import *  # noqa: F401,F403
from tests.learners.mistakes_recurrent import honest
from tests.learners.mistakes_recurrent.honest import sigmoid


class LSTMCell(honest.LSTMCell):
    def forward(self, x, h, c):
        p = self.params
        H = h.shape[1]
        a = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
        f = sigmoid(a[:, :H])                  # the book's order f, g, i, o: the mistake
        g = np.tanh(a[:, H:2 * H])
        i = sigmoid(a[:, 2 * H:3 * H])
        o = sigmoid(a[:, 3 * H:])
        c_next = f * c + i * g
        h_next = o * np.tanh(c_next)
        self.cache = (x, h, c, i, f, g, o, c_next)
        self.c_next = c_next
        return h_next

    def backward(self, dh_next, dc_next=None):
        x, h, c, i, f, g, o, c_next = self.cache
        p = self.params
        if dc_next is None:
            dc_next = np.zeros_like(c)
        tanh_c = np.tanh(c_next)
        dc = dc_next + dh_next * o * (1 - tanh_c ** 2)
        di = dc * g * i * (1 - i)
        df = dc * c * f * (1 - f)
        dg = dc * i * (1 - g ** 2)
        do = dh_next * tanh_c * o * (1 - o)
        da = np.hstack([df, dg, di, do])
        self.grads = {"weight_ih": da.T @ x, "weight_hh": da.T @ h,
                      "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
        return da @ p["weight_ih"], da @ p["weight_hh"], dc * f


class LSTM(honest.LSTM):
    cell = LSTMCell
