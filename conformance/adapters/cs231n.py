"""The CS231n style: pairs of functions of the assignments' layers.py, rnn_layers.py, optim.py.

    affine_forward(x, w, b) -> (out, cache)      w (D, M); x (N, d_1, ..., d_k)
    affine_backward(dout, cache) -> (dx, dw, db)
    relu_forward(x) -> (out, cache);  relu_backward(dout, cache) -> dx
    sigmoid_forward / sigmoid_backward, tanh_forward / tanh_backward: the same pattern
    softmax_loss(x, y) -> (loss, dx)             y class labels; the batch mean
    svm_loss(x, y) -> (loss, dx)                 MulticlassHinge: margin 1, the batch mean, no 1/C
    batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)   x (N, D); bn_param: mode
        'train' / 'test', eps, momentum (weighting the OLD running value: 0.9 = 1 - the
        answer key's 0.1), running_mean, running_var (the BIASED variance is averaged in)
    batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)
        batchnorm_backward_alt, the simplified form, is graded on the 2-D cases whose eps is
        not 1e-5 (batch_norm book_eps), batchnorm_backward on the others (and _alt on all of
        them when batchnorm_backward is absent)
    spatial_batchnorm_forward / _backward          x (N, C, H, W), gamma (C,)
    layernorm_forward(x, gamma, beta, ln_param) / layernorm_backward   x (N, D)
    spatial_groupnorm_forward(x, gamma, beta, G, gn_param) / _backward  gamma (1, C, 1, 1)
    dropout_forward(x, dropout_param) -> (out, cache)   dropout_param p = KEEP probability
        (1 - the answer key's p), inverted (mask / p); the case's mask is supplied as the
        np.random.rand draw
    conv_forward_naive(x, w, b, conv_param) / conv_backward_naive   conv_param stride, pad
    max_pool_forward_naive(x, pool_param) / max_pool_backward_naive  pool_height, pool_width, stride
    word_embedding_forward(x, W) -> (out, cache); word_embedding_backward(dout, cache) -> dW
    temporal_affine_forward(x, w, b) / temporal_affine_backward   x (N, T, D)
    temporal_softmax_loss(x, y, mask) -> (loss, dx)   the masked sum divided by N (not by
        the counted positions): 'mean' is N / K times it, 'sum' N times it
    rnn_step_forward(x, prev_h, Wx, Wh, b) / rnn_step_backward; rnn_forward(x, h0, Wx, Wh, b)
        / rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)        tanh; Wx (D, H)
    lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) / lstm_step_backward   gates i, f, o, g
    lstm_forward(x, h0, Wx, Wh, b) / lstm_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)
        c0 = 0: graded on the cases holding c0 = 0 constant (no d c0; c_n unchecked: lstm_forward
        returns no c_T); cases with c0 as an input (d c0 checked) have no counterpart
    sgd, sgd_momentum, rmsprop, adam (w, dw, config) -> (next_w, config)   config keys
        learning_rate, momentum / velocity, decay_rate / epsilon / cache, beta1 / beta2 /
        epsilon / m / v / t; a config per parameter
"""
import numpy as np

from . import _recurrent
from ._common import (batched_images, StackedGateCell, TanhRNNCell, class_labels, copied, drawn_uniforms,
                      flatten_batch, logit_rows, plain_cross_entropy_only, reduction_scale, refuse_ignored,
                      require_tanh, single, unmappable)

STYLE = "cs231n"


def _pair(module, prefix, backward_names=("backward",)):
    forward = getattr(module, f"{prefix}_forward", None)
    for name in backward_names:
        backward = getattr(module, f"{prefix}_{name}", None)
        if forward is not None and backward is not None:
            return forward, backward
    return None


def _naive_pair(module, prefix):
    f, b = (getattr(module, f"{prefix}_{n}_naive", None) for n in ("forward", "backward"))
    return None if f is None or b is None else (f, b)


# ---- feed-forward layers ----------------------------------------------------------------

def affine(module):
    pair = _pair(module, "affine")
    if pair is None:
        return None
    forward, backward = pair

    class Affine:
        """affine_forward / affine_backward, any leading batch shape flattened into one axis."""

        def __init__(self, W, b):
            self.params, self.grads = {"W": W, "b": b}, {}

        def forward(self, x):
            self.x_shape = x.shape
            out, self.cache = forward(flatten_batch(copied(x)), *copied(self.params["W"], self.params["b"]))
            return out.reshape(x.shape[:-1] + (out.shape[-1],))

        def backward(self, dout):
            dx, dw, db = backward(flatten_batch(copied(dout)), self.cache)
            self.grads = {"W": dw, "b": db}
            return np.reshape(dx, self.x_shape)
    return Affine


