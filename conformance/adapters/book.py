"""The 『ゼロから作るDeep Learning』 style: the classes of both books' common/ modules.

Book 1 (common/layers.py, common/optimizer.py) and book 2 (common/layers.py,
common/time_layers.py, common/optimizer.py), graded as they are:

    answer key            learner's class (book)            what the adapter does
    Affine                Affine(W, b)                      x (..., D) as (n, D); grads [dW, db]
                                                            (book 2) or attributes dW, db (book 1)
    MatMul                MatMul(W)                         (book 2)
    Relu, Sigmoid         Relu(), Sigmoid()                 dout copied (book 1 writes into it)
    Softmax               Softmax()                         over the last axis, as (n, C)
    SoftmaxCrossEntropy   SoftmaxWithLoss()                 labels or one-hot rows; batch mean
    BCEWithLogits         SigmoidWithLoss(),                0/1 targets; 'mean' on x flattened
                          TimeSigmoidWithLoss()             (SigmoidWithLoss), 'sum' on x (N, T)
                                                            (TimeSigmoidWithLoss) when both exist
    Dropout               Dropout(dropout_ratio)            not inverted (inverted=False cases);
                          TimeDropout(dropout_ratio)        inverted (the default cases); the case's
                                                            mask is supplied as np.random.rand's draw
    BatchNorm             BatchNormalization(gamma, beta,   book 1: momentum weights the OLD value
                            momentum, running_mean,         (0.9), eps = 10e-7 hard-coded, biased
                            running_var)                    running variance, 4-D input normalized
                                                            per activation
    Conv2d                Convolution(W, b, stride, pad)    no dilation, no groups
    MaxPool2d             Pooling(pool_h, pool_w, stride,   no padding (the book pads with 0 and
                            pad)                            leaves pad out of its output size)
    Embedding             Embedding(W)                      (book 2)
    TimeEmbedding, TimeAffine   the same names              (book 2)
    TimeSoftmaxCrossEntropy     TimeSoftmaxWithLoss()       ignore label -1; 'sum' = K x the mean
    RNNCell, LSTMCell     RNN, LSTM (one step)              gate blocks f, g, i, o (LSTM)
    RNN, LSTM             TimeRNN, TimeLSTM, TimeBiLSTM     stacked / bidirectional built from
                                                            them (adapters/_recurrent.py)
    ChoGRU                TimeGRU(Wx, Wh)                   the Cho form without bias: z is the
                                                            weight of the candidate (torch: of h),
                                                            so z's blocks are negated; the biases
                                                            ride on a constant-1 input column
    SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam
                          the same names; update(params,    params as a dict (book 1) or a list
                          grads)                            (book 2); eps = 1e-7 hard-coded; Adam
                                                            folds the bias correction into lr

A class the learner did not write is absent ("not attempted"); one whose counterpart cannot
express a case raises NotImplementedError with the reason ("not attempted", with the reason).
"""
import numpy as np

from . import _recurrent
from ._common import (TORCH_GATES, StackedGateCell, TanhRNNCell, class_labels, copied,
                      drawn_uniforms, flatten_batch, logit_rows, permute_gates, plain_cross_entropy_only,
                      reduction_scale, refuse_ignored, require_eps, require_tanh, single,
                      unmappable)

STYLE = "book"
BOOK1_EPS = 10e-7       # BatchNormalization: np.sqrt(var + 10e-7), i.e. 1e-6
OPTIMIZER_EPS = 1e-7    # AdaGrad, RMSprop, Adam: np.sqrt(h) + 1e-7


def learner_grads(layer, names):
    """The parameter gradients of a book-style layer: the list `grads`, or attributes dW, db."""
    grads = getattr(layer, "grads", None)
    if isinstance(grads, (list, tuple)) and len(grads) == len(names):
        return {n: np.array(g, copy=True) for n, g in zip(names, grads)}
    if all(getattr(layer, "d" + n, None) is not None for n in names):
        return {n: np.array(getattr(layer, "d" + n), copy=True) for n in names}
    raise AttributeError(f"{type(layer).__name__}: after backward, expected `grads` as a list of "
                         f"{len(names)} arrays ({', '.join('d' + n for n in names)}) or attributes "
                         f"{', '.join('d' + n for n in names)}")


