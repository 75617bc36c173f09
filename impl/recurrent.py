"""Recurrent layers and backpropagation through time (seed 001): RNN, LSTM, GRU.

Each sequence layer here is ONE layer running in ONE direction, and its backward is
the BPTT loop written out: t from T-1 down to 0, the gradient from step t+1 added to
the output's own gradient at t (and, for the LSTM, the cell's gradient dc carried).
The stacked, bidirectional and variable-length forms are built from these layers by
`StackedRecurrent` (num_layers=2 or bidirectional=True gives one, as torch's options
do); the cells (RNNCell, LSTMCell, GRUCell) do one step, forward and backward.

Layout: batch first. A sequence x has shape (N, T, D) (batch, time, features), or
(T, D) for one unbatched sequence (as torch); initial states h0, c0 have torch's
shape (num_layers * directions, N, H); the output has shape (N, T, directions * H).
Weights follow torch's layout and names: weight_ih_l0 (G*H, D), weight_hh_l0 (G*H, H),
bias_ih_l0 and bias_hh_l0 (G*H,), G gate blocks stacked on the first axis. In the
seed's column-vector notation an Elman RNN is

    u^t = W_(in) x^t + W z^{t-1} + b,    z^t = f(u^t)

so W_(in) = weight_ih, W = weight_hh and b = bias_ih + bias_hh. Here each row of a
batch is one sample, so the code reads u^t = x^t W_(in)^T + z^{t-1} W^T + b.

BPTT (seed 001) with delta^t = dE/du^t:

    delta^t = (dE/dz^t + delta^{t+1} W) * f'(u^t)
    dE/dW_(in) = sum_t delta^t^T x^t,   dE/dW = sum_t delta^t^T z^{t-1},   dE/db = sum_t delta^t

The gradient dE/dz^t has two sources: the output at step t, and step t+1 through W.
Dropping the second is the classic mistake; the conformance suite diagnoses it as
"right at the last time step but wrong at earlier ones".

Inside the sequence layers arrays are time-major, (T, N, ...), so that one step is
one contiguous block; the products with W_(in) are done for every step at once.
"""
import re

import numpy as np

from ._checks import (float_array, int_array, same_shape, dim_equals, upstream, scalar_upstream,
                      inner_layer, require_forward, ShapeError)
from .activations import sigmoid, softmax
from .base import Layer
from .losses import log_softmax

__all__ = ['RNNCell', 'RNN', 'LSTMCell', 'LSTM', 'PeepholeLSTM', 'GRUCell', 'GRU', 'ChoGRU',
           'TimeAffine', 'TimeEmbedding', 'TimeSoftmaxCrossEntropy', 'TruncatedBPTTLSTM',
           'Seq2Seq', 'StackedRecurrent']

NONLINEARITIES = ("tanh", "relu", "sigmoid")     # the RNN's f


# --------------------------------------------------------------------------------------
# Plumbing: checks of weights, inputs and upstream gradients; torch's unbatched form
# --------------------------------------------------------------------------------------

def _weights(layer, params, gates, suffix="", extra=(), input_size=None, hidden_size=None):
    """weight_ih (G*H, D), weight_hh (G*H, H), bias_ih and bias_hh (G*H,), and diagonal
    `extra` weights (H,), with `suffix` (_l0 for a sequence layer); returns (D, H)."""
    names = [n + suffix for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    for name in names + [n + suffix for n in extra]:
        if name not in params:
            raise TypeError(f"{_name(layer)}: missing parameter '{name}'")
    w_ih = float_array(layer, names[0], params[names[0]], ndim=2)
    w_hh = float_array(layer, names[1], params[names[1]], ndim=2)
    H = w_hh.shape[1] if hidden_size is None else hidden_size
    same_shape(layer, names[1], w_hh, (gates * H, H), f"{gates} gate blocks of H={H} rows")
    D = w_ih.shape[1] if input_size is None else input_size
    same_shape(layer, names[0], w_ih, (gates * H, D), f"{gates} gate blocks by input size {D}")
    for name in names[2:]:
        same_shape(layer, name, float_array(layer, name, params[name], ndim=1), (gates * H,),
                   f"{gates} gate blocks of H={H}")
    for name in (n + suffix for n in extra):
        same_shape(layer, name, float_array(layer, name, params[name], ndim=1), (H,),
                   "one weight per hidden unit")
    return D, H


def _name(layer):
    return layer if isinstance(layer, str) else getattr(layer, "name", type(layer).__name__)


def _sequence_inputs(layer, x, **states):
    """x (N, T, D) and each state (1, N, H), checked; a one-layer, one-direction layer.

    torch's unbatched form, x (T, D) with states (1, H), gets a batch axis of 1 here and
    loses it again in `_unbatched`; layer.unbatched remembers which form came in.
    """
    x = float_array(layer, "x", x)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{_name(layer)}: argument 'x' must have shape (N, T, D), or (T, D) "
                         f"for one unbatched sequence, got {x.shape}")
    layer.unbatched, layer.packed = x.ndim == 2, None
    x = x[None] if layer.unbatched else x
    dim_equals(layer, "x", x, 2, layer.input_size, "the input size of weight_ih_l0")
    layer.batch_shape = x.shape[:2]
    shape = (1, x.shape[0], layer.hidden_size)
    checked = []
    for arg, value in states.items():
        value = float_array(layer, arg, value)
        if layer.unbatched:
            value = same_shape(layer, arg, value, (1, layer.hidden_size),
                               "(num_layers * directions, H) for an unbatched x")[:, None]
        checked.append(same_shape(layer, arg, value, shape, "(num_layers * directions, N, H)"))
    return (x, *checked)


def _sequence_upstream(layer, dout, **final):
    """dout (N, T, H) (or (T, H) unbatched) and the gradients of the final states, each
    (1, N, H) or zero when not given; all with the batch axis."""
    N, T = layer.batch_shape
    out_shape = (T, layer.hidden_size) if layer.unbatched else (N, T, layer.hidden_size)
    dout = upstream(layer, dout, out_shape)
    checked = [dout[None] if layer.unbatched else dout]
    for arg, value in final.items():
        if value is None:
            checked.append(np.zeros((1, N, layer.hidden_size), dtype=dout.dtype))
            continue
        value = float_array(layer, arg, value)
        value = value[:, None] if layer.unbatched and value.ndim == 2 else value
        checked.append(same_shape(layer, arg, value, (1, N, layer.hidden_size), "the shape of h_n"))
    return checked


def _batch_first(layer, out):
    """Time-major (T, N, H) -> (N, T, H), or (T, H) for an unbatched input."""
    out = np.ascontiguousarray(out.transpose(1, 0, 2))
    return out[0] if layer.unbatched else out


def _unbatched(layer, *states):
    """States (1, N, H) -> (1, H) where the input was unbatched."""
    return tuple(s[:, 0] if layer.unbatched else s for s in states)


def _cell_inputs(layer, x, **states):
    """x (N, D) and each state (N, H); torch's unbatched x (D,) with states (H,) gets a batch axis."""
    x = float_array(layer, "x", x)
    if x.ndim not in (1, 2):
        raise ShapeError(f"{_name(layer)}: argument 'x' must have shape (N, D), or (D,) "
                         f"unbatched, got {x.shape}")
    layer.unbatched = x.ndim == 1
    x = x[None] if layer.unbatched else x
    dim_equals(layer, "x", x, 1, layer.input_size, "the input size of weight_ih")
    checked = []
    for arg, value in states.items():
        value = float_array(layer, arg, value, ndim=1 if layer.unbatched else 2)
        value = value[None] if layer.unbatched else value
        checked.append(same_shape(layer, arg, value, (len(x), layer.hidden_size), "(batch, hidden size)"))
    return (x, *checked)


def _cell_upstream(layer, **grads):
    """The upstream gradients of a cell's outputs, each (N, H) (or (H,) unbatched); zero when not given."""
    shape = (len(layer.x), layer.hidden_size)
    checked = []
    for arg, value in grads.items():
        if value is None:
            checked.append(np.zeros(shape, dtype=layer.x.dtype))
            continue
        value = upstream(layer, value, shape[1:] if layer.unbatched else shape)
        checked.append(value[None] if layer.unbatched else value)
    return checked