def elementwise(name, prefix):
    def make(module):
        pair = _pair(module, prefix)
        if pair is None:
            return None
        forward, backward = pair

        class Elementwise:
            def __init__(self):
                self.params, self.grads = {}, {}

            def forward(self, x):
                out, self.cache = forward(copied(x))
                return out

            def backward(self, dout):
                return backward(copied(dout), self.cache)
        Elementwise.__name__ = Elementwise.__qualname__ = name
        return Elementwise
    return make


def _loss_pair(name, function, options):
    """A (loss, dx) function of scores and labels as a loss layer: the batch mean; 'sum' is N times it."""
    def make(module):
        loss_and_grad = getattr(module, function, None)
        if loss_and_grad is None:
            return None

        class Loss:
            def __init__(self, reduction="mean", **kw):
                self.reduction = reduction
                self.ignore_index = options(kw)
                self.params, self.grads = {}, {}

            def forward(self, x, target):
                self.scale = reduction_scale(self.reduction, len(logit_rows(x, STYLE)), STYLE)
                labels = class_labels(target, STYLE)
                refuse_ignored(labels, self.ignore_index, STYLE)
                loss, self.dx = loss_and_grad(copied(x), labels)
                return loss * self.scale

            def backward(self, dout=1.0):
                return self.dx * (np.asarray(dout) * self.scale)
        Loss.__name__ = Loss.__qualname__ = name
        return Loss
    return make


def _cross_entropy_options(kw):
    return plain_cross_entropy_only(STYLE, **kw)


def _hinge_options(kw):
    if kw.pop("margin", 1.0) != 1.0:
        raise NotImplementedError(f"the {STYLE} style's svm_loss has margin 1")
    if kw:
        raise NotImplementedError(f"the {STYLE} style's svm_loss has no {', '.join(sorted(kw))}")
    return -100


def dropout(module):
    pair = _pair(module, "dropout")
    if pair is None:
        return None
    forward, backward = pair

    class Dropout:
        """dropout_forward with dropout_param p = the KEEP probability (1 - the answer key's p)."""

        def __init__(self, p=0.5, training=True, inverted=True, rng=None):
            if not inverted:
                raise NotImplementedError(f"the {STYLE} style's dropout is inverted (mask / p)")
            self.keep, self.training = 1.0 - p, training
            self.params, self.grads = {}, {}

        def forward(self, x, mask=None):
            param = {"p": self.keep, "mode": "train" if self.training else "test"}
            if mask is None:
                mask = np.random.default_rng().random(x.shape) < self.keep
            with drawn_uniforms(mask, kept_high=False):
                out, self.cache = forward(copied(x), param)
            return out

        def backward(self, dout):
            return backward(copied(dout), self.cache)
    return Dropout


def _bn_param(mode, eps, momentum, running_mean, running_var):
    return {"mode": mode, "eps": eps, "momentum": 1.0 - momentum,
            "running_mean": np.array(running_mean, dtype=float),
            "running_var": np.array(running_var, dtype=float)}