def _learner_class(module, name):
    cls = getattr(module, name, None)
    return cls if isinstance(cls, type) else None


# ---- feed-forward layers ----------------------------------------------------------------

def affine(module):
    Learner = _learner_class(module, "Affine")
    if Learner is None:
        return None

    class Affine:
        """The learner's Affine(W, b), any leading batch shape flattened into one axis."""

        def __init__(self, W, b):
            self.layer = Learner(*copied(W, b))
            self.params, self.grads = {"W": W, "b": b}, {}

        def forward(self, x):
            self.x_shape = x.shape
            out = self.layer.forward(flatten_batch(copied(x)))
            return out.reshape(x.shape[:-1] + (out.shape[-1],))

        def backward(self, dout):
            dx = self.layer.backward(flatten_batch(copied(dout)))
            self.grads = learner_grads(self.layer, ("W", "b"))
            return dx.reshape(self.x_shape)
    return Affine


def matmul(module):
    Learner = _learner_class(module, "MatMul")
    if Learner is None:
        return None

    class MatMul:
        def __init__(self, W):
            self.layer = Learner(copied(W))
            self.params, self.grads = {"W": W}, {}

        def forward(self, x):
            self.x_shape = x.shape
            out = self.layer.forward(flatten_batch(copied(x)))
            return out.reshape(x.shape[:-1] + (out.shape[-1],))

        def backward(self, dout):
            dx = self.layer.backward(flatten_batch(copied(dout)))
            self.grads = learner_grads(self.layer, ("W",))
            return dx.reshape(self.x_shape)
    return MatMul


def elementwise(name):
    def make(module):
        Learner = _learner_class(module, name)
        if Learner is None:
            return None

        class Elementwise:
            def __init__(self):
                self.layer = Learner()
                self.params, self.grads = {}, {}

            def forward(self, x):
                return self.layer.forward(copied(x))

            def backward(self, dout):
                return self.layer.backward(copied(dout))
        Elementwise.__name__ = Elementwise.__qualname__ = name
        return Elementwise
    return make


def softmax(module):
    Learner = _learner_class(module, "Softmax")
    if Learner is None:
        return None

    class Softmax:
        """The book's Softmax normalizes the rows of a 2-D x: the last axis, leading axes flattened."""

        def __init__(self, axis=-1):
            self.axis, self.layer = axis, Learner()
            self.params, self.grads = {}, {}

        def forward(self, x):
            if self.axis not in (-1, x.ndim - 1):
                raise NotImplementedError(f"the {STYLE} style's Softmax normalizes the last "
                                          f"axis, not axis {self.axis}")
            self.x_shape = x.shape
            return np.reshape(self.layer.forward(flatten_batch(copied(x))), x.shape)

        def backward(self, dout):
            return np.reshape(self.layer.backward(flatten_batch(copied(dout))), self.x_shape)
    return Softmax


def softmax_with_loss(module):
    Learner = _learner_class(module, "SoftmaxWithLoss")
    if Learner is None:
        return None

    class SoftmaxCrossEntropy:
        """The learner's SoftmaxWithLoss; 'sum' is N times the book's batch mean.

        Book 1's backward ignores its dout, so the adapter calls backward(1) and multiplies
        by the (scalar) upstream gradient itself.
        """

        def __init__(self, reduction="mean", **options):
            self.reduction = reduction
            self.ignore_index = plain_cross_entropy_only(STYLE, **options)
            self.layer = Learner()
            self.params, self.grads = {}, {}

        def forward(self, x, target):
            self.scale = reduction_scale(self.reduction, len(logit_rows(x, STYLE)), STYLE)
            target = np.asarray(target)
            refuse_ignored(class_labels(target, STYLE), self.ignore_index, STYLE)  # and probabilities
            return self.layer.forward(copied(x), copied(target)) * self.scale

        def backward(self, dout=1.0):
            return self.layer.backward(1) * (np.asarray(dout) * self.scale)
    return SoftmaxCrossEntropy


