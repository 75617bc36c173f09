"""Recurrent layers and backpropagation through time (seed 001): RNN, LSTM, GRU.

Layout: batch first. A sequence x has shape (N, T, D) (batch, time, features);
initial states h0, c0 have PyTorch's shape (num_layers * directions, N, H); the
output has shape (N, T, directions * H), the two directions of a bidirectional
layer concatenated on the feature axis (forward first, as in the seed).

Weights follow PyTorch's layout and names: weight_ih (G*H, D), weight_hh (G*H, H),
bias_ih and bias_hh (G*H,), G gate blocks stacked on the first axis. In the
seed's column-vector notation an Elman RNN is

    u^t = W_in x^t + W z^{t-1} + b,    z^t = f(u^t)

so W_in = weight_ih, W = weight_hh and b = bias_ih + bias_hh. Here each row of a
batch is one sample, so the code reads u = x W_in^T + z W^T + b.

BPTT (seed 001) with delta^t = dE/du^t:

    delta^t = (dE/dz^t + delta^{t+1} W) * f'(u^t)
    dE/dW_in = sum_t delta^t^T x^t,   dE/dW = sum_t delta^t^T z^{t-1},   dE/db = sum_t delta^t

The gradient dE/dz^t has two sources: the output at step t, and step t+1
through W. Dropping the second is the classic mistake; the conformance suite
diagnoses it as "right at the last time step but wrong at earlier ones".

Each recurrence is written once, as a `Step` (one time step, forward and
backward); the cells run one step, the sequence layers run the time loop.
"""
import numpy as np

from ._checks import (float_array, int_array, same_shape, dim_equals, upstream,
                      inner_layer, require_forward, ShapeError)
from .activations import softmax
from .base import Layer
from .linear import Affine
from .losses import log_softmax

__all__ = ['RNNCell', 'RNN', 'LSTMCell', 'LSTM', 'PeepholeLSTM', 'GRUCell', 'GRU', 'ChoGRU',
           'TimeAffine', 'TimeEmbedding', 'TimeSoftmaxCrossEntropy', 'TruncatedBPTTLSTM',
           'Seq2Seq']


def sigmoid(x):
    """sigma(x) = (1 + tanh(x/2)) / 2: never overflows and keeps the dtype."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# --------------------------------------------------------------------------------------
# One time step of each recurrence. gx = x^t W_ih^T + b_ih is computed by the caller
# (for all time steps at once); a step adds the hidden side and applies the gates.
# backward(p, dh, dc, cache) returns (dgx, dh_prev, dc_prev, grads of the hidden-side
# parameters); the caller turns dgx into dW_ih, db_ih and dx.
# --------------------------------------------------------------------------------------

class RNNStep:
    """z^t = f(u^t), u^t = gx + z^{t-1} W^T + b_hh;  f = tanh, relu or sigmoid."""
    gates, has_cell, extra_params = 1, False, ()
    NONLINEARITIES = ("tanh", "relu", "sigmoid")

    def __init__(self, nonlinearity="tanh"):
        if nonlinearity not in self.NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be one of {self.NONLINEARITIES}, "
                             f"got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def forward(self, p, gx, h, c):
        u = gx + h @ p["weight_hh"].T + p["bias_hh"]
        if self.nonlinearity == "tanh":
            z = np.tanh(u)
        elif self.nonlinearity == "relu":
            z = np.maximum(u, 0)
        else:
            z = sigmoid(u)
        return z, None, (h, u, z)

    def derivative(self, u, z):
        """f'(u), from the output z where it can be."""
        if self.nonlinearity == "tanh":
            return 1 - z * z
        if self.nonlinearity == "relu":
            return (u > 0).astype(u.dtype)          # 0 at u = 0, as torch
        return z * (1 - z)

    def backward(self, p, dz, dc, cache):
        h, u, z = cache
        delta = dz * self.derivative(u, z)          # delta^t = dE/dz^t * f'(u^t)
        dh = delta @ p["weight_hh"]                 # the part of dE/dz^{t-1} that comes through W
        return delta, dh, None, {"weight_hh": delta.T @ h, "bias_hh": delta.sum(axis=0)}