def batchnorm(module):
    plain = _pair(module, "batchnorm", ("backward", "backward_alt"))
    alt = _pair(module, "batchnorm", ("backward_alt",))
    spatial = _pair(module, "spatial_batchnorm")
    if plain is None and spatial is None:
        return None

    class BatchNorm:
        """batchnorm_* for x (N, D), spatial_batchnorm_* for x (N, C, H, W); bn_param's
        momentum weights the OLD value, the running variance averages the biased variance."""

        def __init__(self, gamma, beta, eps=1e-5, momentum=0.1, running_mean=None,
                     running_var=None, training=True, unbiased_running_var=True,
                     per_activation=False, num_batches_tracked=0):
            if momentum is None:
                raise NotImplementedError(f"the {STYLE} style's batchnorm has no cumulative "
                                          f"average (momentum=None)")
            if training and unbiased_running_var:
                raise NotImplementedError(f"the {STYLE} style's batchnorm averages the biased "
                                          f"variance (np.var) into running_var")
            if per_activation:
                raise NotImplementedError(f"the {STYLE} style's spatial batchnorm is per channel")
            c = len(gamma)
            self.bn_param = _bn_param("train" if training else "test", eps, momentum,
                                      np.zeros(c) if running_mean is None else running_mean,
                                      np.ones(c) if running_var is None else running_var)
            self.training = training
            self.params, self.grads = {"gamma": gamma, "beta": beta}, {}

        def forward(self, x):
            pair = plain if x.ndim == 2 else spatial
            if x.ndim == 2 and alt is not None and self.bn_param["eps"] != 1e-5:
                pair = alt          # both backwards graded: the cases with another eps take _alt
            if pair is None or x.ndim not in (2, 4):
                raise NotImplementedError(f"the {STYLE} style has no batchnorm for {x.ndim}-D "
                                          f"input here (batchnorm_*: (N, D), spatial_batchnorm_*: "
                                          f"(N, C, H, W))")
            self.backward_function = pair[1]
            out, self.cache = pair[0](copied(x), *copied(self.params["gamma"], self.params["beta"]),
                                      self.bn_param)
            self.running_mean = self.bn_param["running_mean"]
            self.running_var = self.bn_param["running_var"]
            return out

        def backward(self, dout):
            if not self.training:
                raise NotImplementedError(f"the {STYLE} style's batchnorm_backward is the "
                                          f"training-mode derivative; test mode has no backward")
            dx, dgamma, dbeta = self.backward_function(copied(dout), self.cache)
            self.grads = {"gamma": dgamma, "beta": dbeta}
            return dx
    return BatchNorm


def layernorm(module):
    pair = _pair(module, "layernorm")
    if pair is None:
        return None

    class LayerNorm:
        """layernorm_forward normalizes the rows of x (N, D): leading axes flattened; gamma (D,)."""

        def __init__(self, gamma, beta, eps=1e-5):
            if np.ndim(gamma) != 1:
                raise NotImplementedError(f"the {STYLE} style's layernorm normalizes one axis, "
                                          f"not {np.ndim(gamma)}")
            self.eps = eps
            self.params, self.grads = {"gamma": gamma, "beta": beta}, {}

        def forward(self, x):
            self.x_shape = x.shape
            out, self.cache = pair[0](flatten_batch(copied(x)),
                                      *copied(self.params["gamma"], self.params["beta"]), {"eps": self.eps})
            return np.reshape(out, x.shape)

        def backward(self, dout):
            dx, dgamma, dbeta = pair[1](flatten_batch(copied(dout)), self.cache)
            self.grads = {"gamma": dgamma, "beta": dbeta}
            return np.reshape(dx, self.x_shape)
    return LayerNorm


def groupnorm(module):
    pair = _pair(module, "spatial_groupnorm")
    if pair is None:
        return None

    class GroupNorm:
        """spatial_groupnorm_forward(x, gamma, beta, G, gn_param) with gamma, beta (1, C, 1, 1)
        and x (N, C, H, W)."""

        def __init__(self, gamma, beta, num_groups, eps=1e-5):
            self.G, self.eps = num_groups, eps
            self.params, self.grads = {"gamma": gamma, "beta": beta}, {}

        def forward(self, x):
            if x.ndim != 4:
                raise NotImplementedError(f"the {STYLE} style's spatial groupnorm takes x "
                                          f"(N, C, H, W), not {x.ndim}-D")
            shape = (1, -1, 1, 1)
            out, self.cache = pair[0](copied(x), self.params["gamma"].reshape(shape).copy(),
                                      self.params["beta"].reshape(shape).copy(), self.G,
                                      {"eps": self.eps})
            return out

        def backward(self, dout):
            dx, dgamma, dbeta = pair[1](copied(dout), self.cache)
            self.grads = {"gamma": np.reshape(dgamma, -1), "beta": np.reshape(dbeta, -1)}
            return dx
    return GroupNorm


def conv(module):
    pair = _naive_pair(module, "conv")
    if pair is None:
        return None

    class Conv2d:
        def __init__(self, W, b, stride=1, padding=0, dilation=1, groups=1):
            if single(dilation, "dilation", STYLE, "conv_forward_naive") != 1 or groups != 1:
                raise NotImplementedError(f"the {STYLE} style's conv_forward_naive has no "
                                          f"dilation or groups")
            self.conv_param = {"stride": single(stride, "stride", STYLE, "conv_forward_naive"),
                               "pad": single(padding, "padding", STYLE, "conv_forward_naive")}
            self.params, self.grads = {"W": W, "b": b}, {}

        def forward(self, x):
            out, self.cache = pair[0](copied(batched_images(x, STYLE, "conv_forward_naive")),
                                      *copied(self.params["W"], self.params["b"]),
                                      dict(self.conv_param))
            return out

        def backward(self, dout):
            dx, dw, db = pair[1](copied(dout), self.cache)
            self.grads = {"W": dw, "b": db}
            return dx
    return Conv2d