def sigmoid_with_loss(module):
    Flat = _learner_class(module, "SigmoidWithLoss")
    Timed = _learner_class(module, "TimeSigmoidWithLoss")
    if Flat is None and Timed is None:
        return None

    class BCEWithLogits:
        """SigmoidWithLoss on x flattened (a batch mean), or TimeSigmoidWithLoss on x (N, T)
        (the mean over T of batch means: the same mean). Both take 0/1 labels, which the book
        uses as indices. 'mean' cases go to SigmoidWithLoss, 'sum' cases (K times the mean)
        to TimeSigmoidWithLoss when the learner wrote both."""

        def __init__(self, reduction="mean", pos_weight=None):
            if pos_weight is not None:
                raise NotImplementedError(f"the {STYLE} style's SigmoidWithLoss has no pos_weight")
            if reduction not in ("mean", "sum"):
                raise NotImplementedError(f"the {STYLE} style's SigmoidWithLoss averages; "
                                          f"reduction={reduction!r} has no counterpart")
            self.reduction = reduction
            self.params, self.grads = {}, {}

        def forward(self, x, t):
            t = np.asarray(t)
            if not np.isin(t, (0.0, 1.0)).all():
                raise NotImplementedError(f"the {STYLE} style's SigmoidWithLoss takes 0/1 labels "
                                          f"(it indexes with them); this case has soft targets")
            self.scale = 1.0 if self.reduction == "mean" else float(np.size(x))
            self.shape = np.shape(x)
            use_timed = Timed is not None and np.ndim(x) == 2 and (self.reduction == "sum" or Flat is None)
            labels = t.astype(np.int64)
            if use_timed:
                self.layer = Timed()
                loss = self.layer.forward(copied(x), labels)
            else:
                self.layer = Flat()
                loss = self.layer.forward(np.ravel(copied(x)), labels.ravel())
            return loss * self.scale

        def backward(self, dout=1.0):
            return np.reshape(self.layer.backward(1), self.shape) * (np.asarray(dout) * self.scale)
    return BCEWithLogits


def dropout(module):
    Plain = _learner_class(module, "Dropout")
    Inverted = _learner_class(module, "TimeDropout")
    if Plain is None and Inverted is None:
        return None

    class Dropout:
        """The book's Dropout (not inverted: x * mask in training, x (1 - ratio) at test time)
        for the inverted=False cases; book 2's TimeDropout (inverted, train_flg attribute) for
        the default, inverted ones. The case's keep mask is the learner's np.random.rand draw."""

        def __init__(self, p=0.5, training=True, inverted=True, rng=None):
            Learner = Inverted if inverted else Plain
            if Learner is None:
                raise NotImplementedError(
                    f"the {STYLE} style's {'TimeDropout' if inverted else 'Dropout'} (the "
                    f"{'inverted' if inverted else 'not inverted'} form) is not written; "
                    f"its {'Dropout is not inverted' if inverted else 'TimeDropout is inverted'}")
            self.layer, self.inverted = Learner(p), inverted
            self.training = training
            self.params, self.grads = {}, {}

        def forward(self, x, mask=None):
            x = copied(x)
            if mask is None:
                mask = np.random.default_rng().random(x.shape) >= self.layer.dropout_ratio
            with drawn_uniforms(mask, kept_high=True):
                if self.inverted:
                    self.layer.train_flg = self.training
                    return self.layer.forward(x)
                return self.layer.forward(x, train_flg=self.training)

        def backward(self, dout):
            if not self.training and self.inverted:
                return copied(dout)        # TimeDropout keeps no mask at test time: the identity
            if not self.training:
                raise NotImplementedError(f"the {STYLE} style's Dropout has no backward at test "
                                          f"time (no mask is drawn)")
            return self.layer.backward(copied(dout))
    return Dropout


