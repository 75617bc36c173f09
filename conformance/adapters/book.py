"""The 『ゼロから作るDeep Learning』 style: layer classes of the book's common/layers.py.

    Affine(W, b)          W (in, out); params = [W, b], grads = [dW, db] (book 2),
                          or attributes dW, db (book 1); x of shape (N, D)
    Relu(), Sigmoid()     forward(x), backward(dout)
    SoftmaxWithLoss()     forward(x, t) -> the batch mean, backward(dout=1) -> dx;
                          t class labels or one-hot rows
    LSTM(Wx, Wh, b)       one time step (book 2, ch. 6): Wx (D, 4H), Wh (H, 4H), b (4H,),
                          gate blocks in the order f, g, i, o; forward(x, h_prev, c_prev)
                          -> (h_next, c_next), backward(dh_next, dc_next) -> (dx, dh_prev,
                          dc_prev), grads [dWx, dWh, db]
    RNN(Wx, Wh, b)        one tanh step: forward(x, h_prev) -> h_next, backward(dh_next) ->
                          (dx, dh_prev), grads [dWx, dWh, db]
    TimeRNN(Wx, Wh, b, stateful)    the sequence: forward(xs) -> hs, set_state(h),
                          backward(dhs) -> dxs, the gradient of h0 in `dh`
    TimeLSTM(Wx, Wh, b, stateful)   the sequence (book 2, ch. 6): forward(xs (N, T, D)) -> hs,
                          set_state(h, c), backward(dhs) -> dxs, the gradient of h0 in `dh`;
                          one layer, one direction, no variable lengths. The book keeps no
                          gradient of c0: the adapter reads it from the learner's own cell
                          at step 0 (`layers[0]`), as that cell's backward returns it.

backward(dout) returns dx and stores the parameter gradients in place; the
adapter copies them into `grads` under the answer key's names.
"""
import numpy as np

from ._common import (TORCH_GATES, StackedGateCell, TanhRNN, TanhRNNCell, class_labels,
                      flatten_batch, logit_rows, permute_gates, plain_cross_entropy_only, reduction_scale,
                      refuse_ignored)

STYLE = "book"


def learner_grads(layer, names):
    """The parameter gradients of a book-style layer: the list `grads`, or attributes dW, db."""
    grads = getattr(layer, "grads", None)
    if isinstance(grads, (list, tuple)) and len(grads) == len(names):
        return {n: np.array(g, copy=True) for n, g in zip(names, grads)}
    if all(hasattr(layer, "d" + n) for n in names):
        return {n: np.array(getattr(layer, "d" + n), copy=True) for n in names}
    raise AttributeError(f"{type(layer).__name__}: after backward, expected `grads` as a list of "
                         f"{len(names)} arrays ({', '.join('d' + n for n in names)}) or attributes "
                         f"{', '.join('d' + n for n in names)}")


def _learner_class(module, name):
    return getattr(module, name, None)


def affine(module):
    Learner = _learner_class(module, "Affine")
    if Learner is None:
        return None

    class Affine:
        """The learner's Affine(W, b), any leading batch shape flattened into one axis."""

        def __init__(self, W, b):
            self.layer = Learner(W, b)
            self.params, self.grads = {"W": W, "b": b}, {}

        def forward(self, x):
            self.x_shape = x.shape
            out = self.layer.forward(flatten_batch(x))
            return out.reshape(x.shape[:-1] + (out.shape[-1],))

        def backward(self, dout):
            dx = self.layer.backward(flatten_batch(dout))
            self.grads = learner_grads(self.layer, ("W", "b"))
            return dx.reshape(self.x_shape)
    return Affine


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
                return self.layer.forward(x)

            def backward(self, dout):
                return self.layer.backward(dout)
        Elementwise.__name__ = Elementwise.__qualname__ = name
        return Elementwise
    return make