def max_pool(module):
    pair = _naive_pair(module, "max_pool")
    if pair is None:
        return None

    class MaxPool2d:
        def __init__(self, kernel_size, stride=None, padding=0):
            kh, kw = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
            if single(padding, "padding", STYLE, "max_pool_forward_naive") != 0:
                raise NotImplementedError(f"the {STYLE} style's max_pool_forward_naive has no padding")
            stride = (kh, kw) if stride is None else stride
            self.pool_param = {"pool_height": kh, "pool_width": kw,
                               "stride": single(stride, "stride", STYLE, "max_pool_forward_naive")}
            self.params, self.grads = {}, {}

        def forward(self, x):
            out, self.cache = pair[0](copied(batched_images(x, STYLE, "max_pool_forward_naive")),
                                      dict(self.pool_param))
            return out

        def backward(self, dout):
            return pair[1](copied(dout), self.cache)
    return MaxPool2d


def word_embedding(name):
    def make(module):
        pair = _pair(module, "word_embedding")
        if pair is None:
            return None

        class Embedding:
            def __init__(self, W):
                self.params, self.grads = {"W": W}, {}

            def forward(self, idx):
                out, self.cache = pair[0](copied(idx), copied(self.params["W"]))
                return out

            def backward(self, dout):
                self.grads = {"W": pair[1](copied(dout), self.cache)}
                return None
        Embedding.__name__ = Embedding.__qualname__ = name
        return Embedding
    return make


def temporal_affine(module):
    pair = _pair(module, "temporal_affine")
    if pair is None:
        return None

    class TimeAffine:
        def __init__(self, W, b):
            self.params, self.grads = {"W": W, "b": b}, {}

        def forward(self, x):
            out, self.cache = pair[0](copied(x), *copied(self.params["W"], self.params["b"]))
            return out

        def backward(self, dout):
            dx, dw, db = pair[1](copied(dout), self.cache)
            self.grads = {"W": dw, "b": db}
            return dx
    return TimeAffine


def temporal_softmax(module):
    loss_and_grad = getattr(module, "temporal_softmax_loss", None)
    if loss_and_grad is None:
        return None

    class TimeSoftmaxCrossEntropy:
        """temporal_softmax_loss(x, y, mask): sum over the unmasked positions divided by N.
        mask = (t != ignore_index); the ignored labels are replaced by 0 (masked out anyway,
        and an index the function can use). 'mean' divides by K, the counted positions:
        N / K times the function's value; 'sum' is N times it."""

        def __init__(self, ignore_index=-1, reduction="mean"):
            self.ignore_index, self.reduction = ignore_index, reduction
            self.params, self.grads = {}, {}

        def forward(self, x, t):
            t = np.asarray(t)
            mask = t != self.ignore_index
            n, k = x.shape[0], max(int(mask.sum()), 1)
            self.scale = n / k if self.reduction == "mean" else float(n)
            loss, self.dx = loss_and_grad(copied(x), np.where(mask, t, 0), mask)
            return loss * self.scale

        def backward(self, dout=1.0):
            return self.dx * (np.asarray(dout) * self.scale)
    return TimeSoftmaxCrossEntropy


# ---- recurrent layers -------------------------------------------------------------------

def lstm_cell(module):
    pair = _pair(module, "lstm_step")
    if pair is None:
        return None
    forward, backward = pair

    class LSTMCell(StackedGateCell):
        """lstm_step_forward/backward behind torch's LSTMCell API (weight_ih (4H, D), gates i, f, g, o)."""
        gate_order = "ifog"

        def make(self, Wx, Wh, b):
            self.weights = (Wx, Wh, b)

        def step_forward(self, x, h, c):
            h_next, c_next, self.cache = forward(*copied(x, h, c), *copied(*self.weights))
            return h_next, c_next

        def step_backward(self, dh_next, dc_next):
            return backward(*copied(dh_next, dc_next), self.cache)
    return LSTMCell