def batch_normalization(module):
    Learner = _learner_class(module, "BatchNormalization")
    if Learner is None:
        return None

    class BatchNorm:
        """Book 1's BatchNormalization: momentum weights the OLD running value (book 0.9 =
        1 - the answer key's 0.1), eps = 10e-7, the biased variance in the running average,
        and x (N, C, H, W) normalized per activation (as (N, C*H*W), gamma of C*H*W values)."""

        def __init__(self, gamma, beta, eps=1e-5, momentum=0.1, running_mean=None,
                     running_var=None, training=True, unbiased_running_var=True,
                     per_activation=False, num_batches_tracked=0):
            require_eps(eps, BOOK1_EPS, STYLE, "BatchNormalization")
            if momentum is None:
                raise NotImplementedError(f"the {STYLE} style's BatchNormalization has no "
                                          f"cumulative average (momentum=None)")
            if training and unbiased_running_var:
                raise NotImplementedError(f"the {STYLE} style's BatchNormalization averages the "
                                          f"biased variance (divided by N) into running_var")
            self.per_activation, self.training = per_activation, training
            def stats(value):        # the book keeps None and makes zeros at the first forward
                return None if value is None else np.array(value, dtype=np.asarray(gamma).dtype)
            self.layer = Learner(*copied(gamma, beta), momentum=1.0 - momentum,
                                 running_mean=stats(running_mean), running_var=stats(running_var))
            self.params, self.grads = {"gamma": gamma, "beta": beta}, {}

        def forward(self, x):
            if x.ndim > 2 and not self.per_activation:
                raise NotImplementedError(f"the {STYLE} style's BatchNormalization normalizes "
                                          f"{x.ndim}-D input per activation, not per channel")
            out = self.layer.forward(copied(x), train_flg=self.training)
            self.running_mean, self.running_var = self.layer.running_mean, self.layer.running_var
            return out

        def backward(self, dout):
            if not self.training:
                raise NotImplementedError(f"the {STYLE} style's BatchNormalization has no "
                                          f"backward in test mode")
            dx = self.layer.backward(copied(dout))
            self.grads = learner_grads(self.layer, ("gamma", "beta"))
            return dx
    return BatchNorm


def convolution(module):
    Learner = _learner_class(module, "Convolution")
    if Learner is None:
        return None

    class Conv2d:
        def __init__(self, W, b, stride=1, padding=0, dilation=1, groups=1):
            if single(dilation, "dilation", STYLE, "Convolution") != 1 or groups != 1:
                raise NotImplementedError(f"the {STYLE} style's Convolution has no dilation "
                                          f"or groups")
            self.layer = Learner(*copied(W, b), stride=single(stride, "stride", STYLE, "Convolution"),
                                 pad=single(padding, "padding", STYLE, "Convolution"))
            self.params, self.grads = {"W": W, "b": b}, {}

        def forward(self, x):
            return self.layer.forward(copied(x))

        def backward(self, dout):
            dx = self.layer.backward(copied(dout))
            self.grads = learner_grads(self.layer, ("W", "b"))
            return dx
    return Conv2d


def pooling(module):
    Learner = _learner_class(module, "Pooling")
    if Learner is None:
        return None

    class MaxPool2d:
        """The book's Pooling (max): kernel (pool_h, pool_w), one stride; no padding, which
        the book fills with 0 (counted in the max) and leaves out of its output size."""

        def __init__(self, kernel_size, stride=None, padding=0):
            kh, kw = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
            if single(padding, "padding", STYLE, "Pooling") != 0:
                raise NotImplementedError(f"the {STYLE} style's Pooling pads with 0 and leaves "
                                          f"pad out of its output size: no padded case")
            stride = (kh, kw) if stride is None else stride
            self.layer = Learner(kh, kw, stride=single(stride, "stride", STYLE, "Pooling"), pad=0)
            self.params, self.grads = {}, {}

        def forward(self, x):
            return self.layer.forward(copied(x))

        def backward(self, dout):
            return self.layer.backward(copied(dout))
    return MaxPool2d


def embedding(name):
    def make(module):
        Learner = _learner_class(module, name)
        if Learner is None:
            return None

        class Embedding:
            def __init__(self, W):
                self.layer = Learner(copied(W))
                self.params, self.grads = {"W": W}, {}

            def forward(self, idx):
                return self.layer.forward(copied(idx))

            def backward(self, dout):
                self.layer.backward(copied(dout))
                self.grads = learner_grads(self.layer, ("W",))
                return None
        Embedding.__name__ = Embedding.__qualname__ = name
        return Embedding
    return make


def time_affine(module):
    Learner = _learner_class(module, "TimeAffine")
    if Learner is None:
        return None

    class TimeAffine:
        def __init__(self, W, b):
            self.layer = Learner(*copied(W, b))
            self.params, self.grads = {"W": W, "b": b}, {}

        def forward(self, x):
            return self.layer.forward(copied(x))

        def backward(self, dout):
            dx = self.layer.backward(copied(dout))
            self.grads = learner_grads(self.layer, ("W", "b"))
            return dx
    return TimeAffine