def _cell_out(layer, *arrays):
    return tuple(a[0] if layer.unbatched else a for a in arrays)


def _cell_weights(layer, params, gates):
    params = {k: np.asarray(v) for k, v in params.items()}
    layer.input_size, layer.hidden_size = _weights(layer, params, gates)
    return params


def _sequence_weights(layer, params, gates, extra=()):
    params = {k: np.asarray(v) for k, v in params.items()}
    layer.input_size, layer.hidden_size = _weights(layer, params, gates, "_l0", extra)
    return params


def _stacked_or_plain(cls, num_layers, bidirectional, params, **options):
    """What LSTM(...) and the others build: the layer itself for one layer in one direction,
    otherwise a StackedRecurrent of one-layer, one-direction layers of `cls`."""
    if int(num_layers) != 1 or bidirectional:
        return StackedRecurrent(cls, num_layers, bidirectional, params, **options)
    return None


def _by_length(layer, lengths, x, *states):
    """Variable lengths on a one-layer layer: a StackedRecurrent of one layer runs each
    sequence alone up to its end; `layer.packed` keeps it for backward."""
    layer.packed = StackedRecurrent(type(layer), 1, False, layer.params, **getattr(layer, "options", {}))
    out = layer.packed.forward(x, *states, lengths)
    layer.h_n, layer.c_n = layer.packed.h_n, layer.packed.c_n
    return out


def _by_length_backward(layer, dout, *final):
    grads = layer.packed.backward(dout, *final)
    layer.grads = layer.packed.grads
    return grads


def _previous(first, states):
    """(T, N, H) states s^0..s^{T-1} -> s^{-1}..s^{T-2}: each step's previous state."""
    return np.concatenate([first[None], states[:-1]])


# --------------------------------------------------------------------------------------
# Cells: one step, x (N, D) and h (N, H) [and c (N, H)] -> h' (N, H)
# --------------------------------------------------------------------------------------

