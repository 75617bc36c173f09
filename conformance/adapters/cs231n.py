"""The CS231n style: pairs of functions of the assignments' layers.py.

    affine_forward(x, w, b) -> (out, cache)      w (D, M); x (N, d_1, ..., d_k)
    affine_backward(dout, cache) -> (dx, dw, db)
    relu_forward(x) -> (out, cache);  relu_backward(dout, cache) -> dx
    sigmoid_forward / sigmoid_backward, tanh_forward / tanh_backward: the same pattern
    softmax_loss(x, y) -> (loss, dx)             y class labels; the batch mean
    rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)    tanh; Wx (D, H)
    rnn_step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)
    rnn_forward(x, h0, Wx, Wh, b) -> (h, cache); rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)
    lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c, cache)
    lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)
                                                 Wx (D, 4H), gate blocks in the order i, f, o, g
"""
import numpy as np

from ._common import (StackedGateCell, TanhRNN, TanhRNNCell, class_labels, flatten_batch, logit_rows,
                      plain_cross_entropy_only, reduction_scale, refuse_ignored)

STYLE = "cs231n"


def affine(module):
    forward, backward = (getattr(module, n, None) for n in ("affine_forward", "affine_backward"))
    if forward is None or backward is None:
        return None

    class Affine:
        """affine_forward / affine_backward, any leading batch shape flattened into one axis."""

        def __init__(self, W, b):
            self.params, self.grads = {"W": W, "b": b}, {}

        def forward(self, x):
            self.x_shape = x.shape
            out, self.cache = forward(flatten_batch(x), self.params["W"], self.params["b"])
            return out.reshape(x.shape[:-1] + (out.shape[-1],))

        def backward(self, dout):
            dx, dw, db = backward(flatten_batch(dout), self.cache)
            self.grads = {"W": dw, "b": db}
            return np.reshape(dx, self.x_shape)
    return Affine


def elementwise(name, prefix):
    def make(module):
        forward, backward = (getattr(module, f"{prefix}_{n}", None) for n in ("forward", "backward"))
        if forward is None or backward is None:
            return None

        class Elementwise:
            def __init__(self):
                self.params, self.grads = {}, {}

            def forward(self, x):
                out, self.cache = forward(x)
                return out

            def backward(self, dout):
                return backward(dout, self.cache)
        Elementwise.__name__ = Elementwise.__qualname__ = name
        return Elementwise
    return make


def softmax_loss(module):
    loss_and_grad = getattr(module, "softmax_loss", None)
    if loss_and_grad is None:
        return None

    class SoftmaxCrossEntropy:
        """softmax_loss(x, y) -> (loss, dx): the batch mean; 'sum' is N times it."""

        def __init__(self, reduction="mean", **options):
            self.reduction = reduction
            self.ignore_index = plain_cross_entropy_only(STYLE, **options)
            self.params, self.grads = {}, {}

        def forward(self, x, target):
            self.scale = reduction_scale(self.reduction, len(logit_rows(x, STYLE)), STYLE)
            labels = class_labels(target, STYLE)
            refuse_ignored(labels, self.ignore_index, STYLE)
            loss, self.dx = loss_and_grad(x, labels)
            return loss * self.scale

        def backward(self, dout=1.0):
            return self.dx * (np.asarray(dout) * self.scale)
    return SoftmaxCrossEntropy


def lstm_cell(module):
    forward, backward = (getattr(module, f"lstm_step_{n}", None) for n in ("forward", "backward"))
    if forward is None or backward is None:
        return None

    class LSTMCell(StackedGateCell):
        """lstm_step_forward/backward behind torch's LSTMCell API (weight_ih (4H, D), gates i, f, g, o)."""
        gate_order = "ifog"

        def make(self, Wx, Wh, b):
            self.weights = (Wx, Wh, b)

        def step_forward(self, x, h, c):
            h_next, c_next, self.cache = forward(x, h, c, *self.weights)
            return h_next, c_next

        def step_backward(self, dh_next, dc_next):
            return backward(dh_next, dc_next, self.cache)
    return LSTMCell


def _pair(module, prefix):
    pair = tuple(getattr(module, f"{prefix}_{n}", None) for n in ("forward", "backward"))
    return None if None in pair else pair


def rnn_cell(module):
    pair = _pair(module, "rnn_step")
    if pair is None:
        return None

    class RNNCell(TanhRNNCell):
        style = STYLE

        def make(self, Wx, Wh, b):
            self.weights = (Wx, Wh, b)

        def step_forward(self, x, h):
            h_next, self.cache = pair[0](x, h, *self.weights)
            return h_next

        def step_backward(self, dh_next):
            return pair[1](dh_next, self.cache)
    return RNNCell


def rnn(module):
    pair = _pair(module, "rnn")
    if pair is None:
        return None

    class RNN(TanhRNN):
        style = STYLE

        def make(self, Wx, Wh, b):
            self.weights = (Wx, Wh, b)

        def run_forward(self, x, h0):
            hs, self.cache = pair[0](x, h0, *self.weights)
            return hs, hs[:, -1]

        def run_backward(self, dhs):
            return pair[1](dhs, self.cache)
    return RNN


CLASSES = {
    "Affine": affine,
    "Relu": elementwise("Relu", "relu"),
    "Sigmoid": elementwise("Sigmoid", "sigmoid"),
    "Tanh": elementwise("Tanh", "tanh"),
    "SoftmaxCrossEntropy": softmax_loss,
    "RNNCell": rnn_cell,
    "RNN": rnn,
    "LSTMCell": lstm_cell,
}