def rnn_cell(module):
    pair = _pair(module, "rnn_step")
    if pair is None:
        return None

    class RNNCell(TanhRNNCell):
        style = STYLE

        def make(self, Wx, Wh, b):
            self.weights = (Wx, Wh, b)

        def step_forward(self, x, h):
            h_next, self.cache = pair[0](*copied(x, h), *copied(*self.weights))
            return h_next

        def step_backward(self, dh_next):
            return pair[1](copied(dh_next), self.cache)
    return RNNCell


def _stacked(params, order):
    from ._common import learner_weights
    return learner_weights(params, order if order == "h" else "ifgo", order)


def _named(dWx, dWh, db, order):
    from ._common import torch_grads
    return torch_grads(dWx, dWh, db, order if order == "h" else "ifgo", order)


class _SequenceRunner:
    """rnn_forward / lstm_forward over one direction: (x, h0, weights) -> (hs, cache)."""

    def __init__(self, pair, params, order, has_cell):
        self.pair, self.order, self.has_cell = pair, order, has_cell
        self.weights = _stacked(params, order)

    def run(self, x, h0, c0):
        if self.has_cell and np.any(c0 != 0):
            raise NotImplementedError(f"the {STYLE} style's lstm_forward starts from c0 = 0; "
                                      f"this case gives another c0")
        hs, self.cache = self.pair[0](*copied(x, h0), *copied(*self.weights))
        hs = np.asarray(hs)
        # lstm_forward returns no c_T: None, so that c_n is absent (not graded), never made up
        return hs, hs[:, -1], None

    def back(self, dhs):
        dx, dh0, dWx, dWh, db = self.pair[1](copied(dhs), self.cache)
        return dx, dh0, None, _named(dWx, dWh, db, self.order)   # lstm_backward: no d c0


def rnn(module):
    pair = _pair(module, "rnn")
    if pair is None:
        return None

    class RNN(_recurrent.Stacked):
        style = STYLE

        def __init__(self, nonlinearity="tanh", **kw):
            require_tanh(nonlinearity, STYLE)
            super().__init__(**kw)

        def direction(self, params):
            return _SequenceRunner(pair, params, "h", has_cell=False)
    return RNN


def lstm(module):
    pair = _pair(module, "lstm")
    if pair is None:
        return None

    class LSTM(_recurrent.Stacked):
        """lstm_forward / lstm_backward start from c0 = 0 and return neither the final c nor
        the gradient of c0: graded on the cases that hold c0 = 0 constant (Case.constants:
        forward gets it by keyword) and check c_n only where the layer keeps it; a case
        whose c0 is a differentiable input (d c0 checked) has no counterpart."""
        style, has_cell = STYLE, True

        def forward(self, x, h0, *rest, c0=None):
            if rest:      # c0 positional: a differentiable input, whose gradient is checked
                raise NotImplementedError(f"the {STYLE} style's lstm_backward returns no d c0, "
                                          f"which this case checks (c0 is an input here; the "
                                          f"cases holding c0 = 0 constant are graded)")
            if c0 is None:
                raise NotImplementedError(f"the {STYLE} style's lstm_forward needs c0 = 0")
            return super().forward(x, h0, c0)

        def direction(self, params):
            return _SequenceRunner(pair, params, "ifog", has_cell=True)
    return LSTM


# ---- optimizers -------------------------------------------------------------------------

def _rule(name, function, keys, state):
    """A CS231n update rule (w, dw, config) -> (next_w, config), one config per parameter,
    behind the answer key's update(params, grads); `keys` maps the answer key's
    hyperparameters to config keys, `state` its state names to config keys."""
    def make(module):
        rule = getattr(module, function, None)
        if rule is None:
            return None

        class Optimizer:
            def __init__(self, **hp):
                if hp.pop("weight_decay", 0.0):
                    raise NotImplementedError(f"the {STYLE} style's {function} has no weight decay")
                if hp.pop("eps_in_sqrt", False):
                    raise NotImplementedError(f"the {STYLE} style's {function} adds eps outside "
                                              f"the root")
                if hp.pop("correction_in_lr", False):
                    raise NotImplementedError(f"the {STYLE} style's {function} corrects the "
                                              f"moments, not the step size")
                extra = set(hp) - set(keys)
                if extra:
                    raise NotImplementedError(f"the {STYLE} style's {function} has no "
                                              f"{', '.join(sorted(extra))}")
                self.base = {keys[k]: v for k, v in hp.items()}
                if function == "adam":     # the answer key's eps default; CS231n's is also 1e-8
                    self.base.setdefault("epsilon", 1e-8)
                self.configs = {}

            def update(self, params, grads):
                for key in params:
                    config = self.configs.setdefault(key, dict(self.base))
                    next_w, config = rule(params[key].copy(), grads[key].copy(), config)
                    self.configs[key] = config
                    params[key][...] = next_w

            def __getattr__(self, attr):
                if attr not in state:
                    raise AttributeError(attr)
                return {k: c[state[attr]] for k, c in self.__dict__["configs"].items()}
        Optimizer.__name__ = Optimizer.__qualname__ = name
        return Optimizer
    return make