def time_softmax_with_loss(module):
    Learner = _learner_class(module, "TimeSoftmaxWithLoss")
    if Learner is None:
        return None

    class TimeSoftmaxCrossEntropy:
        """The book's TimeSoftmaxWithLoss: the mean over the positions whose label is not -1;
        'sum' is K (the counted positions) times it."""

        def __init__(self, ignore_index=-1, reduction="mean"):
            if ignore_index != -1:
                raise NotImplementedError(f"the {STYLE} style's TimeSoftmaxWithLoss ignores "
                                          f"label -1, not {ignore_index}")
            self.reduction, self.layer = reduction, Learner()
            self.params, self.grads = {}, {}

        def forward(self, x, t):
            t = np.asarray(t)
            self.scale = 1.0 if self.reduction == "mean" else float(max((t != -1).sum(), 1))
            return self.layer.forward(copied(x), copied(t)) * self.scale

        def backward(self, dout=1.0):
            return self.layer.backward(1) * (np.asarray(dout) * self.scale)
    return TimeSoftmaxCrossEntropy


# ---- recurrent layers -------------------------------------------------------------------

def lstm_cell(module):
    Learner = _learner_class(module, "LSTM")
    if Learner is None:
        return None

    class LSTMCell(StackedGateCell):
        """The book's LSTM cell behind torch's LSTMCell API (weight_ih (4H, D), gates i, f, g, o)."""
        gate_order = "fgio"

        def make(self, Wx, Wh, b):
            self.layer = Learner(Wx, Wh, b)

        def step_forward(self, x, h, c):
            return self.layer.forward(*copied(x, h, c))

        def step_backward(self, dh_next, dc_next):
            dx, dh, dc = self.layer.backward(*copied(dh_next, dc_next))
            dWx, dWh, db = learner_grads(self.layer, ("Wx", "Wh", "b")).values()
            return dx, dh, dc, dWx, dWh, db
    return LSTMCell


def rnn_cell(module):
    Learner = _learner_class(module, "RNN")
    if Learner is None:
        return None

    class RNNCell(TanhRNNCell):
        style = STYLE

        def make(self, Wx, Wh, b):
            self.layer = Learner(Wx, Wh, b)

        def step_forward(self, x, h):
            return self.layer.forward(*copied(x, h))

        def step_backward(self, dh_next):
            dx, dh = self.layer.backward(copied(dh_next))
            return (dx, dh, *learner_grads(self.layer, ("Wx", "Wh", "b")).values())
    return RNNCell


def _gated(params, order):
    """Wx (D, G*H), Wh (H, G*H), b (G*H,) in the learner's gate order from torch's layout."""
    def to_book(w):
        return permute_gates(w, TORCH_GATES if order != "h" else "h", order, axis=-1)
    return (to_book(params["weight_ih"].T), to_book(params["weight_hh"].T),
            to_book(params["bias_ih"] + params["bias_hh"]))


def _torch_named(dWx, dWh, db, order):
    def to_torch(w):
        return permute_gates(np.asarray(w), order, TORCH_GATES if order != "h" else "h", axis=-1)
    db = to_torch(db)
    return {"weight_ih": to_torch(dWx).T, "weight_hh": to_torch(dWh).T, "bias_ih": db,
            "bias_hh": db.copy()}


class _TimeRunner:
    """One direction of a sequence through the learner's TimeRNN / TimeLSTM (stateful, so
    that set_state gives h0 (and c0)); its gradient of h0 is `dh`, that of c0 is read from
    the first cell's backward (the book keeps none)."""

    def __init__(self, Learner, params, order, has_cell):
        self.order, self.has_cell = order, has_cell
        self.layer = Learner(*_gated(params, order), stateful=True)

    def run(self, x, h0, c0):
        if self.has_cell:
            self.layer.set_state(copied(h0), copied(c0))
        else:
            self.layer.set_state(copied(h0))
        hs = self.layer.forward(copied(x))
        if self.has_cell:
            self.seen = _recurrent.recording_first_cell(self.layer)
        return hs, self.layer.h, getattr(self.layer, "c", None) if self.has_cell else None

    def back(self, dhs):
        dx = self.layer.backward(copied(dhs))
        grads = _torch_named(*learner_grads(self.layer, ("Wx", "Wh", "b")).values(), self.order)
        dc0 = np.asarray(self.seen["out"][2]) if self.has_cell else None
        return dx, np.asarray(self.layer.dh), dc0, grads