class LSTMStep:
    """PyTorch's LSTM, gate order i, f, g, o:

        [a_i, a_f, a_g, a_o] = gx + h W_hh^T + b_hh
        i = sigma(a_i), f = sigma(a_f), g = tanh(a_g), o = sigma(a_o)
        c' = f * c + i * g,     h' = o * tanh(c')
    """
    gates, has_cell, extra_params = 4, True, ()

    def forward(self, p, gx, h, c):
        a = gx + h @ p["weight_hh"].T + p["bias_hh"]
        H = h.shape[1]
        s = sigmoid(a)                      # i, f and o; the g block is replaced below
        i, f, o = s[:, :H], s[:, H:2 * H], s[:, 3 * H:]
        g = np.tanh(a[:, 2 * H:3 * H])
        c_next = f * c + i * g
        tc = np.tanh(c_next)
        return o * tc, c_next, (h, c, i, f, g, o, tc)

    def backward(self, p, dh, dc, cache):
        h, c, i, f, g, o, tc = cache
        do = dh * tc
        dc = dc + dh * o * (1 - tc * tc)     # the CEC: dc collects from h' and from step t+1
        da = np.concatenate([dc * g * i * (1 - i),      # d a_i
                             dc * c * f * (1 - f),      # d a_f
                             dc * i * (1 - g * g),      # d a_g
                             do * o * (1 - o)], axis=1)  # d a_o
        return da, da @ p["weight_hh"], dc * f, {"weight_hh": da.T @ h, "bias_hh": da.sum(axis=0)}


class PeepholeLSTMStep:
    """LSTM with peephole connections (覗き穴結合, Gers and Schmidhuber): the gates
    also see the cell, through diagonal weights w_ci, w_cf, w_co of shape (H,):

        i = sigma(a_i + w_ci * c),  f = sigma(a_f + w_cf * c),  g = tanh(a_g)
        c' = f * c + i * g,         o = sigma(a_o + w_co * c'),  h' = o * tanh(c')
    """
    gates, has_cell, extra_params = 4, True, ("weight_ci", "weight_cf", "weight_co")

    def forward(self, p, gx, h, c):
        a = gx + h @ p["weight_hh"].T + p["bias_hh"]
        H = h.shape[1]
        i = sigmoid(a[:, :H] + p["weight_ci"] * c)
        f = sigmoid(a[:, H:2 * H] + p["weight_cf"] * c)
        g = np.tanh(a[:, 2 * H:3 * H])
        c_next = f * c + i * g
        o = sigmoid(a[:, 3 * H:] + p["weight_co"] * c_next)
        tc = np.tanh(c_next)
        return o * tc, c_next, (h, c, i, f, g, o, c_next, tc)

    def backward(self, p, dh, dc, cache):
        h, c, i, f, g, o, c_next, tc = cache
        da_o = dh * tc * o * (1 - o)
        dc = dc + dh * o * (1 - tc * tc) + da_o * p["weight_co"]    # c' also feeds o
        da_i = dc * g * i * (1 - i)
        da_f = dc * c * f * (1 - f)
        da = np.concatenate([da_i, da_f, dc * i * (1 - g * g), da_o], axis=1)
        dc_prev = dc * f + da_i * p["weight_ci"] + da_f * p["weight_cf"]
        return da, da @ p["weight_hh"], dc_prev, {
            "weight_hh": da.T @ h, "bias_hh": da.sum(axis=0),
            "weight_ci": (da_i * c).sum(axis=0), "weight_cf": (da_f * c).sum(axis=0),
            "weight_co": (da_o * c_next).sum(axis=0)}


class GRUStep:
    """PyTorch's GRU, gate order r, z, n; the reset gate acts after the hidden matmul:

        r = sigma(gx_r + gh_r),  z = sigma(gx_z + gh_z),  with gh = h W_hh^T + b_hh
        n = tanh(gx_n + r * gh_n),  h' = (1 - z) * n + z * h
    """
    gates, has_cell, extra_params = 3, False, ()

    def forward(self, p, gx, h, c):
        gh = h @ p["weight_hh"].T + p["bias_hh"]
        H = h.shape[1]
        r = sigmoid(gx[:, :H] + gh[:, :H])
        z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
        return (1 - z) * n + z * h, None, (h, r, z, n, gh[:, 2 * H:])

    def backward(self, p, dh, dc, cache):
        h, r, z, n, gh_n = cache
        da_n = dh * (1 - z) * (1 - n * n)
        da_z = dh * (h - n) * z * (1 - z)
        da_r = da_n * gh_n * r * (1 - r)
        dgx = np.concatenate([da_r, da_z, da_n], axis=1)
        dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)     # n sees gh_n through r
        dh_prev = dh * z + dgh @ p["weight_hh"]
        return dgx, dh_prev, None, {"weight_hh": dgh.T @ h, "bias_hh": dgh.sum(axis=0)}