class RNNCell(Layer):
    """One step of the Elman RNN (torch.nn.RNNCell), f = tanh, relu or sigmoid:

        u = x W_(in)^T + z W^T + b,   z' = f(u)          (b = bias_ih + bias_hh)

    Backward, from dz' = dE/dz':
        delta = dz' * f'(u)
        dx = delta W_(in),   dz = delta W,   dW_(in) = delta^T x,   dW = delta^T z,
        db_ih = db_hh = sum_n delta

    forward(x (N, D), h (N, H)) -> z' (N, H); backward(dh_next) -> (dx, dh).
    Unbatched x (D,) and h (H,) are accepted, as torch.
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity="tanh"):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be one of {tuple(NONLINEARITIES)}, "
                             f"got {nonlinearity!r}")
        super().__init__(**_cell_weights(self, dict(weight_ih=weight_ih, weight_hh=weight_hh,
                                                    bias_ih=bias_ih, bias_hh=bias_hh), gates=1))
        self.nonlinearity = nonlinearity

    def forward(self, x, h):
        self.x, self.h = _cell_inputs(self, x, h=h)
        p = self.params
        u = self.x @ p["weight_ih"].T + self.h @ p["weight_hh"].T + p["bias_ih"] + p["bias_hh"]
        if self.nonlinearity == "tanh":                      # z' = f(u)
            self.z = np.tanh(u)
        elif self.nonlinearity == "relu":
            self.z = np.maximum(u, 0)
        else:
            self.z = sigmoid(u)
        return _cell_out(self, self.z)[0]

    def backward(self, dh_next):
        require_forward(self, "z")
        dz, = _cell_upstream(self, dh_next=dh_next)
        p, z = self.params, self.z
        if self.nonlinearity == "tanh":                      # f'(u), from the output z' = f(u)
            f_prime = 1 - z * z
        elif self.nonlinearity == "relu":
            f_prime = (z > 0).astype(z.dtype)                # 0 at u = 0, as torch
        else:
            f_prime = z * (1 - z)
        delta = dz * f_prime                                 # delta = dz' f'(u)
        self.grads = {"weight_ih": delta.T @ self.x, "weight_hh": delta.T @ self.h,
                      "bias_ih": delta.sum(axis=0), "bias_hh": delta.sum(axis=0)}
        return _cell_out(self, delta @ p["weight_ih"], delta @ p["weight_hh"])


class LSTMCell(Layer):
    """One step of the LSTM (torch.nn.LSTMCell), gate order i, f, g, o:

        [a_i, a_f, a_g, a_o] = x W_ih^T + b_ih + h W_hh^T + b_hh
        i = sigma(a_i), f = sigma(a_f), g = tanh(a_g), o = sigma(a_o)
        c' = f * c + i * g          (the CEC: the cell keeps what the forget gate lets through)
        h' = o * tanh(c')

    Backward, from dh' and dc' (dc' = 0 when not given):
        dc~ = dc' + dh' * o * (1 - tanh^2 c')            (c' reaches the loss twice)
        da_i = dc~ * g * i(1-i),  da_f = dc~ * c * f(1-f),  da_g = dc~ * i * (1-g^2),
        da_o = dh' * tanh(c') * o(1-o)
        dx = da W_ih,  dh = da W_hh,  dc = dc~ * f,  dW_ih = da^T x,  dW_hh = da^T h,
        db_ih = db_hh = sum_n da

    forward(x (N, D), h (N, H), c (N, H)) -> h'; c' is kept in `self.c_next`.
    backward(dh_next, dc_next=None) -> (dx, dh, dc). Unbatched (D,), (H,) accepted.
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        super().__init__(**_cell_weights(self, dict(weight_ih=weight_ih, weight_hh=weight_hh,
                                                    bias_ih=bias_ih, bias_hh=bias_hh), gates=4))

    def forward(self, x, h, c):
        self.x, self.h, self.c = _cell_inputs(self, x, h=h, c=c)
        p, H = self.params, self.hidden_size
        a = self.x @ p["weight_ih"].T + p["bias_ih"] + self.h @ p["weight_hh"].T + p["bias_hh"]
        self.i, self.f, self.o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
        self.g = np.tanh(a[:, 2 * H:3 * H])
        c_next = self.f * self.c + self.i * self.g           # c' = f c + i g
        self.tc = np.tanh(c_next)
        self.c_next, = _cell_out(self, c_next)
        return _cell_out(self, self.o * self.tc)[0]          # h' = o tanh(c')

    def backward(self, dh_next, dc_next=None):
        require_forward(self, "tc")
        dh, dc = _cell_upstream(self, dh_next=dh_next, dc_next=dc_next)
        i, f, g, o, tc = self.i, self.f, self.g, self.o, self.tc
        dc = dc + dh * o * (1 - tc * tc)                     # c' feeds the loss directly and via h'
        da = np.concatenate([dc * g * i * (1 - i),           # d a_i
                             dc * self.c * f * (1 - f),      # d a_f
                             dc * i * (1 - g * g),           # d a_g
                             dh * tc * o * (1 - o)], axis=1)  # d a_o
        p = self.params
        self.grads = {"weight_ih": da.T @ self.x, "weight_hh": da.T @ self.h,
                      "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
        return _cell_out(self, da @ p["weight_ih"], da @ p["weight_hh"], dc * f)


class GRUCell(Layer):
    """One step of the GRU (torch.nn.GRUCell), gate order r, z, n; the reset gate acts
    after the hidden matmul:

        gx = x W_ih^T + b_ih,  gh = h W_hh^T + b_hh      (each split into r, z, n blocks)
        r = sigma(gx_r + gh_r),  z = sigma(gx_z + gh_z),  n = tanh(gx_n + r * gh_n)
        h' = (1 - z) * n + z * h

    Backward, from dh':
        da_n = dh' (1-z)(1-n^2),  da_z = dh' (h - n) z(1-z),  da_r = da_n gh_n r(1-r)
        dgx = [da_r, da_z, da_n],  dgh = [da_r, da_z, r * da_n]
        dx = dgx W_ih,  dh = dh' z + dgh W_hh,  dW_ih = dgx^T x,  dW_hh = dgh^T h,
        db_ih = sum_n dgx,  db_hh = sum_n dgh

    forward(x (N, D), h (N, H)) -> h'; backward(dh_next) -> (dx, dh). Unbatched accepted.
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        super().__init__(**_cell_weights(self, dict(weight_ih=weight_ih, weight_hh=weight_hh,
                                                    bias_ih=bias_ih, bias_hh=bias_hh), gates=3))

    def forward(self, x, h):
        self.x, self.h = _cell_inputs(self, x, h=h)
        p, H = self.params, self.hidden_size
        gx = self.x @ p["weight_ih"].T + p["bias_ih"]
        gh = self.h @ p["weight_hh"].T + p["bias_hh"]
        self.r = sigmoid(gx[:, :H] + gh[:, :H])
        self.z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
        self.gh_n = gh[:, 2 * H:]
        self.n = np.tanh(gx[:, 2 * H:] + self.r * self.gh_n)
        return _cell_out(self, (1 - self.z) * self.n + self.z * self.h)[0]   # h' = (1-z) n + z h

    def backward(self, dh_next):
        require_forward(self, "n")
        dh, = _cell_upstream(self, dh_next=dh_next)
        r, z, n, h = self.r, self.z, self.n, self.h
        da_n = dh * (1 - z) * (1 - n * n)
        da_z = dh * (h - n) * z * (1 - z)
        da_r = da_n * self.gh_n * r * (1 - r)
        dgx = np.concatenate([da_r, da_z, da_n], axis=1)
        dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)         # n sees gh_n through r
        p = self.params
        self.grads = {"weight_ih": dgx.T @ self.x, "weight_hh": dgh.T @ h,
                      "bias_ih": dgx.sum(axis=0), "bias_hh": dgh.sum(axis=0)}
        return _cell_out(self, dgx @ p["weight_ih"], dh * z + dgh @ p["weight_hh"])


# --------------------------------------------------------------------------------------
# Sequence layers: one layer, one direction, the time loop and BPTT written out
# --------------------------------------------------------------------------------------

class RNN(Layer):
    """Elman RNN over a sequence (seed 001; torch.nn.RNN with batch_first=True).

    Forward, t = 0 .. T-1, from z^{-1} = h0:
        u^t = x^t W_(in)^T + z^{t-1} W^T + b,   z^t = f(u^t),   f = tanh, relu or sigmoid
    Backward (BPTT), t = T-1 .. 0, from delta^T W = dh_n (0 when not given):
        delta^t = (dE/dz^t + delta^{t+1} W) * f'(u^t)     dE/dz^t: the output's gradient at t
        dE/dW_(in) = sum_t delta^t^T x^t,  dE/dW = sum_t delta^t^T z^{t-1},  dE/db = sum_t delta^t
        dE/dx^t = delta^t W_(in),  dE/dh0 = delta^0 W

    W_(in) = weight_ih_l0, W = weight_hh_l0, b = bias_ih_l0 + bias_hh_l0 (both get dE/db).
    forward(x (N, T, D), h0 (1, N, H), lengths=None) -> z (N, T, H); self.h_n = z^{T-1}.
    backward(dout, dh_n=None) -> (dx, dh0); parameter gradients in self.grads.
    num_layers > 1 or bidirectional=True builds a StackedRecurrent of RNNs; lengths (N,)
    runs each sequence alone up to its end. Unbatched x (T, D), h0 (1, H) accepted.
    """
    STATES = ("h0",)

    def __new__(cls, *args, nonlinearity="tanh", num_layers=1, bidirectional=False, **params):
        # two layers or two directions: a stack of one-layer, one-direction RNNs
        return (_stacked_or_plain(cls, num_layers, bidirectional, params, nonlinearity=nonlinearity)
                or super().__new__(cls))

    def __init__(self, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, nonlinearity="tanh",
                 num_layers=1, bidirectional=False):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"{type(self).__name__}: nonlinearity must be one of "
                             f"{tuple(NONLINEARITIES)}, got {nonlinearity!r}")
        super().__init__(**_sequence_weights(self, dict(
            weight_ih_l0=weight_ih_l0, weight_hh_l0=weight_hh_l0, bias_ih_l0=bias_ih_l0,
            bias_hh_l0=bias_hh_l0), gates=1))
        self.nonlinearity, self.options = nonlinearity, {"nonlinearity": nonlinearity}

    def forward(self, x, h0, lengths=None):
        if lengths is not None:                  # variable lengths: each sequence alone, to its end
            return _by_length(self, lengths, x, h0)
        x, h0 = _sequence_inputs(self, x, h0=h0)
        p = self.params
        f = {"tanh": np.tanh, "relu": lambda u: np.maximum(u, 0), "sigmoid": sigmoid}[self.nonlinearity]
        W_in, W, b = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"] + p["bias_hh_l0"]
        self.x = x.transpose(1, 0, 2)            # time-major (T, N, D)
        u_in = self.x @ W_in.T + b               # x^t W_(in)^T + b for every t at once
        self.z0, self.z = h0[0], np.empty(u_in.shape[:2] + (self.hidden_size,), u_in.dtype)
        z = self.z0
        for t in range(len(self.x)):
            z = f(u_in[t] + z @ W.T)             # z^t = f(u^t),  u^t = x^t W_(in)^T + z^{t-1} W^T + b
            self.z[t] = z
        self.h_n, = _unbatched(self, z[None])
        return _batch_first(self, self.z)

    def backward(self, dout, dh_n=None):
        require_forward(self, "h_n")
        if self.packed is not None:
            return _by_length_backward(self, dout, dh_n)
        dout, dh_n = _sequence_upstream(self, dout, dh_n=dh_n)
        dout = dout.transpose(1, 0, 2)
        W_in, W = self.params["weight_ih_l0"], self.params["weight_hh_l0"]
        f_prime = {"tanh": lambda z: 1 - z * z,                          # f'(u) from z = f(u)
                   "relu": lambda z: (z > 0).astype(z.dtype),            # 0 at u = 0, as torch
                   "sigmoid": lambda z: z * (1 - z)}[self.nonlinearity]
        delta = np.empty_like(self.z)
        dz_next = dh_n[0]                        # what reaches z^{T-1} from beyond the sequence
        for t in reversed(range(len(delta))):
            # delta^t = (dE/dz^t + delta^{t+1} W) f'(u^t): the output's own gradient + step t+1's
            delta[t] = (dout[t] + dz_next) * f_prime(self.z[t])
            dz_next = delta[t] @ W               # delta^t W: the part of dE/dz^{t-1} that comes through W
        T, N, H = delta.shape
        flat, z_prev = delta.reshape(T * N, H), _previous(self.z0, self.z).reshape(T * N, H)
        self.grads = {"weight_ih_l0": flat.T @ self.x.reshape(T * N, self.input_size),  # sum_t delta^t^T x^t
                      "weight_hh_l0": flat.T @ z_prev,                                  # sum_t delta^t^T z^{t-1}
                      "bias_ih_l0": flat.sum(axis=0), "bias_hh_l0": flat.sum(axis=0)}   # sum_t delta^t
        return (_batch_first(self, delta @ W_in), *_unbatched(self, dz_next[None]))


class LSTM(Layer):
    """The LSTM over a sequence (torch.nn.LSTM, batch_first=True), gate order i, f, g, o.

    Forward, t = 0 .. T-1, from h^{-1} = h0, c^{-1} = c0:
        [a_i, a_f, a_g, a_o] = x^t W_ih^T + b_ih + h^{t-1} W_hh^T + b_hh
        i = sigma(a_i) input gate, f = sigma(a_f) forget gate, g = tanh(a_g), o = sigma(a_o) output gate
        c^t = f * c^{t-1} + i * g          (the CEC: the memory cell)
        h^t = o * tanh(c^t)
    Backward (BPTT), t = T-1 .. 0, from dh = dh_n and dc = dc_n (0 when not given):
        dh^t = dE/dh^t [from the output] + dh     (dh: what came back from step t+1)
        dc^t = dc + dh^t * o * (1 - tanh^2 c^t)   (dc: carried back along the CEC)
        da_i = dc^t g i(1-i), da_f = dc^t c^{t-1} f(1-f), da_g = dc^t i (1-g^2), da_o = dh^t tanh(c^t) o(1-o)
        dh = da W_hh  and  dc = dc^t * f  go on to step t-1
        dW_ih = sum_t da^t^T x^t,  dW_hh = sum_t da^t^T h^{t-1},  db_ih = db_hh = sum_t da^t,
        dx^t = da^t W_ih

    forward(x (N, T, D), h0 (1, N, H), c0 (1, N, H), lengths=None) -> h (N, T, H);
    self.h_n, self.c_n hold the final states. backward(dout, dh_n=None, dc_n=None) ->
    (dx, dh0, dc0). num_layers > 1 or bidirectional=True builds a StackedRecurrent of
    LSTMs; lengths (N,) runs each sequence alone up to its end. Unbatched x (T, D) accepted.
    """
    STATES = ("h0", "c0")

    def __new__(cls, *args, num_layers=1, bidirectional=False, **params):
        # two layers or two directions: a stack of one-layer, one-direction LSTMs
        return _stacked_or_plain(cls, num_layers, bidirectional, params) or super().__new__(cls)

    def __init__(self, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, num_layers=1,
                 bidirectional=False):
        super().__init__(**_sequence_weights(self, dict(
            weight_ih_l0=weight_ih_l0, weight_hh_l0=weight_hh_l0, bias_ih_l0=bias_ih_l0,
            bias_hh_l0=bias_hh_l0), gates=4))

    def forward(self, x, h0, c0, lengths=None):
        if lengths is not None:                  # variable lengths: each sequence alone, to its end
            return _by_length(self, lengths, x, h0, c0)
        x, h0, c0 = _sequence_inputs(self, x, h0=h0, c0=c0)
        p, H = self.params, self.hidden_size
        W_hh = p["weight_hh_l0"]
        self.x = x.transpose(1, 0, 2)            # time-major (T, N, D)
        a_in = self.x @ p["weight_ih_l0"].T + (p["bias_ih_l0"] + p["bias_hh_l0"])   # every t at once
        self.gates = np.empty_like(a_in)         # i, f, g, o of every step
        self.h, self.c = np.empty_like(a_in[..., :H]), np.empty_like(a_in[..., :H])
        self.h0, self.c0 = h0[0], c0[0]
        h, c = self.h0, self.c0
        for t in range(len(a_in)):
            a = a_in[t] + h @ W_hh.T                          # [a_i, a_f, a_g, a_o]
            gates = self.gates[t]
            gates[:] = sigmoid(a)                             # i, f, o (the g block is replaced next)
            gates[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
            i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
            c = f * c + i * g                                 # the CEC: c^t = f c^{t-1} + i g
            h = o * np.tanh(c)                                # h^t = o tanh(c^t)
            self.c[t], self.h[t] = c, h
        self.h_n, self.c_n = _unbatched(self, h[None], c[None])
        return _batch_first(self, self.h)

    def backward(self, dout, dh_n=None, dc_n=None):
        require_forward(self, "h_n")
        if self.packed is not None:
            return _by_length_backward(self, dout, dh_n, dc_n)
        dout, dh_n, dc_n = _sequence_upstream(self, dout, dh_n=dh_n, dc_n=dc_n)
        dout, H, W_hh = dout.transpose(1, 0, 2), self.hidden_size, self.params["weight_hh_l0"]
        tc, c_prev = np.tanh(self.c), _previous(self.c0, self.c)        # tanh(c^t), c^{t-1}
        da = np.empty_like(self.gates)
        dh, dc = dh_n[0], dc_n[0]                # what reaches h^{T-1}, c^{T-1} from beyond the sequence
        for t in reversed(range(len(da))):
            gates = self.gates[t]
            i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
            dh = dout[t] + dh                    # dE/dh^t: the output's own gradient + step t+1's
            dc = dc + dh * o * (1 - tc[t] ** 2)  # the CEC: dc from step t+1, plus through h^t = o tanh(c^t)
            da[t, :, :H] = dc * g * i * (1 - i)                  # d a_i
            da[t, :, H:2 * H] = dc * c_prev[t] * f * (1 - f)     # d a_f
            da[t, :, 2 * H:3 * H] = dc * i * (1 - g * g)         # d a_g
            da[t, :, 3 * H:] = dh * tc[t] * o * (1 - o)          # d a_o
            dh = da[t] @ W_hh                    # to h^{t-1}, through W_hh
            dc = dc * f                          # to c^{t-1}, through the forget gate
        T, N, G = da.shape                       # sums over every step at once:
        flat, h_prev = da.reshape(T * N, G), _previous(self.h0, self.h).reshape(T * N, H)
        self.grads = {"weight_ih_l0": flat.T @ self.x.reshape(T * N, self.input_size),  # sum_t da^t^T x^t
                      "weight_hh_l0": flat.T @ h_prev,                                  # sum_t da^t^T h^{t-1}
                      "bias_ih_l0": flat.sum(axis=0), "bias_hh_l0": flat.sum(axis=0)}
        return (_batch_first(self, da @ self.params["weight_ih_l0"]), *_unbatched(self, dh[None], dc[None]))


class PeepholeLSTM(Layer):
    """LSTM with peephole connections (覗き穴結合, Gers and Schmidhuber): the gates also
    see the cell, through diagonal weights w_ci, w_cf, w_co (weight_ci_l0, ..., shape (H,)):

        [a_i, a_f, a_g, a_o] = x^t W_ih^T + b_ih + h^{t-1} W_hh^T + b_hh
        i = sigma(a_i + w_ci * c^{t-1}),  f = sigma(a_f + w_cf * c^{t-1}),  g = tanh(a_g)
        c^t = f * c^{t-1} + i * g,        o = sigma(a_o + w_co * c^t),      h^t = o * tanh(c^t)
    Backward (BPTT), t = T-1 .. 0, dh and dc from step t+1 (dh_n, dc_n at the end):
        dh^t = dE/dh^t + dh,   da_o = dh^t tanh(c^t) o(1-o)
        dc^t = dc + dh^t o (1 - tanh^2 c^t) + da_o w_co           (c^t also feeds o)
        da_i = dc^t g i(1-i),  da_f = dc^t c^{t-1} f(1-f),  da_g = dc^t i (1-g^2)
        dh = da W_hh,  dc = dc^t f + da_i w_ci + da_f w_cf        (to step t-1)
        dw_ci = sum da_i c^{t-1},  dw_cf = sum da_f c^{t-1},  dw_co = sum da_o c^t; W, b as LSTM

    forward(x, h0, c0, lengths=None) and backward(dout, dh_n=None, dc_n=None) as LSTM.
    """
    STATES = ("h0", "c0")

    def __new__(cls, *args, num_layers=1, bidirectional=False, **params):
        # two layers or two directions: a stack of one-layer, one-direction layers
        return _stacked_or_plain(cls, num_layers, bidirectional, params) or super().__new__(cls)

    def __init__(self, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ci_l0, weight_cf_l0,
                 weight_co_l0, num_layers=1, bidirectional=False):
        super().__init__(**_sequence_weights(self, dict(
            weight_ih_l0=weight_ih_l0, weight_hh_l0=weight_hh_l0, bias_ih_l0=bias_ih_l0,
            bias_hh_l0=bias_hh_l0, weight_ci_l0=weight_ci_l0, weight_cf_l0=weight_cf_l0,
            weight_co_l0=weight_co_l0), gates=4, extra=("weight_ci", "weight_cf", "weight_co")))

    def forward(self, x, h0, c0, lengths=None):
        if lengths is not None:                  # variable lengths: each sequence alone, to its end
            return _by_length(self, lengths, x, h0, c0)
        x, h0, c0 = _sequence_inputs(self, x, h0=h0, c0=c0)
        p, H = self.params, self.hidden_size
        W_hh, w_ci, w_cf, w_co = p["weight_hh_l0"], p["weight_ci_l0"], p["weight_cf_l0"], p["weight_co_l0"]
        self.x = x.transpose(1, 0, 2)            # time-major (T, N, D)
        a_in = self.x @ p["weight_ih_l0"].T + (p["bias_ih_l0"] + p["bias_hh_l0"])   # every t at once
        self.gates = np.empty_like(a_in)         # i, f, g, o of every step
        self.h, self.c = np.empty_like(a_in[..., :H]), np.empty_like(a_in[..., :H])
        self.h0, self.c0 = h0[0], c0[0]
        h, c = self.h0, self.c0
        for t in range(len(a_in)):
            a = a_in[t] + h @ W_hh.T
            i = sigmoid(a[:, :H] + w_ci * c)                  # the gates peep at c^{t-1}
            f = sigmoid(a[:, H:2 * H] + w_cf * c)
            g = np.tanh(a[:, 2 * H:3 * H])
            c = f * c + i * g                                 # c^t = f c^{t-1} + i g
            o = sigmoid(a[:, 3 * H:] + w_co * c)              # ... and o at c^t
            h = o * np.tanh(c)
            self.gates[t] = np.concatenate([i, f, g, o], axis=1)
            self.c[t], self.h[t] = c, h
        self.h_n, self.c_n = _unbatched(self, h[None], c[None])
        return _batch_first(self, self.h)

    def backward(self, dout, dh_n=None, dc_n=None):
        require_forward(self, "h_n")
        if self.packed is not None:
            return _by_length_backward(self, dout, dh_n, dc_n)
        dout, dh_n, dc_n = _sequence_upstream(self, dout, dh_n=dh_n, dc_n=dc_n)
        dout, H, p = dout.transpose(1, 0, 2), self.hidden_size, self.params
        tc, c_prev = np.tanh(self.c), _previous(self.c0, self.c)        # tanh(c^t), c^{t-1}
        da = np.empty_like(self.gates)
        dh, dc = dh_n[0], dc_n[0]
        for t in reversed(range(len(da))):
            gates = self.gates[t]
            i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
            dh = dout[t] + dh                                    # the output's gradient + step t+1's
            da[t, :, 3 * H:] = da_o = dh * tc[t] * o * (1 - o)
            dc = dc + dh * o * (1 - tc[t] ** 2) + da_o * p["weight_co_l0"]   # c^t also feeds o
            da[t, :, :H] = da_i = dc * g * i * (1 - i)
            da[t, :, H:2 * H] = da_f = dc * c_prev[t] * f * (1 - f)
            da[t, :, 2 * H:3 * H] = dc * i * (1 - g * g)
            dh = da[t] @ p["weight_hh_l0"]
            dc = dc * f + da_i * p["weight_ci_l0"] + da_f * p["weight_cf_l0"]   # to c^{t-1}
        T, N, G = da.shape                       # sums over every step at once:
        flat, h_prev = da.reshape(T * N, G), _previous(self.h0, self.h).reshape(T * N, H)
        self.grads = {"weight_ih_l0": flat.T @ self.x.reshape(T * N, self.input_size),  # sum_t da^t^T x^t
                      "weight_hh_l0": flat.T @ h_prev,                                  # sum_t da^t^T h^{t-1}
                      "bias_ih_l0": flat.sum(axis=0), "bias_hh_l0": flat.sum(axis=0),
                      "weight_ci_l0": (da[..., :H] * c_prev).sum(axis=(0, 1)),          # sum da_i c^{t-1}
                      "weight_cf_l0": (da[..., H:2 * H] * c_prev).sum(axis=(0, 1)),     # sum da_f c^{t-1}
                      "weight_co_l0": (da[..., 3 * H:] * self.c).sum(axis=(0, 1))}      # sum da_o c^t
        return (_batch_first(self, da @ p["weight_ih_l0"]), *_unbatched(self, dh[None], dc[None]))


class GRU(Layer):
    """The GRU over a sequence (torch.nn.GRU, batch_first=True), gate order r, z, n; the
    reset gate acts after the hidden matmul:

        gx^t = x^t W_ih^T + b_ih,  gh^t = h^{t-1} W_hh^T + b_hh     (r, z, n blocks)
        r = sigma(gx_r + gh_r) reset gate,  z = sigma(gx_z + gh_z) update gate
        n = tanh(gx_n + r * gh_n),  h^t = (1 - z) * n + z * h^{t-1}
    Backward (BPTT), t = T-1 .. 0, from dh = dh_n (0 when not given):
        dh^t = dE/dh^t [from the output] + dh
        da_n = dh^t (1-z)(1-n^2),  da_z = dh^t (h^{t-1} - n) z(1-z),  da_r = da_n gh_n r(1-r)
        dgx = [da_r, da_z, da_n],  dgh = [da_r, da_z, r * da_n]
        dh = dh^t z + dgh W_hh  goes on to step t-1
        dW_ih = sum_t dgx^T x^t,  dW_hh = sum_t dgh^T h^{t-1},  db_ih = sum dgx,  db_hh = sum dgh

    forward(x (N, T, D), h0 (1, N, H), lengths=None) -> h (N, T, H); backward(dout,
    dh_n=None) -> (dx, dh0). num_layers / bidirectional and lengths as RNN.
    """
    STATES = ("h0",)

    def __new__(cls, *args, num_layers=1, bidirectional=False, **params):
        # two layers or two directions: a stack of one-layer, one-direction GRUs
        return _stacked_or_plain(cls, num_layers, bidirectional, params) or super().__new__(cls)

    def __init__(self, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, num_layers=1,
                 bidirectional=False):
        super().__init__(**_sequence_weights(self, dict(
            weight_ih_l0=weight_ih_l0, weight_hh_l0=weight_hh_l0, bias_ih_l0=bias_ih_l0,
            bias_hh_l0=bias_hh_l0), gates=3))

    def forward(self, x, h0, lengths=None):
        if lengths is not None:                  # variable lengths: each sequence alone, to its end
            return _by_length(self, lengths, x, h0)
        x, h0 = _sequence_inputs(self, x, h0=h0)
        p, H = self.params, self.hidden_size
        self.x = x.transpose(1, 0, 2)            # time-major (T, N, D)
        gx = self.x @ p["weight_ih_l0"].T + p["bias_ih_l0"]    # every t at once
        self.gates = np.empty_like(gx)           # r, z, n of every step
        self.gh_n, self.h = np.empty_like(gx[..., :H]), np.empty_like(gx[..., :H])
        self.h0 = h = h0[0]
        for t in range(len(gx)):
            gh = h @ p["weight_hh_l0"].T + p["bias_hh_l0"]
            r = sigmoid(gx[t, :, :H] + gh[:, :H])
            z = sigmoid(gx[t, :, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gx[t, :, 2 * H:] + r * gh[:, 2 * H:])
            h = (1 - z) * n + z * h                          # h^t = (1-z) n + z h^{t-1}
            self.gates[t] = np.concatenate([r, z, n], axis=1)
            self.gh_n[t], self.h[t] = gh[:, 2 * H:], h
        self.h_n, = _unbatched(self, h[None])
        return _batch_first(self, self.h)

    def backward(self, dout, dh_n=None):
        require_forward(self, "h_n")
        if self.packed is not None:
            return _by_length_backward(self, dout, dh_n)
        dout, dh_n = _sequence_upstream(self, dout, dh_n=dh_n)
        dout, H, W_hh = dout.transpose(1, 0, 2), self.hidden_size, self.params["weight_hh_l0"]
        h_prev = _previous(self.h0, self.h)
        dgx, dgh = np.empty_like(self.gates), np.empty_like(self.gates)
        dh = dh_n[0]                             # what reaches h^{T-1} from beyond the sequence
        for t in reversed(range(len(dgx))):
            gates = self.gates[t]
            r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
            dh = dout[t] + dh                    # dE/dh^t: the output's own gradient + step t+1's
            da_n = dh * (1 - z) * (1 - n * n)
            da_z = dh * (h_prev[t] - n) * z * (1 - z)
            da_r = da_n * self.gh_n[t] * r * (1 - r)
            dgx[t] = np.concatenate([da_r, da_z, da_n], axis=1)
            dgh[t] = np.concatenate([da_r, da_z, da_n * r], axis=1)      # n sees gh_n through r
            dh = dh * z + dgh[t] @ W_hh          # to h^{t-1}: directly through z, and through W_hh
        T, N, G = dgx.shape                      # sums over every step at once:
        flat_x, flat_h = dgx.reshape(T * N, G), dgh.reshape(T * N, G)
        self.grads = {"weight_ih_l0": flat_x.T @ self.x.reshape(T * N, self.input_size),  # sum_t dgx^T x^t
                      "weight_hh_l0": flat_h.T @ h_prev.reshape(T * N, H),                # sum_t dgh^T h^{t-1}
                      "bias_ih_l0": flat_x.sum(axis=0), "bias_hh_l0": flat_h.sum(axis=0)}
        return (_batch_first(self, dgx @ self.params["weight_ih_l0"]), *_unbatched(self, dh[None]))


class ChoGRU(Layer):
    """The original GRU (Cho et al. 2014; Keras reset_after=False): the reset gate acts
    on h before the matmul. Same r, z, n order and h^t = (1 - z) * n + z * h^{t-1}:

        r = sigma(gx_r + h^{t-1} W_hr^T + b_hr),  z = sigma(gx_z + h^{t-1} W_hz^T + b_hz)
        n = tanh(gx_n + (r * h^{t-1}) W_hn^T + b_hn)          (gx = x^t W_ih^T + b_ih)
    Backward (BPTT), t = T-1 .. 0, from dh = dh_n:
        dh^t = dE/dh^t + dh,  da_n = dh^t (1-z)(1-n^2),  da_z = dh^t (h^{t-1} - n) z(1-z)
        d(r*h) = da_n W_hn,   da_r = d(r*h) h^{t-1} r(1-r)
        dh = dh^t z + d(r*h) r + [da_r, da_z] [W_hr; W_hz]    (to step t-1)
        dW_hn = sum_t da_n^T (r*h^{t-1}),  dW_hr, dW_hz = sum_t da^T h^{t-1},
        dW_ih = sum_t [da_r, da_z, da_n]^T x^t,  db_ih = db_hh = sum [da_r, da_z, da_n]

    forward(x, h0, lengths=None) and backward(dout, dh_n=None) as GRU.
    """
    STATES = ("h0",)

    def __new__(cls, *args, num_layers=1, bidirectional=False, **params):
        # two layers or two directions: a stack of one-layer, one-direction layers
        return _stacked_or_plain(cls, num_layers, bidirectional, params) or super().__new__(cls)

    def __init__(self, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, num_layers=1,
                 bidirectional=False):
        super().__init__(**_sequence_weights(self, dict(
            weight_ih_l0=weight_ih_l0, weight_hh_l0=weight_hh_l0, bias_ih_l0=bias_ih_l0,
            bias_hh_l0=bias_hh_l0), gates=3))

    def forward(self, x, h0, lengths=None):
        if lengths is not None:                  # variable lengths: each sequence alone, to its end
            return _by_length(self, lengths, x, h0)
        x, h0 = _sequence_inputs(self, x, h0=h0)
        p, H = self.params, self.hidden_size
        W, b = p["weight_hh_l0"], p["bias_hh_l0"]
        self.x = x.transpose(1, 0, 2)            # time-major (T, N, D)
        gx = self.x @ p["weight_ih_l0"].T + p["bias_ih_l0"]    # every t at once
        self.gates = np.empty_like(gx)           # r, z, n of every step
        self.rh, self.h = np.empty_like(gx[..., :H]), np.empty_like(gx[..., :H])
        self.h0 = h = h0[0]
        for t in range(len(gx)):
            gh_rz = h @ W[:2 * H].T + b[:2 * H]
            r = sigmoid(gx[t, :, :H] + gh_rz[:, :H])
            z = sigmoid(gx[t, :, H:2 * H] + gh_rz[:, H:])
            self.rh[t] = r * h                                # reset before the matmul
            n = np.tanh(gx[t, :, 2 * H:] + self.rh[t] @ W[2 * H:].T + b[2 * H:])
            h = (1 - z) * n + z * h
            self.gates[t] = np.concatenate([r, z, n], axis=1)
            self.h[t] = h
        self.h_n, = _unbatched(self, h[None])
        return _batch_first(self, self.h)

    def backward(self, dout, dh_n=None):
        require_forward(self, "h_n")
        if self.packed is not None:
            return _by_length_backward(self, dout, dh_n)
        dout, dh_n = _sequence_upstream(self, dout, dh_n=dh_n)
        dout, H, W = dout.transpose(1, 0, 2), self.hidden_size, self.params["weight_hh_l0"]
        h_prev = _previous(self.h0, self.h)
        da = np.empty_like(self.gates)
        dh = dh_n[0]
        for t in reversed(range(len(da))):
            gates = self.gates[t]
            r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
            dh = dout[t] + dh                    # the output's own gradient + step t+1's
            da[t, :, 2 * H:] = da_n = dh * (1 - z) * (1 - n * n)
            da[t, :, H:2 * H] = dh * (h_prev[t] - n) * z * (1 - z)
            drh = da_n @ W[2 * H:]               # the gradient of r * h^{t-1}
            da[t, :, :H] = drh * h_prev[t] * r * (1 - r)
            dh = dh * z + drh * r + da[t, :, :2 * H] @ W[:2 * H]        # to h^{t-1}
        T, N, G = da.shape                       # sums over every step at once:
        flat, h_prev = da.reshape(T * N, G), h_prev.reshape(T * N, H)
        dW_hh = np.concatenate([flat[:, :2 * H].T @ h_prev,                        # sum_t [da_r, da_z]^T h^{t-1}
                                flat[:, 2 * H:].T @ self.rh.reshape(T * N, H)])    # sum_t da_n^T (r * h^{t-1})
        self.grads = {"weight_ih_l0": flat.T @ self.x.reshape(T * N, self.input_size), "weight_hh_l0": dW_hh,
                      "bias_ih_l0": flat.sum(axis=0), "bias_hh_l0": flat.sum(axis=0)}
        return (_batch_first(self, da @ self.params["weight_ih_l0"]), *_unbatched(self, dh[None]))


# --------------------------------------------------------------------------------------
# Stacked layers, two directions, variable lengths: built from the one-layer layers above
# --------------------------------------------------------------------------------------

class StackedRecurrent(Layer):
    """num_layers layers of a one-layer, one-direction recurrent layer `cls` (RNN, LSTM,
    GRU, ...), in one or two directions, over sequences of equal or variable lengths:
    torch's num_layers, bidirectional and packed sequences. LSTM(num_layers=2, ...) and
    the others build one.

    Parameters have torch's names: weight_ih_l{k}, ..., weight_ih_l{k}_reverse; each layer
    and direction is its own `cls` with them renamed to _l0. Layer k > 0 reads the output
    of layer k - 1 (both directions concatenated, the forward one first). The reverse
    direction is the same layer run on the sequence reversed in time, its output reversed
    back. With lengths (N,) in [1, T], each sequence n is run alone on its first
    lengths[n] steps: past its end the output is 0 and h_n is its last valid state (for
    the reverse direction, the state after step 0, started at step lengths[n] - 1).

    Backward runs each part's own backward in reverse order: layer by layer from the top,
    the gradient of a layer's input being the upstream gradient of the layer below;
    parameter gradients add up over the sequences of a batch.

    forward(x (N, T, D), h0 (L*dirs, N, H)[, c0], lengths=None) -> (N, T, dirs*H);
    self.h_n (and self.c_n) are (L*dirs, N, H). backward(dout[, dh_n[, dc_n]]) ->
    (dx, dh0[, dc0]). Unbatched x (T, D) with states (L*dirs, H) accepted.
    """
    PARAMETER = re.compile(r"(.+)_l(\d+)(_reverse)?$")

    def __init__(self, cls, num_layers=1, bidirectional=False, params=None, **options):
        super().__init__(**{k: np.asarray(v) for k, v in (params or {}).items()})
        self.cls, self.name, self.options = cls, cls.__name__, options
        self.states = getattr(cls, "STATES", ("h0",))
        self.num_layers, self.directions = int(num_layers), 2 if bidirectional else 1
        if self.num_layers < 1:
            raise ValueError(f"{self.name}: num_layers must be >= 1, got {num_layers}")
        self.groups = {}
        for key, value in self.params.items():
            match = self.PARAMETER.match(key)
            if not match or int(match[2]) >= self.num_layers or (match[3] and self.directions == 1):
                raise TypeError(f"{self.name}: unexpected parameter '{key}' for num_layers={num_layers}, "
                                f"bidirectional={bidirectional}")
            self.groups.setdefault((int(match[2]), 1 if match[3] else 0), {})[match[1] + "_l0"] = value
        for l, d in self._parts():
            if "weight_ih_l0" not in self.groups.get((l, d), {}):
                raise TypeError(f"{self.name}: missing parameter 'weight_ih{self._suffix(l, d)}'")
            self._layer(l, d)                    # checks each part's weights now
        self.hidden_size = self.groups[(0, 0)]["weight_hh_l0"].shape[1]
        self.input_size = self.groups[(0, 0)]["weight_ih_l0"].shape[1]
        for l, d in self._parts():
            if l and self.groups[(l, d)]["weight_ih_l0"].shape[1] != self.directions * self.hidden_size:
                raise ShapeError(f"{self.name}: argument 'weight_ih{self._suffix(l, d)}' must have "
                                 f"{self.directions * self.hidden_size} columns (the output of layer "
                                 f"{l - 1}), got shape {self.groups[(l, d)]['weight_ih_l0'].shape}")
        self.runs = None

    def _parts(self):
        return [(l, d) for l in range(self.num_layers) for d in range(self.directions)]

    @staticmethod
    def _suffix(layer, direction):
        return f"_l{layer}" + ("_reverse" if direction else "")

    def _layer(self, l, d):
        """A fresh one-layer, one-direction layer for layer l, direction d; an error in its
        weights names the stack's parameter."""
        group, suffix = self.groups[(l, d)], self._suffix(l, d)
        names = {name: name[:-3] + suffix for name in group}
        with inner_layer(self.name, f"layer {l}" + (", reverse" if d else ""), names):
            return self.cls(**group, **self.options)

    def _pieces(self, N, T):
        """(key, rows, steps): the whole batch over T steps, or each sequence over its length."""
        if self.lengths is None:
            return [(None, slice(0, N), T)]
        return [(n, slice(n, n + 1), int(self.lengths[n])) for n in range(N)]

    def _inputs(self, x, args):
        if len(args) > len(self.states) + 1:
            raise TypeError(f"{self.name}.forward takes x, {', '.join(self.states)} and lengths; "
                            f"got {1 + len(args)} arguments")
        states, lengths = args[:len(self.states)], args[len(self.states):]
        if len(states) < len(self.states):
            raise TypeError(f"{self.name}: argument '{self.states[len(states)]}' is required")
        x = float_array(self.name, "x", x)
        self.unbatched = x.ndim == 2
        x = x[None] if self.unbatched else float_array(self.name, "x", x, ndim=3)
        dim_equals(self.name, "x", x, 2, self.input_size, "the input size of weight_ih_l0")
        N, T, _ = x.shape
        shape = (self.num_layers * self.directions, N, self.hidden_size)
        checked = []
        for arg, value in zip(self.states, states):
            value = float_array(self.name, arg, value, ndim=2 if self.unbatched else None)
            value = value[:, None] if self.unbatched else value
            checked.append(same_shape(self.name, arg, value, shape, "(num_layers * directions, N, H)"))
        self.lengths = None
        if lengths and lengths[0] is not None:
            self.lengths = int_array(self.name, "lengths", lengths[0], ndim=1, low=1, high=T + 1)
            if self.lengths.shape != (N,):
                raise ShapeError(f"{self.name}: argument 'lengths' must have shape ({N},) "
                                 f"(one length per sequence), got {self.lengths.shape}")
        return x, checked

    def forward(self, x, *states_and_lengths):
        x, states = self._inputs(x, states_and_lengths)
        N, T, _ = x.shape
        H, finals = self.hidden_size, [np.zeros_like(s) for s in states]
        self.runs, self.inputs, inp = {}, [], x
        for l in range(self.num_layers):
            out = np.zeros((N, T, self.directions * H), dtype=np.result_type(inp, *states))
            for d in range(self.directions):
                k = l * self.directions + d
                for key, rows, steps in self._pieces(N, T):
                    layer = self._layer(l, d)
                    seq = inp[rows, :steps][:, ::-1] if d else inp[rows, :steps]
                    y = layer.forward(np.ascontiguousarray(seq), *(s[k:k + 1, rows] for s in states))
                    out[rows, :steps, d * H:(d + 1) * H] = y[:, ::-1] if d else y
                    for final, attr in zip(finals, ("h_n", "c_n")):
                        final[k, rows] = getattr(layer, attr)[0]
                    self.runs[(l, d, key)] = layer
            self.inputs.append(inp)
            inp = out                            # the next layer reads both directions
        self.h_n, self.c_n = [f[:, 0] if self.unbatched else f for f in finals] + [None] * (2 - len(finals))
        return inp[0] if self.unbatched else inp

    def backward(self, dout, *final_grads):
        require_forward(self, "runs")
        N, T, _ = self.inputs[0].shape
        out_shape = (N, T, self.directions * self.hidden_size)
        dout = upstream(self.name, dout, out_shape[1:] if self.unbatched else out_shape)
        dout = dout[None] if self.unbatched else dout
        shape = (self.num_layers * self.directions, N, self.hidden_size)
        finals = []
        for arg, g in zip(("dh_n", "dc_n"), final_grads + (None,) * len(self.states)):
            g = np.zeros(shape, dout.dtype) if g is None else float_array(self.name, arg, g)
            finals.append(same_shape(self.name, arg, g[:, None] if self.unbatched and g.ndim == 2 else g,
                                     shape, "the shape of h_n"))
        finals = finals[:len(self.states)]
        starts = [np.zeros(shape, dout.dtype) for _ in self.states]
        self.grads = {name: np.zeros_like(v) for name, v in self.params.items()}
        H, above = self.hidden_size, dout
        for l in reversed(range(self.num_layers)):
            dinp = np.zeros_like(self.inputs[l], dtype=dout.dtype)
            for d in range(self.directions):
                k = l * self.directions + d
                for key, rows, steps in self._pieces(N, T):
                    layer = self.runs[(l, d, key)]
                    dy = above[rows, :steps, d * H:(d + 1) * H]
                    grads = layer.backward(np.ascontiguousarray(dy[:, ::-1] if d else dy),
                                           *(f[k:k + 1, rows] for f in finals))
                    dinp[rows, :steps] += grads[0][:, ::-1] if d else grads[0]
                    for start, g in zip(starts, grads[1:]):
                        start[k, rows] = g[0]
                    for name, g in layer.grads.items():
                        self.grads[name[:-3] + self._suffix(l, d)] += g
            above = dinp                         # the layer below gets the gradient of its output
        dx = above[0] if self.unbatched else above
        return (dx, *(s[:, 0] if self.unbatched else s for s in starts))


# --------------------------------------------------------------------------------------
# Time-distributed layers: the same layer at every time step
# --------------------------------------------------------------------------------------

class TimeAffine(Layer):
    """y^t = x^t W + b at every step: x (N, T, D), W (D, O) in the book's layout, y (N, T, O).

    Backward, with (N, T) flattened into one batch axis:
        dW = sum_{n,t} x_nt^T dout_nt,   db = sum_{n,t} dout_nt,   dx = dout W^T
    """

    def __init__(self, W, b):
        W = float_array(self, "W", W, ndim=2)
        b = float_array(self, "b", b, ndim=1)
        same_shape(self, "b", b, (W.shape[1],), f"the output size of W {W.shape}")
        super().__init__(W=W, b=b)

    def forward(self, x):
        x = float_array(self, "x", x, ndim=3)
        dim_equals(self, "x", x, 2, self.params["W"].shape[0], "the input size of W")
        self.x = x
        return x @ self.params["W"] + self.params["b"]          # y^t = x^t W + b

    def backward(self, dout):
        require_forward(self, "x")
        W = self.params["W"]
        N, T, D = self.x.shape
        dout = upstream(self, dout, (N, T, W.shape[1]))
        x2, dout2 = self.x.reshape(N * T, D), dout.reshape(N * T, W.shape[1])
        self.grads = {"W": x2.T @ dout2, "b": dout2.sum(axis=0)}  # sums over every n and t
        return dout @ W.T


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
        np.add.at(dW, self.idx, dout)                             # dW[v] += dout_nt where idx_nt = v
        self.grads["W"] = dW
        return None


class TimeSoftmaxCrossEntropy(Layer):
    """Softmax cross-entropy at every step, averaged over the positions that count.

    x (N, T, V) scores, t (N, T) class ids; positions with t == ignore_index are
    ignored (padding). Forward, with y_nt = softmax(x_nt):
        L = (1 / K) sum_{(n,t) counted} -log y_nt[t_nt]
    K = number of counted positions (torch's cross_entropy with ignore_index and
    reduction='mean'; the book's TimeSoftmaxWithLoss); reduction='sum' drops the 1/K.
    Backward: dx_nt = dout (y_nt - onehot(t_nt)) / K at counted positions, 0 elsewhere.
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
        self.prob = np.exp(logp)                                  # y_nt = softmax(x_nt)
        self.onehot = np.zeros_like(x)
        np.put_along_axis(self.onehot, labels[..., None], 1.0, axis=2)
        self.scale = 1.0 / max(int(self.valid.sum()), 1) if self.reduction == "mean" else 1.0
        losses = -(self.onehot * logp).sum(axis=2) * self.valid   # -log y_nt[t_nt], 0 where ignored
        return (losses.sum() * self.scale).astype(x.dtype)

    def backward(self, dout=1.0):
        require_forward(self, "prob")
        dout = scalar_upstream(self, dout)
        return (self.prob - self.onehot) * self.valid[..., None] * (self.scale * dout)


# --------------------------------------------------------------------------------------
# Truncated BPTT and a sequence-to-sequence model
# --------------------------------------------------------------------------------------

class TruncatedBPTTLSTM(Layer):
    """A one-layer LSTM run over x (N, T, D) in chunks of `chunk_size` steps.

    Forward: the LSTM's, chunk after chunk, the state (h, c) carried from each chunk's
    end to the next one's start. Backward: each chunk is backpropagated on its own from
    dh = dc = 0 at its end, so no gradient crosses a chunk boundary (torch: h.detach(),
    c.detach() between chunks):
        dW = sum over chunks of the chunk's BPTT gradient;  dh0, dc0 from the first chunk.
    """

    def __init__(self, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, chunk_size):
        with inner_layer(self, "LSTM", {}):
            self.lstm = LSTM(weight_ih_l0=weight_ih_l0, weight_hh_l0=weight_hh_l0,
                             bias_ih_l0=bias_ih_l0, bias_hh_l0=bias_hh_l0)
        super().__init__(**self.lstm.params)
        if int(chunk_size) < 1:
            raise ValueError(f"TruncatedBPTTLSTM: chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size, self.chunks = int(chunk_size), None
        self.input_size, self.hidden_size = self.lstm.input_size, self.lstm.hidden_size

    def forward(self, x, h0, c0):
        x, h, c = _sequence_inputs(self, x, h0=h0, c0=c0)      # errors name TruncatedBPTTLSTM
        self.x, self.chunks, outs = x, [], []
        for start in range(0, x.shape[1], self.chunk_size):
            chunk = LSTM(**self.params)
            outs.append(chunk.forward(x[:, start:start + self.chunk_size], h, c))
            h, c = chunk.h_n, chunk.c_n                        # the state is carried forward...
            self.chunks.append(chunk)
        self.h_n, self.c_n = _unbatched(self, h, c)
        out = np.concatenate(outs, axis=1)
        return out[0] if self.unbatched else out

    def backward(self, dout):
        require_forward(self, "chunks")
        dout, = _sequence_upstream(self, dout)
        dxs, start = [], 0
        self.grads = {name: np.zeros_like(v) for name, v in self.params.items()}
        for chunk in self.chunks:
            T = chunk.x.shape[0]
            dx, dh0, dc0 = chunk.backward(dout[:, start:start + T])   # ...but no dh_n, dc_n back
            dxs.append(dx)
            for name, g in chunk.grads.items():
                self.grads[name] += g
            if start == 0:
                first = (dh0, dc0)
            start += T
        dx = np.concatenate(dxs, axis=1)
        return (dx[0] if self.unbatched else dx, *_unbatched(self, *first))


class Seq2Seq(Layer):
    """Encoder LSTM, decoder LSTM with dot-product attention, TimeAffine, TimeSoftmaxCrossEntropy.

    Forward (teacher forcing: the decoder reads the given ys):
        hs = Encoder(xs) (N, Tx, H), from zero state; the decoder starts from its final (h, c)
        hd = Decoder(ys) (N, Ty, H)
        s = hd hs^T (N, Ty, Tx),  a = softmax(s) over Tx,  ctx = a hs (N, Ty, H)
        logits = [ctx, hd] W + b (N, Ty, V),  L = TimeSoftmaxCrossEntropy(logits, ts)
    Backward, in reverse:
        [dctx, dhd] = dlogits W^T,  da = dctx hs^T,  dhs = a^T dctx
        ds = a * (da - sum_j a_j da_j)        (softmax backward)
        dhd += ds hs,  dhs += ds^T hd
        (dys, dh0, dc0) = Decoder.backward(dhd);  dxs = Encoder.backward(dhs, dh0, dc0)

    forward(xs, ys, ts) returns the scalar loss; backward(dout=1) returns (dxs, dys).
    Parameters: enc_* and dec_* (one LSTM layer each, torch names without _l0), W, b.
    """

    LSTM_PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

    def __init__(self, W, b, ignore_index=-1, **params):
        for side in ("enc", "dec"):
            with inner_layer(self, f"{side}oder LSTM",
                             {f"{n}_l0": f"{side}_{n}" for n in self.LSTM_PARAMS}):
                names = [f"{side}_{n}" for n in self.LSTM_PARAMS]
                missing = [n for n in names if n not in params]
                if missing:
                    raise TypeError(f"missing parameter '{missing[0]}'")
                lstm = LSTM(**{f"{n}_l0": params.pop(f"{side}_{n}") for n in self.LSTM_PARAMS})
            setattr(self, f"{side}oder", lstm)
        if params:
            raise TypeError(f"Seq2Seq: unexpected parameter(s) {sorted(params)}")
        with inner_layer(self, "output TimeAffine", {}):
            self.affine = TimeAffine(W, b)
        self.loss = TimeSoftmaxCrossEntropy(ignore_index)
        self.parts = {"enc_": self.encoder, "dec_": self.decoder, "": self.affine}
        super().__init__(**{prefix + name.replace("_l0", ""): v for prefix, part in self.parts.items()
                            for name, v in part.params.items()})

    def forward(self, xs, ys, ts):
        xs = float_array(self, "xs", xs, ndim=3)
        ys = float_array(self, "ys", ys, ndim=3)
        zeros = np.zeros((1, len(xs), self.encoder.hidden_size), dtype=xs.dtype)
        with inner_layer(self, "encoder LSTM", {"x": "xs"}):
            self.hs = self.encoder.forward(xs, zeros, zeros)
        with inner_layer(self, "decoder LSTM", {"x": "ys"}):
            self.hd = self.decoder.forward(ys, self.encoder.h_n, self.encoder.c_n)
        self.a = softmax(self.hd @ self.hs.transpose(0, 2, 1), axis=-1)    # a = softmax(hd hs^T)
        ctx = self.a @ self.hs                                            # ctx = a hs
        logits = self.affine.forward(np.concatenate([ctx, self.hd], axis=2))
        with inner_layer(self, "loss", {"target": "ts", "t": "ts"}):
            return self.loss.forward(logits, ts)

    def backward(self, dout=1.0):
        require_forward(self, "a")
        dout = scalar_upstream(self, dout)
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