class _BiLSTMRunner:
    """The learner's TimeBiLSTM: two TimeLSTMs, outputs concatenated, grads a list of six."""

    def __init__(self, Learner, params_f, params_b):
        self.layer = Learner(*_gated(params_f, "fgio"), *_gated(params_b, "fgio"), stateful=True)

    def run(self, x, h0s, c0s):
        for lstm, h, c in zip((self.layer.forward_lstm, self.layer.backward_lstm), h0s, c0s):
            lstm.set_state(copied(h), copied(c))
        out = self.layer.forward(copied(x))
        self.seen = [_recurrent.recording_first_cell(lstm)
                     for lstm in (self.layer.forward_lstm, self.layer.backward_lstm)]
        lstms = (self.layer.forward_lstm, self.layer.backward_lstm)
        return out, np.stack([l.h for l in lstms]), np.stack([l.c for l in lstms])

    def back(self, dout):
        dx = self.layer.backward(copied(dout))
        grads = self.layer.grads
        if not (isinstance(grads, (list, tuple)) and len(grads) == 6):
            raise AttributeError("TimeBiLSTM: after backward, expected `grads` as a list of six "
                                 "arrays (dWx1, dWh1, db1, dWx2, dWh2, db2)")
        lstms = (self.layer.forward_lstm, self.layer.backward_lstm)
        return (dx, np.stack([np.asarray(l.dh) for l in lstms]),
                np.stack([np.asarray(s["out"][2]) for s in self.seen]),
                _torch_named(*[np.array(g) for g in grads[:3]], "fgio"),
                _torch_named(*[np.array(g) for g in grads[3:]], "fgio"))


def time_rnn(module):
    Learner = _learner_class(module, "TimeRNN")
    if Learner is None:
        return None

    class RNN(_recurrent.Stacked):
        style = STYLE

        def __init__(self, nonlinearity="tanh", **kw):
            require_tanh(nonlinearity, STYLE)
            super().__init__(**kw)

        def direction(self, params):
            return _TimeRunner(Learner, params, "h", has_cell=False)
    return RNN


def time_lstm(module):
    Learner = _learner_class(module, "TimeLSTM")
    Bi = _learner_class(module, "TimeBiLSTM")
    if Learner is None and Bi is None:
        return None

    class LSTM(_recurrent.Stacked):
        """TimeLSTM for each direction, or the learner's TimeBiLSTM for a bidirectional layer."""
        style, has_cell = STYLE, True

        def direction(self, params):
            if Learner is None:
                raise NotImplementedError(f"the {STYLE} style's TimeLSTM is not written (only "
                                          f"TimeBiLSTM): one direction has no counterpart")
            return _TimeRunner(Learner, params, "fgio", has_cell=True)

        pair = None if Bi is None else staticmethod(lambda pf, pb: _BiLSTMRunner(Bi, pf, pb))
    return LSTM


def _gru_weights(params):
    """The book's GRU (no bias, gate blocks z, r, candidate; h' = (1 - z) h + z h~) from
    torch's layout (r, z, n; h' = (1 - z) n + z h) in the Cho form:
        z_book = 1 - z_torch = sigmoid(-a_z): the z blocks are negated;
        the biases: a row of Wx read by a constant-1 column appended to x,
        b = bias_ih + bias_hh (the reset gate multiplies h before W_hn, not b_hn)."""
    H = params["weight_hh"].shape[1]
    r, z, n = (slice(k * H, (k + 1) * H) for k in range(3))
    w_ih, w_hh, b = params["weight_ih"], params["weight_hh"], params["bias_ih"] + params["bias_hh"]
    Wx = np.concatenate([-w_ih[z].T, w_ih[r].T, w_ih[n].T], axis=1)
    bias = np.concatenate([-b[z], b[r], b[n]])[None]
    Wh = np.concatenate([-w_hh[z].T, w_hh[r].T, w_hh[n].T], axis=1)
    return np.concatenate([Wx, bias]), Wh