class ChoGRUStep:
    """The original GRU (Cho et al. 2014; Keras reset_after=False): the reset gate
    acts on h before the matmul. Same r, z, n order and h' = (1 - z) * n + z * h:

        n = tanh(gx_n + (r * h) W_hn^T + b_hn)
    """
    gates, has_cell, extra_params = 3, False, ()

    def forward(self, p, gx, h, c):
        H = h.shape[1]
        W, b = p["weight_hh"], p["bias_hh"]
        gh_rz = h @ W[:2 * H].T + b[:2 * H]
        r = sigmoid(gx[:, :H] + gh_rz[:, :H])
        z = sigmoid(gx[:, H:2 * H] + gh_rz[:, H:])
        rh = r * h
        n = np.tanh(gx[:, 2 * H:] + rh @ W[2 * H:].T + b[2 * H:])
        return (1 - z) * n + z * h, None, (h, r, z, n, rh)

    def backward(self, p, dh, dc, cache):
        h, r, z, n, rh = cache
        H = h.shape[1]
        W = p["weight_hh"]
        da_n = dh * (1 - z) * (1 - n * n)
        da_z = dh * (h - n) * z * (1 - z)
        drh = da_n @ W[2 * H:]                       # gradient of r * h
        da_r = drh * h * r * (1 - r)
        da_rz = np.concatenate([da_r, da_z], axis=1)
        dh_prev = dh * z + drh * r + da_rz @ W[:2 * H]
        return np.concatenate([da_rz, da_n], axis=1), dh_prev, None, {
            "weight_hh": np.concatenate([da_rz.T @ h, da_n.T @ rh], axis=0),
            "bias_hh": np.concatenate([da_rz.sum(axis=0), da_n.sum(axis=0)])}


# --------------------------------------------------------------------------------------
# Cells: one step, x (N, D) and h (N, H) [and c (N, H)] -> h' (N, H)
# --------------------------------------------------------------------------------------