def softmax_with_loss(module):
    Learner = _learner_class(module, "SoftmaxWithLoss")
    if Learner is None:
        return None

    class SoftmaxCrossEntropy:
        """The learner's SoftmaxWithLoss; 'sum' is N times the book's batch mean.

        The book's backward ignores its dout in one edition, so the adapter calls
        backward(1) and multiplies by the (scalar) upstream gradient itself.
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
            return self.layer.forward(x, target) * self.scale

        def backward(self, dout=1.0):
            return self.layer.backward(1.0) * (np.asarray(dout) * self.scale)
    return SoftmaxCrossEntropy


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
            return self.layer.forward(x, h, c)

        def step_backward(self, dh_next, dc_next):
            dx, dh, dc = self.layer.backward(dh_next, dc_next)
            dWx, dWh, db = learner_grads(self.layer, ("Wx", "Wh", "b")).values()
            return dx, dh, dc, dWx, dWh, db
    return LSTMCell


def time_lstm(module):
    Learner = _learner_class(module, "TimeLSTM")
    if Learner is None:
        return None

    def to_book(w):
        return permute_gates(w, TORCH_GATES, "fgio", axis=-1)

    def from_book(w):
        return permute_gates(np.asarray(w), "fgio", TORCH_GATES, axis=-1)

    class LSTM:
        """The learner's TimeLSTM behind torch.nn.LSTM's API (batch first, one layer)."""

        def __init__(self, num_layers=1, bidirectional=False, **params):
            if num_layers != 1 or bidirectional:
                raise NotImplementedError("the book's TimeLSTM is one layer in one direction")
            self.params, self.grads = params, {}
            p = {k[:-len("_l0")]: v for k, v in params.items()}
            self.layer = Learner(to_book(p["weight_ih"].T), to_book(p["weight_hh"].T),
                                 to_book(p["bias_ih"] + p["bias_hh"]), stateful=True)

        def forward(self, x, h0, c0, lengths=None):
            if lengths is not None:
                raise NotImplementedError("the book's TimeLSTM has no variable lengths")
            self.layer.set_state(h0[0], c0[0])
            hs = self.layer.forward(x)
            self.h_n, self.c_n = self.layer.h[None], self.layer.c[None]
            return hs

        def backward(self, dout, dh_n=None, dc_n=None):
            if dh_n is not None or dc_n is not None:
                raise NotImplementedError("the book's TimeLSTM takes no gradient of its last state")
            first, seen = self.layer.layers[0], {}
            backward_of_first = first.backward

            def recording(dh_next, dc_next):      # the cell at step 0 returns d c0
                seen["out"] = backward_of_first(dh_next, dc_next)
                return seen["out"]
            first.backward = recording
            try:
                dx = self.layer.backward(dout)
            finally:
                del first.backward
            dWx, dWh, db = learner_grads(self.layer, ("Wx", "Wh", "b")).values()
            db = from_book(db)
            self.grads = {"weight_ih_l0": from_book(dWx).T, "weight_hh_l0": from_book(dWh).T,
                          "bias_ih_l0": db, "bias_hh_l0": db.copy()}
            return dx, np.asarray(self.layer.dh)[None], np.asarray(seen["out"][2])[None]
    return LSTM


def rnn_cell(module):
    Learner = _learner_class(module, "RNN")
    if Learner is None:
        return None

    class RNNCell(TanhRNNCell):
        style = STYLE

        def make(self, Wx, Wh, b):
            self.layer = Learner(Wx, Wh, b)

        def step_forward(self, x, h):
            return self.layer.forward(x, h)

        def step_backward(self, dh_next):
            dx, dh = self.layer.backward(dh_next)
            return (dx, dh, *learner_grads(self.layer, ("Wx", "Wh", "b")).values())
    return RNNCell


def time_rnn(module):
    Learner = _learner_class(module, "TimeRNN")
    if Learner is None:
        return None

    class RNN(TanhRNN):
        style = STYLE

        def make(self, Wx, Wh, b):
            self.layer = Learner(Wx, Wh, b, stateful=True)

        def run_forward(self, x, h0):
            self.layer.set_state(h0)
            hs = self.layer.forward(x)
            return hs, self.layer.h

        def run_backward(self, dhs):
            dx = self.layer.backward(dhs)
            return (dx, self.layer.dh, *learner_grads(self.layer, ("Wx", "Wh", "b")).values())
    return RNN


CLASSES = {
    "Affine": affine,
    "Relu": elementwise("Relu"),
    "Sigmoid": elementwise("Sigmoid"),
    "SoftmaxCrossEntropy": softmax_with_loss,
    "RNNCell": rnn_cell,
    "RNN": time_rnn,
    "LSTMCell": lstm_cell,
    "LSTM": time_lstm,
}
