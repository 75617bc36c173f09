"""Pieces shared by the adapters."""
import numpy as np


def flatten_batch(x):
    """x (..., D) as (n, D): the teaching styles take one batch axis (sizes given: D may be 0)."""
    return x.reshape(int(np.prod(x.shape[:-1])), x.shape[-1])


def logit_rows(x, style):
    """The styles' softmax loss takes (N, C) logits; PyTorch's other layouts have no counterpart."""
    if np.ndim(x) != 2:
        raise NotImplementedError(f"the {style} style's softmax loss takes (N, C) logits; an input "
                                  f"of shape {np.shape(x)} (unbatched or (N, C, d1, ...)) has no "
                                  f"counterpart")
    return x


def is_one_hot(target):
    t = np.asarray(target)
    return t.ndim == 2 and np.isin(t, (0.0, 1.0)).all() and (t.sum(axis=1) == 1).all()


def class_labels(target, style):
    """Class indices from labels or one-hot rows; probability targets have no counterpart."""
    t = np.asarray(target)
    if np.issubdtype(t.dtype, np.integer):
        return t
    if is_one_hot(t):
        return t.argmax(axis=1)
    raise NotImplementedError(f"the {style} style's softmax loss takes class labels or one-hot "
                              f"rows; probability targets have no counterpart")


def reduction_scale(reduction, n, style):
    """The styles' loss is the batch mean; 'sum' is n times it, 'none' has no counterpart."""
    if reduction == "mean":
        return 1.0
    if reduction == "sum":
        return float(n)
    raise NotImplementedError(f"the {style} style's softmax loss averages over the batch; "
                              f"reduction={reduction!r} has no counterpart")


def plain_cross_entropy_only(style, weight=None, ignore_index=-100, label_smoothing=0.0):
    """The styles' softmax loss has no class weights, ignored labels or label smoothing."""
    if weight is not None or label_smoothing:
        raise NotImplementedError(f"the {style} style's softmax loss has no class weights "
                                  f"or label smoothing")
    return ignore_index


def refuse_ignored(labels, ignore_index, style):
    if np.any(labels == ignore_index):
        raise NotImplementedError(f"the {style} style's softmax loss cannot ignore a label")


def permute_gates(w, order_from, order_to, axis=-1):
    """Reorder the gate blocks of a stacked weight along `axis`, e.g. ifgo -> fgio."""
    blocks = dict(zip(order_from, np.split(w, len(order_from), axis=axis)))
    return np.concatenate([blocks[g] for g in order_to], axis=axis)


TORCH_GATES = "ifgo"   # the answer key's LSTM follows torch: weight_ih (4H, D), gates i, f, g, o


class StackedGateCell:
    """An LSTM cell with the answer key's API (torch.nn.LSTMCell's layout) around a learner's
    cell that takes Wx (D, 4H), Wh (H, 4H) and one bias b (4H,) with its own gate order.

        Wx = weight_ih^T and Wh = weight_hh^T with the gate blocks reordered; b = bias_ih + bias_hh
        d weight_ih = (dWx reordered back)^T;  d bias_ih = d bias_hh = db reordered back

    A subclass gives `gate_order`, `make(Wx, Wh, b)`, `step_forward(x, h, c) -> (h', c')` and
    `step_backward(dh', dc') -> (dx, dh, dc, dWx, dWh, db)`.
    """
    gate_order = TORCH_GATES

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        self.params = dict(weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih,
                           bias_hh=bias_hh)
        self.grads = {}
        self.make(self._to_learner(weight_ih.T), self._to_learner(weight_hh.T),
                  self._to_learner(bias_ih + bias_hh))

    def _to_learner(self, w):
        return permute_gates(w, TORCH_GATES, self.gate_order, axis=-1)

    def _from_learner(self, w):
        return permute_gates(np.asarray(w), self.gate_order, TORCH_GATES, axis=-1)

    def forward(self, x, h, c):
        h_next, self.c_next = self.step_forward(x, h, c)
        return h_next

    def backward(self, dh_next, dc_next=None):
        if dc_next is None:
            dc_next = np.zeros_like(self.c_next)
        dx, dh, dc, dWx, dWh, db = self.step_backward(dh_next, dc_next)
        db = self._from_learner(db)
        self.grads = {"weight_ih": self._from_learner(dWx).T, "weight_hh": self._from_learner(dWh).T,
                      "bias_ih": db, "bias_hh": db.copy()}
        return dx, dh, dc


def learner_weights(params, torch_order, order, suffix=""):
    """Wx (D, G*H), Wh (H, G*H) and one bias b (G*H,), gate blocks in the learner's order,
    from torch's weight_ih (G*H, D), weight_hh (G*H, H), bias_ih and bias_hh."""
    def to_learner(w):
        return permute_gates(w, torch_order, order, axis=-1)
    return (to_learner(params["weight_ih" + suffix].T), to_learner(params["weight_hh" + suffix].T),
            to_learner(params["bias_ih" + suffix] + params["bias_hh" + suffix]))