def _check_weights(layer, params, gates, suffix="", input_size=None, hidden_size=None):
    """weight_ih (G*H, D), weight_hh (G*H, H), bias_ih and bias_hh (G*H,); returns (D, H)."""
    names = [n + suffix for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    for name in names:
        if name not in params:
            raise TypeError(f"{type(layer).__name__}: missing parameter '{name}'")
    w_ih = float_array(layer, names[0], params[names[0]], ndim=2)
    w_hh = float_array(layer, names[1], params[names[1]], ndim=2)
    H = w_hh.shape[1] if hidden_size is None else hidden_size
    same_shape(layer, names[1], w_hh, (gates * H, H), f"{gates} gate blocks of H={H} rows")
    D = w_ih.shape[1] if input_size is None else input_size
    same_shape(layer, names[0], w_ih, (gates * H, D), f"{gates} gate blocks by input size {D}")
    for name in names[2:]:
        same_shape(layer, name, float_array(layer, name, params[name], ndim=1), (gates * H,),
                   f"{gates} gate blocks of H={H}")
    return D, H


class _Cell(Layer):
    """One time step: gx = x W_ih^T + b_ih, then the recurrence's step."""

    def __init__(self, step, weight_ih, weight_hh, bias_ih, bias_hh):
        params = dict(weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih, bias_hh=bias_hh)
        self.input_size, self.hidden_size = _check_weights(self, params, step.gates)
        super().__init__(**{k: np.asarray(v) for k, v in params.items()})
        self.step, self.cache = step, None

    def _state(self, arg, value, n):
        value = float_array(self, arg, value, ndim=2)
        return same_shape(self, arg, value, (n, self.hidden_size), "(batch, hidden size)")

    def _forward(self, x, h, c=None):
        p = self.params
        x = float_array(self, "x", x, ndim=2)
        dim_equals(self, "x", x, 1, self.input_size, "the input size of weight_ih")
        h = self._state("h", h, len(x))
        if c is not None:
            c = self._state("c", c, len(x))
        self.x = x
        h_next, self.c_next, self.cache = self.step.forward(p, x @ p["weight_ih"].T + p["bias_ih"], h, c)
        return h_next

    def _backward(self, dh, dc=None):
        require_forward(self, "cache")
        p = self.params
        shape = (len(self.x), self.hidden_size)
        dh = upstream(self, dh, shape)
        if self.step.has_cell:
            dc = np.zeros_like(dh) if dc is None else same_shape(self, "dc", float_array(self, "dc", dc), shape)
        dgx, dh_prev, dc_prev, hidden = self.step.backward(p, dh, dc, self.cache)
        self.grads = {"weight_ih": dgx.T @ self.x, "bias_ih": dgx.sum(axis=0), **hidden}
        dx = dgx @ p["weight_ih"]
        return (dx, dh_prev, dc_prev) if self.step.has_cell else (dx, dh_prev)


class RNNCell(_Cell):
    """z' = f(x W_in^T + b_ih + z W^T + b_hh), f = tanh, relu or sigmoid (torch.nn.RNNCell).

    Backward: delta = dz' * f'(u);  dx = delta W_in;  dz = delta W;
              dW_in = delta^T x;  dW = delta^T z;  db_ih = db_hh = sum_n delta.
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity="tanh"):
        super().__init__(RNNStep(nonlinearity), weight_ih, weight_hh, bias_ih, bias_hh)

    def forward(self, x, h):
        return self._forward(x, h)

    def backward(self, dh_next):
        return self._backward(dh_next)


class LSTMCell(_Cell):
    """torch.nn.LSTMCell (gates i, f, g, o). forward(x, h, c) returns h'; c' is kept in
    `self.c_next`. backward(dh', dc'=0) returns (dx, dh, dc)."""

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        super().__init__(LSTMStep(), weight_ih, weight_hh, bias_ih, bias_hh)

    def forward(self, x, h, c):
        return self._forward(x, h, c)

    def backward(self, dh_next, dc_next=None):
        return self._backward(dh_next, dc_next)


class GRUCell(_Cell):
    """torch.nn.GRUCell (gates r, z, n; reset after the hidden matmul). backward returns (dx, dh)."""

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        super().__init__(GRUStep(), weight_ih, weight_hh, bias_ih, bias_hh)

    def forward(self, x, h):
        return self._forward(x, h)

    def backward(self, dh_next):
        return self._backward(dh_next)


# --------------------------------------------------------------------------------------
# Sequences: the time loop, stacked layers, two directions, variable lengths
# --------------------------------------------------------------------------------------

class _Recurrent(Layer):
    """A multi-layer, optionally bidirectional recurrence over x (N, T, D), batch first.

    Parameters are named as in torch: weight_ih_l{k}, ..., and weight_ih_l{k}_reverse
    for the backward direction of layer k. Layer k > 0 reads the output of layer
    k - 1 (both directions concatenated).

    lengths (N,) of integers in [1, T], optional: sequence n ends at lengths[n]
    (torch's packed sequences). Past its end the output is 0 and the state stops
    changing, so h_n is the state at the last valid step (for the reverse
    direction, the state after step 0, started from h0 at step lengths[n] - 1).

    After forward, self.h_n (and self.c_n) hold the final states, (L * dirs, N, H).
    backward(dout, dh_n=None, dc_n=None) returns the gradients of x, h0 (and c0).
    """

    def __init__(self, step, params, num_layers=1, bidirectional=False):
        self.step, self.num_layers = step, int(num_layers)
        self.directions = 2 if bidirectional else 1
        if self.num_layers < 1:
            raise ValueError(f"{type(self).__name__}: num_layers must be >= 1, got {num_layers}")
        expected = {self._name(n, l, d) for l in range(self.num_layers) for d in range(self.directions)
                    for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") + step.extra_params}
        unknown = sorted(set(params) - expected)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected parameter(s) {unknown} for "
                            f"num_layers={num_layers}, bidirectional={bidirectional}")
        self.input_size, self.hidden_size = _check_weights(self, params, step.gates, "_l0")
        for l in range(self.num_layers):
            for d in range(self.directions):
                _check_weights(self, params, step.gates, self._name("", l, d),
                               self.input_size if l == 0 else self.directions * self.hidden_size,
                               self.hidden_size)
                for n in step.extra_params:
                    name = self._name(n, l, d)
                    if name not in params:
                        raise TypeError(f"{type(self).__name__}: missing parameter '{name}'")
                    same_shape(self, name, float_array(self, name, params[name], ndim=1),
                               (self.hidden_size,), "one weight per hidden unit")
        super().__init__(**{k: np.asarray(v) for k, v in params.items()})
        self.caches = None

    @staticmethod
    def _name(base, layer, direction):
        return f"{base}_l{layer}" + ("_reverse" if direction else "")

    def _layer_params(self, layer, direction):
        """This layer and direction's parameters under their short names (weight_ih, ...)."""
        suffix = self._name("", layer, direction)
        return {k[:-len(suffix)]: v for k, v in self.params.items() if k.endswith(suffix)
                and k[:-len(suffix)] in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                + self.step.extra_params}

    def _check_inputs(self, x, h0, c0, lengths):
        x = float_array(self, "x", x, ndim=3)
        dim_equals(self, "x", x, 2, self.input_size, "the input size of weight_ih_l0")
        N, T, _ = x.shape
        state_shape = (self.num_layers * self.directions, N, self.hidden_size)
        h0 = same_shape(self, "h0", float_array(self, "h0", h0), state_shape,
                        "(num_layers * directions, N, H)")
        if c0 is not None:
            c0 = same_shape(self, "c0", float_array(self, "c0", c0), state_shape,
                            "(num_layers * directions, N, H)")
        mask = None
        if lengths is not None:
            lengths = int_array(self, "lengths", lengths, ndim=1, low=1, high=T + 1)
            if lengths.shape != (N,):
                raise ShapeError(f"{type(self).__name__}: argument 'lengths' must have shape "
                                 f"({N},) (one length per sequence), got {lengths.shape}")
            # mask[t, n] = 1 while step t is inside sequence n; time-major, (T, N, 1)
            mask = (np.arange(T)[:, None] < lengths[None, :]).astype(x.dtype)[:, :, None]
        return x, h0, c0, mask

    def _run(self, x, h0, c0=None, lengths=None):
        x, h0, c0, self.mask = self._check_inputs(x, h0, c0, lengths)
        T, N = x.shape[1], x.shape[0]
        inp = x.transpose(1, 0, 2)                  # time-major (T, N, D): one step is contiguous
        self.inputs, self.caches = [], {}
        self.h_n, self.c_n = np.empty_like(h0), None if c0 is None else np.empty_like(c0)
        for l in range(self.num_layers):
            out = np.empty((T, N, self.directions * self.hidden_size), dtype=x.dtype)
            for d in range(self.directions):
                k = l * self.directions + d
                self.h_n[k], c_n = self._forward_direction(l, d, inp, h0[k], None if c0 is None else c0[k], out)
                if c0 is not None:
                    self.c_n[k] = c_n
            self.inputs.append(inp)
            inp = out                                # the next layer reads both directions
        return np.ascontiguousarray(inp.transpose(1, 0, 2))

    def _time_steps(self, T, direction):
        return range(T - 1, -1, -1) if direction else range(T)

    def _forward_direction(self, layer, direction, inp, h, c, out):
        """Run one layer in one direction over inp (T, N, D); write its half of out; return (h_n, c_n)."""
        H, p = self.hidden_size, self._layer_params(layer, direction)
        columns = slice(direction * H, (direction + 1) * H)
        gx = inp @ p["weight_ih"].T + p["bias_ih"]   # x^t W_in^T + b_ih for every t at once
        caches = []
        for t in self._time_steps(len(inp), direction):
            h_new, c_new, cache = self.step.forward(p, gx[t], h, c)
            caches.append(cache)
            if self.mask is None:
                h, c = h_new, c_new
                out[t, :, columns] = h
            else:                                    # past a sequence's end: state held, output 0
                m = self.mask[t]
                h = m * h_new + (1 - m) * h
                c = None if c is None else m * c_new + (1 - m) * c
                out[t, :, columns] = m * h_new
        self.caches[layer * self.directions + direction] = caches
        return h, c

    def _backward(self, dout, dh_n=None, dc_n=None):
        require_forward(self, "caches")
        T, N, _ = self.inputs[0].shape
        dout = upstream(self, dout, (N, T, self.directions * self.hidden_size))
        dh_n = np.zeros_like(self.h_n) if dh_n is None else same_shape(self, "dh_n", dh_n, self.h_n.shape)
        if self.step.has_cell:
            dc_n = np.zeros_like(self.c_n) if dc_n is None else same_shape(self, "dc_n", dc_n, self.c_n.shape)
        dh0 = np.empty_like(dh_n)
        dc0 = np.empty_like(dh_n) if self.step.has_cell else None
        dout_t = dout.transpose(1, 0, 2)             # (T, N, dirs * H)
        for l in reversed(range(self.num_layers)):
            dinp = np.zeros_like(self.inputs[l])
            for d in range(self.directions):
                k = l * self.directions + d
                dh0[k], dc = self._backward_direction(l, d, dout_t, dh_n[k],
                                                      dc_n[k] if self.step.has_cell else None, dinp)
                if self.step.has_cell:
                    dc0[k] = dc
            dout_t = dinp                            # the layer below gets the gradient of its output
        dx = np.ascontiguousarray(dout_t.transpose(1, 0, 2))
        return (dx, dh0, dc0) if self.step.has_cell else (dx, dh0)

    def _backward_direction(self, layer, direction, dout, dh, dc, dinp):
        """BPTT through one layer and direction: add to dinp, store the parameter gradients,
        return the gradients of this direction's initial state (dh0, dc0)."""
        H, p = self.hidden_size, self._layer_params(layer, direction)
        columns = slice(direction * H, (direction + 1) * H)
        inp = self.inputs[layer]
        T, N, _ = inp.shape
        grads = {name: np.zeros_like(value) for name, value in p.items()}
        dgx = np.empty((T, N, self.step.gates * H), dtype=dout.dtype)
        caches = self.caches[layer * self.directions + direction]
        for t, cache in zip(reversed(self._time_steps(T, direction)), reversed(caches)):
            # dE/dz^t: the output's own gradient at t + what flows back from step t+1 (dh)
            dz = dout[t, :, columns] + dh
            if self.mask is None:
                dgx[t], dh, dc, hidden = self.step.backward(p, dz, dc, cache)
            else:                                    # past the end, the held state passes dh on
                m = self.mask[t]
                dgx[t], dh_step, dc_step, hidden = self.step.backward(
                    p, m * dz, None if dc is None else m * dc, cache)
                dh = dh_step + (1 - m) * dh
                dc = None if dc is None else dc_step + (1 - m) * dc
            for name, g in hidden.items():
                grads[name] += g
        flat = dgx.reshape(T * N, dgx.shape[2])
        grads["weight_ih"] = flat.T @ inp.reshape(T * N, inp.shape[2])   # sum_t delta^t^T x^t
        grads["bias_ih"] = flat.sum(axis=0)
        dinp += dgx @ p["weight_ih"]                              # sum over gates of delta^t W_in
        suffix = self._name("", layer, direction)
        self.grads.update({name + suffix: g for name, g in grads.items()})
        return dh, dc


class _NoCellRecurrent(_Recurrent):
    """A recurrence without a cell state: forward(x, h0, lengths=None), backward(dout, dh_n=None) -> (dx, dh0)."""

    def forward(self, x, h0, lengths=None):
        return self._run(x, h0, None, lengths)

    def backward(self, dout, dh_n=None):
        return self._backward(dout, dh_n)


class RNN(_NoCellRecurrent):
    """Elman RNN over a sequence (torch.nn.RNN with batch_first=True), f = tanh, relu or sigmoid.

    forward(x (N, T, D), h0 (L*dirs, N, H), lengths=None) -> out (N, T, dirs*H)
    backward(dout, dh_n=None) -> (dx, dh0), full BPTT; parameter gradients in self.grads.
    """

    def __init__(self, nonlinearity="tanh", num_layers=1, bidirectional=False, **params):
        super().__init__(RNNStep(nonlinearity), params, num_layers, bidirectional)


class _CellStateRecurrent(_Recurrent):
    """A recurrence with a cell state c (LSTM): forward(x, h0, c0, lengths=None),
    backward(dout, dh_n=None, dc_n=None) -> (dx, dh0, dc0)."""

    def forward(self, x, h0, c0, lengths=None):
        if c0 is None:
            raise TypeError(f"{type(self).__name__}: argument 'c0' is required")
        return self._run(x, h0, c0, lengths)

    def backward(self, dout, dh_n=None, dc_n=None):
        return self._backward(dout, dh_n, dc_n)


class LSTM(_CellStateRecurrent):
    """torch.nn.LSTM (batch_first=True, gates i, f, g, o, biases b_ih and b_hh)."""

    def __init__(self, num_layers=1, bidirectional=False, **params):
        super().__init__(LSTMStep(), params, num_layers, bidirectional)


class PeepholeLSTM(_CellStateRecurrent):
    """LSTM with diagonal peephole weights weight_ci_l{k}, weight_cf_l{k}, weight_co_l{k} (H,)."""

    def __init__(self, num_layers=1, bidirectional=False, **params):
        super().__init__(PeepholeLSTMStep(), params, num_layers, bidirectional)


class GRU(_NoCellRecurrent):
    """torch.nn.GRU (batch_first=True, gates r, z, n, reset after the hidden matmul)."""

    def __init__(self, num_layers=1, bidirectional=False, **params):
        super().__init__(GRUStep(), params, num_layers, bidirectional)


class ChoGRU(_NoCellRecurrent):
    """The original GRU (Cho et al.; Keras reset_after=False): reset applied to h before W_hn."""

    def __init__(self, num_layers=1, bidirectional=False, **params):
        super().__init__(ChoGRUStep(), params, num_layers, bidirectional)


# --------------------------------------------------------------------------------------
# Time-distributed layers: the same layer at every time step
# --------------------------------------------------------------------------------------

class TimeAffine(Affine):
    """y^t = x^t W + b at every step: x (N, T, D), W (D, O) in the book's layout, y (N, T, O).

    Backward: the Affine gradients with (N, T) flattened into one batch axis,
    dW = sum_{n,t} x_nt^T dout_nt, db = sum_{n,t} dout_nt, dx = dout W^T.
    """

    def forward(self, x):
        return super().forward(float_array(self, "x", x, ndim=3))


class TimeEmbedding(Layer):
    """y_nt = W[idx_nt]: idx (N, T) integer word ids, W (V, D), y (N, T, D).

    Backward: dW[v] = sum of dout_nt over the positions where idx_nt = v (np.add.at
    adds repeated ids up; dW[idx] = dout would keep only one of them). The ids are
    data, not a differentiable input: backward returns None.
    """

    def __init__(self, W):
        super().__init__(W=float_array(self, "W", W, ndim=2))

    def forward(self, idx):
        self.idx = int_array(self, "idx", idx, ndim=2, high=self.params["W"].shape[0])
        return self.params["W"][self.idx]

    def backward(self, dout):
        require_forward(self, "idx")
        dout = upstream(self, dout, self.idx.shape + (self.params["W"].shape[1],))
        dW = np.zeros_like(self.params["W"])
        np.add.at(dW, self.idx, dout)
        self.grads["W"] = dW
        return None


class TimeSoftmaxCrossEntropy(Layer):
    """Softmax cross-entropy at every step, averaged over the positions that count.

    x (N, T, V) scores, t (N, T) class ids; positions with t == ignore_index are
    ignored (padding). L = (1 / K) sum_{(n,t) counted} -log softmax(x_nt)[t_nt],
    K = number of counted positions (torch's cross_entropy with ignore_index and
    reduction='mean'; the book's TimeSoftmaxWithLoss). reduction='sum' drops the 1/K.
    Backward: dx_nt = (softmax(x_nt) - onehot(t_nt)) / K at counted positions, 0 elsewhere.
    """

    def __init__(self, ignore_index=-1, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise ValueError(f"TimeSoftmaxCrossEntropy: reduction must be 'mean' or 'sum', got {reduction!r}")
        self.ignore_index, self.reduction = int(ignore_index), reduction

    def forward(self, x, t):
        x = float_array(self, "x", x, ndim=3)
        t = np.asarray(t)
        if not np.issubdtype(t.dtype, np.integer):
            raise TypeError(f"TimeSoftmaxCrossEntropy: argument 't' must be an integer array, got dtype {t.dtype}")
        same_shape(self, "t", t, x.shape[:2], "one class id per (n, t) of x")
        self.valid = t != self.ignore_index
        labels = int_array(self, "t", np.where(self.valid, t, 0), high=x.shape[2])
        logp = log_softmax(x)
        self.prob = np.exp(logp)
        self.onehot = np.zeros_like(x)
        np.put_along_axis(self.onehot, labels[..., None], 1.0, axis=2)
        self.scale = 1.0 / max(int(self.valid.sum()), 1) if self.reduction == "mean" else 1.0
        losses = -(self.onehot * logp).sum(axis=2) * self.valid
        return (losses.sum() * self.scale).astype(x.dtype)

    def backward(self, dout=1.0):
        require_forward(self, "prob")
        dout = float(np.asarray(dout))
        return (self.prob - self.onehot) * self.valid[..., None] * (self.scale * dout)


# --------------------------------------------------------------------------------------
# Truncated BPTT and a sequence-to-sequence model
# --------------------------------------------------------------------------------------

class TruncatedBPTTLSTM(Layer):
    """A one-layer LSTM run over x (N, T, D) in chunks of `chunk_size` steps.

    The state (h, c) is carried from one chunk to the next, but the gradient is
    cut there: each chunk is backpropagated on its own, from zero dh, dc at its
    end (torch: h.detach(), c.detach() between chunks). Parameter gradients are
    the sum over chunks; dh0 and dc0 come from the first chunk only.
    """

    def __init__(self, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, chunk_size):
        self.lstm = LSTM(weight_ih_l0=weight_ih_l0, weight_hh_l0=weight_hh_l0,
                         bias_ih_l0=bias_ih_l0, bias_hh_l0=bias_hh_l0)
        super().__init__(**self.lstm.params)
        if int(chunk_size) < 1:
            raise ValueError(f"TruncatedBPTTLSTM: chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size, self.chunks = int(chunk_size), None

    def forward(self, x, h0, c0):
        x = float_array(self, "x", x, ndim=3)
        self.chunks, outs = [], []
        h, c = h0, c0
        for start in range(0, x.shape[1], self.chunk_size):
            chunk = LSTM(**self.params)
            outs.append(chunk.forward(x[:, start:start + self.chunk_size], h, c))
            h, c = chunk.h_n, chunk.c_n              # carried forward...
            self.chunks.append(chunk)
        self.h_n, self.c_n = h, c
        return np.concatenate(outs, axis=1)

    def backward(self, dout):
        require_forward(self, "chunks")
        dxs, start = [], 0
        self.grads = {name: np.zeros_like(v) for name, v in self.params.items()}
        for chunk in self.chunks:
            T = chunk.inputs[0].shape[0]
            dx, dh0, dc0 = chunk.backward(dout[:, start:start + T])   # ...but no dh_n, dc_n back
            dxs.append(dx)
            for name, g in chunk.grads.items():
                self.grads[name] += g
            if start == 0:
                first = (dh0, dc0)
            start += T
        return (np.concatenate(dxs, axis=1),) + first


class Seq2Seq(Layer):
    """Encoder LSTM, decoder LSTM with dot-product attention, TimeAffine, TimeSoftmaxCrossEntropy.

        hs = Encoder(xs) (N, Tx, H), from zero state; the decoder starts from its final (h, c)
        hd = Decoder(ys) (N, Ty, H)                       (teacher forcing: ys are given)
        s = hd hs^T (N, Ty, Tx),  a = softmax(s) over Tx,  ctx = a hs (N, Ty, H)
        logits = [ctx, hd] W + b (N, Ty, V),  L = TimeSoftmaxCrossEntropy(logits, ts)

    forward(xs, ys, ts) returns the scalar loss; backward(dout=1) returns (dxs, dys).
    Parameters: enc_* and dec_* (one LSTM layer each, torch names without _l0), W, b.
    """

    LSTM_PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

    def __init__(self, W, b, ignore_index=-1, **params):
        for side in ("enc", "dec"):
            with inner_layer(self, f"{side}oder LSTM",
                             {f"{n}_l0": f"{side}_{n}" for n in self.LSTM_PARAMS}):
                lstm = LSTM(**{f"{n}_l0": params.pop(f"{side}_{n}") for n in self.LSTM_PARAMS})
            setattr(self, f"{side}oder", lstm)
        if params:
            raise TypeError(f"Seq2Seq: unexpected parameter(s) {sorted(params)}")
        self.affine = TimeAffine(W, b)
        self.loss = TimeSoftmaxCrossEntropy(ignore_index)
        self.parts = {"enc_": self.encoder, "dec_": self.decoder, "": self.affine}
        super().__init__(**{prefix + name.replace("_l0", ""): v for prefix, part in self.parts.items()
                            for name, v in part.params.items()})

    def forward(self, xs, ys, ts):
        xs = float_array(self, "xs", xs, ndim=3)
        zeros = np.zeros((1, len(xs), self.encoder.hidden_size), dtype=xs.dtype)
        with inner_layer(self, "encoder LSTM", {"x": "xs"}):
            self.hs = self.encoder.forward(xs, zeros, zeros)
        with inner_layer(self, "decoder LSTM", {"x": "ys"}):
            self.hd = self.decoder.forward(ys, self.encoder.h_n, self.encoder.c_n)
        self.a = softmax(self.hd @ self.hs.transpose(0, 2, 1), axis=-1)    # attention weights
        ctx = self.a @ self.hs
        logits = self.affine.forward(np.concatenate([ctx, self.hd], axis=2))
        with inner_layer(self, "loss", {"target": "ts", "t": "ts"}):
            return self.loss.forward(logits, ts)

    def backward(self, dout=1.0):
        require_forward(self, "a")
        H = self.hs.shape[2]
        dcat = self.affine.backward(self.loss.backward(dout))
        dctx, dhd = dcat[..., :H], dcat[..., H:].copy()
        da = dctx @ self.hs.transpose(0, 2, 1)
        dhs = self.a.transpose(0, 2, 1) @ dctx                  # ctx = a hs
        ds = self.a * (da - (da * self.a).sum(axis=-1, keepdims=True))   # softmax backward
        dhd += ds @ self.hs                                    # s = hd hs^T
        dhs += ds.transpose(0, 2, 1) @ self.hd
        dys, dh0, dc0 = self.decoder.backward(dhd)
        dxs, _, _ = self.encoder.backward(dhs, dh0, dc0)       # the decoder's start is the encoder's end
        self.grads = {prefix + name.replace("_l0", ""): g for prefix, part in self.parts.items()
                      for name, g in part.grads.items()}
        return dxs, dys