def _gru_grads(dWx_aug, dWh):
    """torch-named gradients from the book's dWx (D+1, 3H) (last row: the bias) and dWh."""
    dWx, db = np.asarray(dWx_aug)[:-1], np.asarray(dWx_aug)[-1]
    H = np.shape(dWh)[0]
    z, r, n = (slice(k * H, (k + 1) * H) for k in range(3))

    def torch_rows(w):             # (.., 3H) book z, r, n -> (3H, ..) torch r, z, n
        w = np.asarray(w)
        return np.concatenate([w[..., r].T, -w[..., z].T, w[..., n].T], axis=0)
    bias = np.concatenate([db[r], -db[z], db[n]])
    return {"weight_ih": torch_rows(dWx), "weight_hh": torch_rows(dWh), "bias_ih": bias,
            "bias_hh": bias.copy()}


class _GRURunner:
    def __init__(self, Learner, params):
        self.layer = Learner(*_gru_weights(params), stateful=True)

    def run(self, x, h0, c0):
        self.D = x.shape[-1]
        ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
        self.layer.set_state(copied(h0))
        hs = self.layer.forward(np.concatenate([x, ones], axis=-1))
        return hs, self.layer.h, None

    def back(self, dhs):
        dx = np.asarray(self.layer.backward(copied(dhs)))[..., :self.D]
        for name in ("dWx", "dWh"):
            if getattr(self.layer, name, None) is None:
                raise AttributeError(f"TimeGRU: after backward, expected the attribute {name}")
        return dx, np.asarray(self.layer.dh), None, _gru_grads(self.layer.dWx, self.layer.dWh)


def time_gru(module):
    Learner = _learner_class(module, "TimeGRU")
    if Learner is None:
        return None

    class ChoGRU(_recurrent.Stacked):
        style = STYLE

        def direction(self, params):
            return _GRURunner(Learner, params)
    return ChoGRU


# ---- optimizers -------------------------------------------------------------------------

def optimizer(name, state_names, translate):
    """update(params, grads) on dicts (book 1) or lists (book 2), found by trying a dict on
    copies with a spare instance; the state dicts/lists are shown under the answer key's
    names, keyed like params. `translate(hp) -> learner kwargs` (NotImplementedError when a
    case has no counterpart)."""
    def make(module):
        Learner = _learner_class(module, name)
        if Learner is None:
            return None

        class Optimizer:
            def __init__(self, **hp):
                self.kwargs = translate(dict(hp))
                self.opt, self.as_list, self.names = Learner(**self.kwargs), None, None

            def _takes_dicts(self, params, grads):
                spare = Learner(**self.kwargs)
                try:
                    spare.update({k: v.copy() for k, v in params.items()},
                                 {k: v.copy() for k, v in grads.items()})
                    return True
                except (KeyError, TypeError, IndexError):
                    return False

            def update(self, params, grads):
                if self.as_list is None:
                    self.as_list = not self._takes_dicts(params, grads)
                    self.names = list(params)
                if self.as_list:
                    self.opt.update([params[k] for k in self.names], [grads[k] for k in self.names])
                else:
                    self.opt.update(params, grads)

            def __getattr__(self, attr):
                if attr not in state_names:
                    raise AttributeError(attr)
                state = getattr(self.__dict__["opt"], attr)
                if self.__dict__.get("as_list") and state is not None:
                    return dict(zip(self.names, state))
                return state
        Optimizer.__name__ = Optimizer.__qualname__ = name
        return Optimizer
    return make


def _no_decay(hp, name):
    if hp.pop("weight_decay", 0.0):
        raise NotImplementedError(f"the {STYLE} style's {name} has no weight decay")
    return hp


def _plain(name, keys):
    def translate(hp):
        hp = _no_decay(hp, name)
        extra = set(hp) - set(keys)
        if extra:
            raise NotImplementedError(f"the {STYLE} style's {name} has no {', '.join(sorted(extra))}")
        return hp
    return translate