def torch_grads(dWx, dWh, db, torch_order, order, suffix=""):
    """The gradients of learner_weights' arrays, back in torch's layout (b feeds both biases)."""
    def to_torch(w):
        return permute_gates(np.asarray(w), order, torch_order, axis=-1)
    db = to_torch(db)
    return {"weight_ih" + suffix: to_torch(dWx).T, "weight_hh" + suffix: to_torch(dWh).T,
            "bias_ih" + suffix: db, "bias_hh" + suffix: db.copy()}


def require_tanh(nonlinearity, style):
    if nonlinearity != "tanh":
        raise NotImplementedError(f"the {style} style's RNN uses tanh, not {nonlinearity}")


class TanhRNNCell:
    """torch.nn.RNNCell's API (tanh) around a learner's step with Wx (D, H), Wh (H, H), b (H,).

    A subclass gives `style`, `make(Wx, Wh, b)`, `step_forward(x, h) -> h'` and
    `step_backward(dh') -> (dx, dh, dWx, dWh, db)`.
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity="tanh"):
        require_tanh(nonlinearity, self.style)
        self.params = dict(weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih,
                           bias_hh=bias_hh)
        self.grads = {}
        self.make(*learner_weights(self.params, "h", "h"))

    def forward(self, x, h):
        return self.step_forward(x, h)

    def backward(self, dh_next):
        dx, dh, dWx, dWh, db = self.step_backward(dh_next)
        self.grads = torch_grads(dWx, dWh, db, "h", "h")
        return dx, dh


class TanhRNN:
    """torch.nn.RNN's API (batch first, one layer, one direction, tanh) around a learner's
    sequence. A subclass gives `style`, `make(Wx, Wh, b)`, `run_forward(x, h0) -> (hs, h_T)`
    and `run_backward(dhs) -> (dx, dh0, dWx, dWh, db)`.
    """

    def __init__(self, nonlinearity="tanh", num_layers=1, bidirectional=False, **params):
        require_tanh(nonlinearity, self.style)
        if num_layers != 1 or bidirectional:
            raise NotImplementedError(f"the {self.style} style's RNN is one layer in one direction")
        self.params, self.grads = params, {}
        self.make(*learner_weights(params, "h", "h", "_l0"))

    def forward(self, x, h0, lengths=None):
        if lengths is not None:
            raise NotImplementedError(f"the {self.style} style's RNN has no variable lengths")
        out, h_last = self.run_forward(x, h0[0])
        self.h_n = np.asarray(h_last)[None]
        return out

    def backward(self, dout, dh_n=None):
        if dh_n is not None:
            raise NotImplementedError(f"the {self.style} style's RNN takes no gradient of its "
                                      f"last state")
        dx, dh0, dWx, dWh, db = self.run_backward(dout)
        self.grads = torch_grads(dWx, dWh, db, "h", "h", "_l0")
        return dx, np.asarray(dh0)[None]


# ---- pieces of the wider mapping (issue 14) ---------------------------------------------

class Unmappable:
    """What an adapter module offers for an answer-key class it cannot build from the
    learner's code: constructing it raises NotImplementedError with the reason (the
    check is "not attempted" and says why, e.g. a forward function without its backward)."""

    reason = ""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(self.reason)


def unmappable(name, reason):
    return type(name, (Unmappable,), {"reason": reason, "__doc__": reason})


def copied(*arrays):
    """Copies of the arrays handed to a learner's code, which may write into its arguments
    (the book's Relu.backward sets dout[mask] = 0 in place)."""
    out = tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in arrays)
    return out if len(out) != 1 else out[0]


class drawn_uniforms:
    """Inside the block, np.random.rand(*shape) returns values that turn into the case's keep
    mask under the learner's own test: `rand > ratio` (the books) or `rand < p` (CS231n's keep
    probability). The case hands every witness the same mask; the learner draws its own with
    np.random.rand, so the adapter supplies the draw:
        kept -> 1.0, dropped -> 0.0  for `rand > ratio` (0 <= ratio < 1)
        kept -> 0.0, dropped -> 1.0  for `rand < p`     (0 < p <= 1)
    """

    def __init__(self, keep, kept_high):
        self.keep, self.kept_high = np.asarray(keep, dtype=bool), kept_high

    def __enter__(self):
        self.saved = np.random.rand
        keep, high = self.keep, self.kept_high

        def rand(*shape):
            if tuple(shape) != keep.shape:
                raise ValueError(f"the adapter supplies the dropout draw of shape {keep.shape}; "
                                 f"np.random.rand was asked for {shape}")
            return np.where(keep, 1.0, 0.0) if high else np.where(keep, 0.0, 1.0)
        np.random.rand = rand
        return self

    def __exit__(self, *exc):
        np.random.rand = self.saved
        return False


def single(value, name, style, what):
    """A scalar hyperparameter given as an int or an equal pair (stride (2, 2) -> 2)."""
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise NotImplementedError(f"the {style} style's {what} takes one {name} for both "
                                      f"axes, not {tuple(value)}")
        value = value[0]
    return value


def require_eps(eps, fixed, style, what):
    """The learner's eps is hard-coded: only a case with that eps has a counterpart."""
    if not np.isclose(eps, fixed, rtol=1e-12, atol=0):
        raise NotImplementedError(f"the {style} style's {what} hard-codes eps = {fixed:g}; "
                                  f"this case uses eps = {eps:g}")
