"""A learner's own RNN, LSTM and GRU in the answer key's API (torch's layout and names),
written the way a learner writes them: a cell per time step, and the sequence layers
as the BPTT loop over the cells (one layer, one direction, no variable lengths:
the other cases are not attempted). Every module of this folder but this one plants
one mistake into a copy of a method; this one is right and must pass.
"""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class RNNCell:
    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity="tanh"):
        self.params = dict(weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih, bias_hh=bias_hh)
        self.grads = {}
        self.nonlinearity = nonlinearity

    def forward(self, x, h):
        p = self.params
        u = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
        if self.nonlinearity == "tanh":
            z = np.tanh(u)
        elif self.nonlinearity == "relu":
            z = np.maximum(u, 0)
        else:
            z = sigmoid(u)
        self.cache = (x, h, u, z)
        return z

    def derivative(self, u, z):
        if self.nonlinearity == "tanh":
            return 1 - z ** 2
        if self.nonlinearity == "relu":
            return (u > 0).astype(u.dtype)
        return z * (1 - z)

    def backward(self, dh_next):
        x, h, u, z = self.cache
        p = self.params
        delta = dh_next * self.derivative(u, z)
        self.grads = {"weight_ih": delta.T @ x, "weight_hh": delta.T @ h,
                      "bias_ih": delta.sum(axis=0), "bias_hh": delta.sum(axis=0)}
        return delta @ p["weight_ih"], delta @ p["weight_hh"]


class LSTMCell:
    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        self.params = dict(weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih, bias_hh=bias_hh)
        self.grads = {}

    def forward(self, x, h, c):
        p = self.params
        H = h.shape[1]
        a = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        g = np.tanh(a[:, 2 * H:3 * H])
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
        da = np.hstack([di, df, dg, do])
        self.grads = {"weight_ih": da.T @ x, "weight_hh": da.T @ h,
                      "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
        return da @ p["weight_ih"], da @ p["weight_hh"], dc * f


class GRUCell:
    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        self.params = dict(weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih, bias_hh=bias_hh)
        self.grads = {}

    def forward(self, x, h):
        p = self.params
        H = h.shape[1]
        gi = x @ p["weight_ih"].T + p["bias_ih"]
        gh = h @ p["weight_hh"].T + p["bias_hh"]
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        self.cache = (x, h, r, z, n, gh[:, 2 * H:])
        return (1 - z) * n + z * h

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
        return d_in @ p["weight_ih"], dh_next * z + d_hid @ p["weight_hh"]


def _one_layer(num_layers, bidirectional):
    if num_layers != 1 or bidirectional:
        raise NotImplementedError("one layer, one direction only")


class RNN:
    cell = RNNCell

    def __init__(self, nonlinearity="tanh", num_layers=1, bidirectional=False, **params):
        _one_layer(num_layers, bidirectional)
        self.params, self.grads, self.nonlinearity = params, {}, nonlinearity

    def make_cell(self):
        return self.cell(**{k[:-3]: v for k, v in self.params.items()}, nonlinearity=self.nonlinearity)

    def forward(self, x, h0, lengths=None):
        if lengths is not None:
            raise NotImplementedError("no variable lengths")
        h, hs, self.cells = h0[0], [], []
        for t in range(x.shape[1]):
            cell = self.make_cell()
            h = cell.forward(x[:, t], h)
            self.cells.append(cell)
            hs.append(h)
        self.h_n = h[None]
        return np.stack(hs, axis=1)

    def backward(self, dout, dh_n=None):
        dh = np.zeros_like(self.h_n[0]) if dh_n is None else dh_n[0]
        dx = np.zeros(dout.shape[:2] + (self.params["weight_ih_l0"].shape[1],))
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        for t in reversed(range(dout.shape[1])):
            dx[:, t], dh = self.cells[t].backward(dout[:, t] + dh)
            for k, g in self.cells[t].grads.items():
                self.grads[k + "_l0"] += g
        return dx, dh[None]


class GRU(RNN):
    cell = GRUCell

    def __init__(self, num_layers=1, bidirectional=False, **params):
        super().__init__("tanh", num_layers, bidirectional, **params)

    def make_cell(self):
        return self.cell(**{k[:-3]: v for k, v in self.params.items()})


class LSTM:
    cell = LSTMCell

    def __init__(self, num_layers=1, bidirectional=False, **params):
        _one_layer(num_layers, bidirectional)
        self.params, self.grads = params, {}

    def forward(self, x, h0, c0, lengths=None):
        if lengths is not None:
            raise NotImplementedError("no variable lengths")
        h, c, hs, self.cells = h0[0], c0[0], [], []
        for t in range(x.shape[1]):
            cell = self.cell(**{k[:-3]: v for k, v in self.params.items()})
            h = cell.forward(x[:, t], h, c)
            c = cell.c_next
            self.cells.append(cell)
            hs.append(h)
        self.h_n, self.c_n = h[None], c[None]
        return np.stack(hs, axis=1)

    def start(self, dh_n, dc_n):
        dh = np.zeros_like(self.h_n[0]) if dh_n is None else dh_n[0]
        dc = np.zeros_like(self.c_n[0]) if dc_n is None else dc_n[0]
        return dh, dc

    def backward(self, dout, dh_n=None, dc_n=None):
        dh, dc = self.start(dh_n, dc_n)
        dx = np.zeros(dout.shape[:2] + (self.params["weight_ih_l0"].shape[1],))
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        for t in reversed(range(dout.shape[1])):
            dx[:, t], dh, dc = self.cells[t].backward(dout[:, t] + dh, dc)
            for k, g in self.cells[t].grads.items():
                self.grads[k + "_l0"] += g
        return dx, dh[None], dc[None]


class TimeEmbedding:
    def __init__(self, W):
        self.params, self.grads = {"W": W}, {}

    def forward(self, idx):
        self.idx = idx
        return self.params["W"][idx]

    def backward(self, dout):
        dW = np.zeros_like(self.params["W"])
        np.add.at(dW, self.idx, dout)
        self.grads["W"] = dW
        return None


class TimeSoftmaxCrossEntropy:
    def __init__(self, ignore_index=-1, reduction="mean"):
        self.ignore, self.reduction = ignore_index, reduction
        self.params, self.grads = {}, {}

    def count(self, mask):
        return mask.sum() if self.reduction == "mean" else 1

    def forward(self, x, t):
        N, T, V = x.shape
        x, t = x.reshape(N * T, V), t.reshape(N * T)
        mask = t != self.ignore
        e = np.exp(x - x.max(axis=1, keepdims=True))
        y = e / e.sum(axis=1, keepdims=True)
        ls = -np.log(y[np.arange(N * T), np.where(mask, t, 0)]) * mask
        self.cache = (y, np.where(mask, t, 0), mask, (N, T, V))
        return ls.sum() / self.count(mask)

    def backward(self, dout=1):
        y, t, mask, shape = self.cache
        dx = y.copy()
        dx[np.arange(len(t)), t] -= 1
        dx *= dout * mask[:, None] / self.count(mask)
        return dx.reshape(shape)