OPTIMIZERS = {
    "SGD": _rule("SGD", "sgd", {"lr": "learning_rate"}, {}),
    "Momentum": _rule("Momentum", "sgd_momentum", {"lr": "learning_rate", "momentum": "momentum"},
                      {"v": "velocity"}),
    "RMSprop": _rule("RMSprop", "rmsprop", {"lr": "learning_rate", "decay_rate": "decay_rate",
                                            "eps": "epsilon"}, {"h": "cache"}),
    "Adam": _rule("Adam", "adam", {"lr": "learning_rate", "beta1": "beta1", "beta2": "beta2",
                                   "eps": "epsilon"}, {"m": "m", "v": "v"}),
}


CLASSES = {
    "Affine": affine,
    "Relu": elementwise("Relu", "relu"),
    "Sigmoid": elementwise("Sigmoid", "sigmoid"),
    "Tanh": elementwise("Tanh", "tanh"),
    "SoftmaxCrossEntropy": _loss_pair("SoftmaxCrossEntropy", "softmax_loss", _cross_entropy_options),
    "MulticlassHinge": _loss_pair("MulticlassHinge", "svm_loss", _hinge_options),
    "BatchNorm": batchnorm,
    "LayerNorm": layernorm,
    "GroupNorm": groupnorm,
    "Dropout": dropout,
    "Conv2d": conv,
    "MaxPool2d": max_pool,
    "Embedding": word_embedding("Embedding"),
    "TimeEmbedding": word_embedding("TimeEmbedding"),
    "TimeAffine": temporal_affine,
    "TimeSoftmaxCrossEntropy": temporal_softmax,
    "RNNCell": rnn_cell,
    "RNN": rnn,
    "LSTMCell": lstm_cell,
    "LSTM": lstm,
    **OPTIMIZERS,
}


def _both(prefix, suffix=""):
    return (f"{prefix}_forward{suffix}", f"{prefix}_backward{suffix}")


LEARNER_NAMES = {
    "Affine": _both("affine"), "Relu": _both("relu"), "Sigmoid": _both("sigmoid"),
    "Tanh": _both("tanh"), "SoftmaxCrossEntropy": ("softmax_loss",),
    "MulticlassHinge": ("svm_loss",),
    "BatchNorm": _both("batchnorm") + ("batchnorm_backward_alt",) + _both("spatial_batchnorm"),
    "LayerNorm": _both("layernorm"), "GroupNorm": _both("spatial_groupnorm"),
    "Dropout": _both("dropout"), "Conv2d": _both("conv", "_naive"),
    "MaxPool2d": _both("max_pool", "_naive"), "Embedding": _both("word_embedding"),
    "TimeEmbedding": _both("word_embedding"), "TimeAffine": _both("temporal_affine"),
    "TimeSoftmaxCrossEntropy": ("temporal_softmax_loss",), "RNNCell": _both("rnn_step"),
    "RNN": _both("rnn"), "LSTMCell": _both("lstm_step"), "LSTM": _both("lstm"),
    "SGD": ("sgd",), "Momentum": ("sgd_momentum",), "RMSprop": ("rmsprop",), "Adam": ("adam",),
}
NEEDS_ALL = set(LEARNER_NAMES) - {"SoftmaxCrossEntropy", "MulticlassHinge",
                                  "TimeSoftmaxCrossEntropy", "SGD", "Momentum", "RMSprop", "Adam"}
# helpers the assignments define that have no op of their own
HELPERS = ("sigmoid", "affine_relu_forward", "affine_relu_backward", "conv_relu_forward",
           "conv_relu_backward", "conv_relu_pool_forward", "conv_relu_pool_backward",
           "affine_bn_relu_forward", "affine_bn_relu_backward")