def _with_eps(name, keys, fixed_form=None):
    def translate(hp):
        hp = _no_decay(hp, name)
        require_eps(hp.pop("eps", 1e-8), OPTIMIZER_EPS, STYLE, name)
        for key, value in (fixed_form or {}).items():
            if hp.pop(key, None) != value:
                raise NotImplementedError(f"the {STYLE} style's {name} folds the bias correction "
                                          f"into the step size (eps added to sqrt(v) before the "
                                          f"correction): only {key}={value} cases have a counterpart")
        if hp.pop("eps_in_sqrt", False):
            raise NotImplementedError(f"the {STYLE} style's {name} adds eps outside the root")
        extra = set(hp) - set(keys)
        if extra:
            raise NotImplementedError(f"the {STYLE} style's {name} has no {', '.join(sorted(extra))}")
        return hp
    return translate


OPTIMIZERS = {
    "SGD": optimizer("SGD", (), _plain("SGD", ("lr",))),
    "Momentum": optimizer("Momentum", ("v",), _plain("Momentum", ("lr", "momentum"))),
    "Nesterov": optimizer("Nesterov", ("v",), _plain("Nesterov", ("lr", "momentum"))),
    "AdaGrad": optimizer("AdaGrad", ("h",), _with_eps("AdaGrad", ("lr",))),
    "RMSprop": optimizer("RMSprop", ("h",), _with_eps("RMSprop", ("lr", "decay_rate"))),
    "Adam": optimizer("Adam", ("m", "v"), _with_eps("Adam", ("lr", "beta1", "beta2"),
                                                    {"correction_in_lr": True})),
}


# ---- the mapping ------------------------------------------------------------------------

CLASSES = {
    "Affine": affine,
    "MatMul": matmul,
    "Relu": elementwise("Relu"),
    "Sigmoid": elementwise("Sigmoid"),
    "Softmax": softmax,
    "SoftmaxCrossEntropy": softmax_with_loss,
    "BCEWithLogits": sigmoid_with_loss,
    "Dropout": dropout,
    "BatchNorm": batch_normalization,
    "Conv2d": convolution,
    "MaxPool2d": pooling,
    "Embedding": embedding("Embedding"),
    "TimeEmbedding": embedding("TimeEmbedding"),
    "TimeAffine": time_affine,
    "TimeSoftmaxCrossEntropy": time_softmax_with_loss,
    "RNNCell": rnn_cell,
    "RNN": time_rnn,
    "LSTMCell": lstm_cell,
    "LSTM": time_lstm,
    "ChoGRU": time_gru,
    **OPTIMIZERS,
}

# The learner's names each answer-key class is built from (for "defines X but ..." messages).
LEARNER_NAMES = {
    "Affine": ("Affine",), "MatMul": ("MatMul",), "Relu": ("Relu",), "Sigmoid": ("Sigmoid",),
    "Softmax": ("Softmax",), "SoftmaxCrossEntropy": ("SoftmaxWithLoss",),
    "BCEWithLogits": ("SigmoidWithLoss", "TimeSigmoidWithLoss"),
    "Dropout": ("Dropout", "TimeDropout"), "BatchNorm": ("BatchNormalization",),
    "Conv2d": ("Convolution",), "MaxPool2d": ("Pooling",), "Embedding": ("Embedding",),
    "TimeEmbedding": ("TimeEmbedding",), "TimeAffine": ("TimeAffine",),
    "TimeSoftmaxCrossEntropy": ("TimeSoftmaxWithLoss",), "RNNCell": ("RNN",), "RNN": ("TimeRNN",),
    "LSTMCell": ("LSTM",), "LSTM": ("TimeLSTM", "TimeBiLSTM"), "ChoGRU": ("TimeGRU", "GRU"),
    **{n: (n,) for n in OPTIMIZERS},
}

# Learner classes graded inside another one (their own op has no counterpart).
GRADED_INSIDE = {"GRU": "TimeGRU (the answer key has no Cho-form GRU cell op)"}

# functions of common/functions.py and common/util.py that the layers import (no op of their own)
HELPERS = ("sigmoid", "sigmoid_grad", "relu", "relu_grad", "softmax", "softmax_loss",
           "cross_entropy_error", "mean_squared_error", "identity_function", "step_function",
           "im2col", "col2im")
