"""Losses: forward(prediction, target) returns the loss; backward(dout=1.0)
returns the gradient of the prediction (the target is data, not a parameter).
"""
import numpy as np

from ._checks import (float_array, int_array, same_shape, dim_equals, require_forward,
                      ShapeError)
from .base import Layer

__all__ = ['SoftmaxCrossEntropy', 'MSE', 'L1', 'SmoothL1', 'Huber', 'BCE', 'BCEWithLogits', 'NLL',
           'KLDiv', 'MulticlassHinge', 'CosineEmbedding', 'CTC']

REDUCTIONS = ("mean", "sum", "none")


def _reduction(layer, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{type(layer).__name__}: reduction must be one of {allowed}, "
                         f"got {reduction!r}")
    return reduction


def _upstream_for(layer, dout, reduction, unreduced_shape):
    """The upstream gradient is a scalar for mean/sum and one value per item for 'none'."""
    dout = np.asarray(dout, dtype=float) if np.isscalar(dout) else float_array(layer, "dout", dout)
    expected = unreduced_shape if reduction == "none" else ()
    if dout.shape != expected:
        raise ShapeError(f"{type(layer).__name__}: argument 'dout' must have shape {expected} "
                         f"for reduction={reduction!r}, got {dout.shape}")
    return dout


def log_softmax(x):
    """log p_c = x_c - logsumexp(x), stable for logits of any magnitude."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _class_labels(layer, target, n, classes, ignore_index=None):
    """Class indices (n,) in [0, classes), or equal to ignore_index; a clear error otherwise."""
    labels = int_array(layer, "target", target, ndim=1, low=-np.inf)  # ranges checked below
    if labels.shape[0] != n:
        raise ShapeError(f"{type(layer).__name__}: argument 'target' must have shape ({n},) "
                         f"(one class index per row of the input), got {labels.shape}")
    bad = (labels < 0) | (labels >= classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if bad.any():
        allowed = f"[0, {classes})" + ("" if ignore_index is None else f" or {ignore_index}")
        raise ValueError(f"{type(layer).__name__}: argument 'target' must hold class indices in "
                         f"{allowed}, got {labels[bad][0]} at position {np.flatnonzero(bad)[0]}")
    return labels


def _class_weights(layer, weight, classes, dtype):
    """One weight per class (all ones when none is given)."""
    if weight is None:
        return np.ones(classes, dtype=dtype)
    weight = float_array(layer, "weight", np.asarray(weight, dtype=dtype), ndim=1)
    return same_shape(layer, "weight", weight, (classes,), "one weight per class")


def _weighted_mean(total, denominator):
    """PyTorch's 'mean' with class weights: total / (summed weights of the counted targets).

    No counted target (every label is ignore_index) gives NaN, as in PyTorch: the
    mean of nothing is undefined. Its gradient is 0 (no target contributes)."""
    return total / denominator if denominator > 0 else total.dtype.type(np.nan)


class SoftmaxCrossEntropy(Layer):
    """Softmax followed by cross-entropy, as one layer (the book's SoftmaxWithLoss).

    logits x (N, C); target either class indices t (N,) or a distribution T (N, C)
    (one-hot labels or probabilities). Options as PyTorch's cross_entropy:
    class weights w (C,), ignore_index (rows whose label is it count for nothing),
    label_smoothing eps (the target becomes (1 - eps) T + eps / C).
        q_nc = w_c T_nc     (the weighted, smoothed target; 0 for an ignored row)
        L_n  = -sum_c q_nc log softmax(x_n)_c
        sum: L = sum_n L_n;  none: (L_1 .. L_N)
        mean with class indices: L = sum_n L_n / sum_{n counted} w_{t_n}
        mean with distributions: L = sum_n L_n / N
    An all-ignored batch: 'mean' is NaN (0/0, as PyTorch) and its gradient is 0.
    Backward: dx_n = (softmax(x_n) sum_c q_nc - q_n) * dout / denominator.
    """

    def __init__(self, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
        super().__init__()
        self.reduction = _reduction(self, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"SoftmaxCrossEntropy: label_smoothing must be in [0, 1], "
                             f"got {label_smoothing}")
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, x, target):
        x = float_array(self, "x", x, ndim=2)
        n, c = x.shape
        w = _class_weights(self, self.weight, c, x.dtype)
        self.q, self.denominator = self._weighted_target(x, np.asarray(target), w)
        logp = log_softmax(x)
        self.prob = np.exp(logp)
        losses = -(self.q * logp).sum(axis=1)
        if self.reduction == "none":
            return losses
        return _weighted_mean(losses.sum(), self.denominator) if self.reduction == "mean" \
            else losses.sum()

    def _weighted_target(self, x, target, w):
        """q_nc = w_c T_nc with T smoothed, and the denominator of 'mean'."""
        n, c = x.shape
        eps = self.label_smoothing
        if np.issubdtype(target.dtype, np.integer):
            labels = _class_labels(self, target, n, c, self.ignore_index)
            counted = labels != self.ignore_index
            t = np.where(counted, labels, 0)
            onehot = np.zeros_like(x)
            onehot[np.arange(n), t] = 1.0
            q = ((1 - eps) * onehot + eps / c) * w * counted[:, None]
            return q, (w[t] * counted).sum()
        target = float_array(self, "target", target, ndim=2)
        target = same_shape(self, "target", target, x.shape, "one distribution per row of x")
        return ((1 - eps) * target + eps / c) * w, x.dtype.type(n)

    def backward(self, dout=1.0):
        require_forward(self, "prob")
        n = self.prob.shape[0]
        dout = _upstream_for(self, dout, self.reduction, (n,))
        # dL_n/dx_nc = softmax(x_n)_c sum_k q_nk - q_nc  (= y - t for one-hot, unweighted)
        dx = self.prob * self.q.sum(axis=1, keepdims=True) - self.q
        if self.reduction == "none":
            return dx * dout[:, None]
        if self.reduction == "mean":
            return dx * (dout / self.denominator if self.denominator > 0 else 0.0)
        return dx * dout


class MSE(Layer):
    """Squared error between prediction y and target t of the same shape.

        mean:     L = (1/K) sum (y - t)^2        (PyTorch's mse_loss; K = number of elements)
        sum:      L = sum (y - t)^2
        half_sum: E = 1/2 sum (y - t)^2          (the lecture notes' E; dE/dy = y - t)
        none:     (y - t)^2 element-wise
    """

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(self, reduction, REDUCTIONS + ("half_sum",))

    def forward(self, y, t):
        y = float_array(self, "y", y)
        t = same_shape(self, "t", float_array(self, "t", t), y.shape, "the shape of y")
        self.diff = y - t
        squared = self.diff ** 2
        if self.reduction == "none":
            return squared
        scale = {"mean": 1.0 / max(squared.size, 1), "sum": 1.0, "half_sum": 0.5}[self.reduction]
        return squared.sum() * scale

    def backward(self, dout=1.0):
        require_forward(self, "diff")
        dout = _upstream_for(self, dout, "none" if self.reduction == "none" else "sum",
                             self.diff.shape)
        # d/dy (y - t)^2 = 2 (y - t); the 1/2 of half_sum cancels the 2.
        scale = {"mean": 2.0 / max(self.diff.size, 1), "sum": 2.0,
                 "half_sum": 1.0, "none": 2.0}[self.reduction]
        return scale * self.diff * dout


# ---------------------------------------------------------------------------
# Element-wise and per-sample losses. Each forward keeps what backward needs;
# backward multiplies the local derivative by the upstream gradient of each
# unreduced loss (dout itself for 'none', dout / count for 'mean', dout for 'sum').

def _reduce(reduction, losses, count=None):
    """none: the losses; sum: their sum; mean: their sum / count (default: how many)."""
    if reduction == "none":
        return losses
    total = losses.sum()
    return total / (losses.size if count is None else count) if reduction == "mean" else total


def _per_item_upstream(layer, dout, shape, count=None):
    """dL/dloss_i for every unreduced loss, broadcastable to `shape`."""
    dout = _upstream_for(layer, dout, layer.reduction, shape)
    if layer.reduction == "mean":
        return dout / (int(np.prod(shape)) if count is None else count)
    return dout


def _prediction_and_target(layer, y, t, y_name="y", t_name="t"):
    y = float_array(layer, y_name, y)
    t = float_array(layer, t_name, t)
    return y, same_shape(layer, t_name, t, y.shape, f"the shape of {y_name}")


class L1(Layer):
    """Absolute error |y - t| element-wise (PyTorch's l1_loss; 'mean' over all elements).

    Backward: dL/dy = sign(y - t), 0 where y = t (PyTorch's and JAX's choice at the kink).
    """

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(self, reduction)

    def forward(self, y, t):
        y, t = _prediction_and_target(self, y, t)
        self.diff = y - t
        return _reduce(self.reduction, np.abs(self.diff))

    def backward(self, dout=1.0):
        require_forward(self, "diff")
        return np.sign(self.diff) * _per_item_upstream(self, dout, self.diff.shape)


class SmoothL1(Layer):
    """PyTorch's smooth_l1_loss with threshold beta, d = y - t element-wise:
        l = d^2 / (2 beta)   if |d| < beta
        l = |d| - beta / 2   otherwise
    Backward: dl/dd = d / beta inside, sign(d) outside (continuous at |d| = beta).
    """

    def __init__(self, beta=1.0, reduction="mean"):
        super().__init__()
        if beta <= 0:
            raise ValueError(f"SmoothL1: beta must be positive (beta = 0 is L1), got {beta}")
        self.beta, self.reduction = beta, _reduction(self, reduction)

    def forward(self, y, t):
        y, t = _prediction_and_target(self, y, t)
        self.diff = y - t
        d, b = self.diff, self.beta
        return _reduce(self.reduction, np.where(np.abs(d) < b, 0.5 * d ** 2 / b, np.abs(d) - 0.5 * b))

    def backward(self, dout=1.0):
        require_forward(self, "diff")
        d, b = self.diff, self.beta
        local = np.where(np.abs(d) < b, d / b, np.sign(d))
        return local * _per_item_upstream(self, dout, d.shape)


class Huber(Layer):
    """Huber loss with threshold delta, d = y - t element-wise (PyTorch's huber_loss):
        l = d^2 / 2                  if |d| < delta
        l = delta (|d| - delta / 2)  otherwise
    It equals delta * SmoothL1(beta=delta). Backward: d inside, delta sign(d) outside.
    """

    def __init__(self, delta=1.0, reduction="mean"):
        super().__init__()
        if delta <= 0:
            raise ValueError(f"Huber: delta must be positive, got {delta}")
        self.delta, self.reduction = delta, _reduction(self, reduction)

    def forward(self, y, t):
        y, t = _prediction_and_target(self, y, t)
        self.diff = y - t
        d, k = self.diff, self.delta
        return _reduce(self.reduction, np.where(np.abs(d) < k, 0.5 * d ** 2, k * (np.abs(d) - 0.5 * k)))

    def backward(self, dout=1.0):
        require_forward(self, "diff")
        d, k = self.diff, self.delta
        local = np.where(np.abs(d) < k, d, k * np.sign(d))
        return local * _per_item_upstream(self, dout, d.shape)


LOG_CLAMP = -100.0     # PyTorch clamps log(p) and log(1 - p) at -100 in binary_cross_entropy
BCE_GRAD_EPS = 1e-12   # ... and divides its gradient by max(p (1 - p), 1e-12)


class BCE(Layer):
    """Binary cross-entropy on probabilities p in [0, 1] (PyTorch's binary_cross_entropy):
        l = -(t max(log p, -100) + (1 - t) max(log(1 - p), -100))
    The clamp keeps p = 0 or 1 finite (at most 100). Backward, as PyTorch:
        dl/dp = (p - t) / max(p (1 - p), 1e-12)
    which is the exact derivative inside (0, 1) and +-1e12 (or 0 when p = t) at p = 0 or 1.
    """

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(self, reduction)

    def forward(self, p, t):
        p, t = _prediction_and_target(self, p, t, "p", "t")
        outside = ~((p >= 0) & (p <= 1))          # NaN too, as PyTorch refuses it
        if outside.any():
            raise ValueError(f"BCE: argument 'p' must hold probabilities in [0, 1], got "
                             f"{p[outside].flat[0]} at index {np.argwhere(outside)[0].tolist()} "
                             f"(use BCEWithLogits for logits)")
        self.p, self.t = p, t
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), LOG_CLAMP)
            log_q = np.maximum(np.log1p(-p), LOG_CLAMP)
        return _reduce(self.reduction, -(t * log_p + (1 - t) * log_q))

    def backward(self, dout=1.0):
        require_forward(self, "p")
        p, t = self.p, self.t
        local = (p - t) / np.maximum(p * (1 - p), BCE_GRAD_EPS)
        return local * _per_item_upstream(self, dout, p.shape)


def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), stable for any |x|."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    """1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) otherwise: no overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class BCEWithLogits(Layer):
    """Sigmoid then binary cross-entropy, on logits x (PyTorch's binary_cross_entropy_with_logits).
    With -log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x):
        l = w t softplus(-x) + (1 - t) softplus(x)      (stable for any |x|)
    where w = pos_weight (one weight per class, the last axis; 1 when not given) weighs
    the positive term. Backward: dl/dx = sigmoid(x) (w t + 1 - t) - w t, which is
    sigmoid(x) - t for w = 1.
    """

    def __init__(self, reduction="mean", pos_weight=None):
        super().__init__()
        self.reduction = _reduction(self, reduction)
        self.pos_weight = pos_weight

    def forward(self, x, t):
        x, t = _prediction_and_target(self, x, t, "x", "t")
        w = 1.0
        if self.pos_weight is not None:
            w = float_array(self, "pos_weight", np.asarray(self.pos_weight, dtype=x.dtype), ndim=1)
            same_shape(self, "pos_weight", w, x.shape[-1:], "one weight per class (the last axis of x)")
        self.x, self.t, self.w = x, t, w
        return _reduce(self.reduction, w * t * _softplus(-x) + (1 - t) * _softplus(x))

    def backward(self, dout=1.0):
        require_forward(self, "x")
        wt = self.w * self.t
        local = _sigmoid(self.x) * (wt + 1 - self.t) - wt
        return local * _per_item_upstream(self, dout, self.x.shape)


class NLL(Layer):
    """Negative log-likelihood of log-probabilities logp (N, C) and class indices t (N,)
    (PyTorch's nll_loss): L_n = -w_{t_n} logp_{n, t_n}, 0 where t_n = ignore_index.
    'mean' divides by the summed weights of the counted targets (NaN when none is counted,
    as PyTorch; its gradient is then 0). Backward: dL_n/dlogp_{n,c} = -w_{t_n} [c = t_n].
    """

    def __init__(self, reduction="mean", weight=None, ignore_index=-100):
        super().__init__()
        self.reduction = _reduction(self, reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, logp, target):
        logp = float_array(self, "logp", logp, ndim=2)
        n, c = logp.shape
        w = _class_weights(self, self.weight, c, logp.dtype)
        labels = _class_labels(self, target, n, c, self.ignore_index)
        counted = labels != self.ignore_index
        t = np.where(counted, labels, 0)
        # q_nc = w_{t_n} [c = t_n] for counted rows: L_n = -sum_c q_nc logp_nc
        self.q = np.zeros_like(logp)
        self.q[np.arange(n), t] = w[t] * counted
        self.denominator = (w[t] * counted).sum()
        # read only each row's target entry (a NaN elsewhere in the row does not matter, as torch)
        losses = np.where(counted, -w[t] * logp[np.arange(n), t], 0.0).astype(logp.dtype)
        if self.reduction == "none":
            return losses
        return _weighted_mean(losses.sum(), self.denominator) if self.reduction == "mean" \
            else losses.sum()

    def backward(self, dout=1.0):
        require_forward(self, "q")
        n = self.q.shape[0]
        dout = _upstream_for(self, dout, self.reduction, (n,))
        if self.reduction == "none":
            return -self.q * dout[:, None]
        if self.reduction == "mean":
            return -self.q * (dout / self.denominator if self.denominator > 0 else 0.0)
        return -self.q * dout


class KLDiv(Layer):
    """Kullback-Leibler divergence as PyTorch's kl_div(logq, p): the input is log q, the
    target p (probabilities, or log p with log_target=True):
        l = p (log p - logq) element-wise, with 0 log 0 = 0
        mean: over all elements (PyTorch's default); batchmean: sum / N (the true KL per sample)
    Backward: dl/dlogq = -p.
    """

    def __init__(self, reduction="mean", log_target=False):
        super().__init__()
        self.reduction = _reduction(self, reduction, REDUCTIONS + ("batchmean",))
        self.log_target = log_target

    def forward(self, logq, target):
        logq, target = _prediction_and_target(self, logq, target, "logq", "target")
        if self.log_target:
            self.p = np.exp(target)
            losses = self.p * (target - logq)
        else:
            if target.size and target.min() < 0:
                raise ValueError(f"KLDiv: argument 'target' must hold probabilities (>= 0), "
                                 f"got min {target.min()} (use log_target=True for log p)")
            self.p = target
            with np.errstate(divide="ignore", invalid="ignore"):
                plogp = np.where(target > 0, target * np.log(np.where(target > 0, target, 1)), 0)
            losses = plogp - target * logq
        if self.reduction == "batchmean":
            return losses.sum() / len(logq)
        return _reduce(self.reduction, losses)

    def backward(self, dout=1.0):
        require_forward(self, "p")
        if self.reduction == "batchmean":
            upstream = _upstream_for(self, dout, "sum", ()) / len(self.p)
        else:
            upstream = _per_item_upstream(self, dout, self.p.shape)
        return -self.p * upstream


class MulticlassHinge(Layer):
    """The multi-class SVM loss of CS231n, scores x (N, C), class indices t (N,):
        L_n = sum_{c != t_n} max(0, x_nc - x_{n,t_n} + margin)
    (PyTorch's multi_margin_loss divides this by C; this layer does not.)
    Backward: dL_n/dx_nc = [margin term c is positive] for c != t_n,
              dL_n/dx_{n,t_n} = -(number of positive margin terms).
    """

    def __init__(self, margin=1.0, reduction="mean"):
        super().__init__()
        self.margin, self.reduction = margin, _reduction(self, reduction)

    def forward(self, x, target):
        x = float_array(self, "x", x, ndim=2)
        n, c = x.shape
        self.labels = _class_labels(self, target, n, c)
        correct = x[np.arange(n), self.labels][:, None]
        margins = np.maximum(0, x - correct + self.margin)
        margins[np.arange(n), self.labels] = 0     # the correct class is not a margin term
        self.active = (margins > 0).astype(x.dtype)
        return _reduce(self.reduction, margins.sum(axis=1))

    def backward(self, dout=1.0):
        require_forward(self, "active")
        n = self.active.shape[0]
        dx = self.active.copy()
        dx[np.arange(n), self.labels] = -self.active.sum(axis=1)
        upstream = _per_item_upstream(self, dout, (n,))
        return dx * (upstream[:, None] if np.ndim(upstream) else upstream)


COSINE_EPS = 1e-12     # PyTorch adds it to each squared norm


class CosineEmbedding(Layer):
    """PyTorch's cosine_embedding_loss for rows x1, x2 (N, D) and labels y in {1, -1} (N,):
        cos_n = <x1_n, x2_n> / sqrt((|x1_n|^2 + eps) (|x2_n|^2 + eps)),  eps = 1e-12
        L_n = 1 - cos_n              if y_n = 1
        L_n = max(0, cos_n - margin) if y_n = -1
    Backward: dcos/dx1 = x2 / sqrt(m1 m2) - cos x1 / m1 (m_i the squared norms + eps), and
    symmetrically for x2; dL/dcos = -1 (y = 1) or [cos > margin] (y = -1).
    """

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__()
        self.margin, self.reduction = margin, _reduction(self, reduction)

    def forward(self, x1, x2, y):
        x1 = float_array(self, "x1", x1, ndim=2)
        x2 = same_shape(self, "x2", float_array(self, "x2", x2, ndim=2), x1.shape, "the shape of x1")
        y = np.asarray(y)
        same_shape(self, "y", y, (len(x1),), "one label per row of x1")
        if not np.isin(y, (1, -1)).all():
            raise ValueError(f"CosineEmbedding: argument 'y' must hold 1 or -1, got {np.unique(y)}")
        self.x1, self.x2, self.y = x1, x2, y
        self.m1 = (x1 ** 2).sum(axis=1) + COSINE_EPS
        self.m2 = (x2 ** 2).sum(axis=1) + COSINE_EPS
        self.cos = (x1 * x2).sum(axis=1) / np.sqrt(self.m1 * self.m2)
        losses = np.where(y == 1, 1 - self.cos, np.maximum(0, self.cos - self.margin))
        return _reduce(self.reduction, losses)

    def backward(self, dout=1.0):
        require_forward(self, "cos")
        n = len(self.cos)
        dcos = np.where(self.y == 1, -1.0, (self.cos > self.margin).astype(float))
        dcos = (dcos * _per_item_upstream(self, dout, (n,)))[:, None]
        root = np.sqrt(self.m1 * self.m2)[:, None]
        cos = self.cos[:, None]
        dx1 = dcos * (self.x2 / root - cos * self.x1 / self.m1[:, None])
        dx2 = dcos * (self.x1 / root - cos * self.x2 / self.m2[:, None])
        return dx1.astype(self.x1.dtype), dx2.astype(self.x2.dtype)


def _log_add(*terms):
    """log(sum exp(terms)) element-wise, where -inf terms (impossible paths) add nothing."""
    with np.errstate(invalid="ignore", divide="ignore"):
        result = terms[0]
        for term in terms[1:]:
            result = np.logaddexp(result, term)
    return result


def _behind(a, k):
    """The value at state s - k, for every state s (-inf where there is no such state)."""
    return np.concatenate([np.full(k, -np.inf), a[:-k]])[:len(a)]


def _ahead(a, k):
    """The value at state s + k, for every state s (-inf where there is no such state)."""
    return np.concatenate([a[k:], np.full(k, -np.inf)])[:len(a)]


class CTC(Layer):
    """Connectionist temporal classification (Graves et al. 2006) on logits.

    logits (N, T, C), targets (N, S) padded label sequences, input_lengths (N,),
    target_lengths (N,). Each sequence l (length S_n) is extended with blanks,
    l' = (blank, l_1, blank, l_2, ..., l_S, blank), and with y = softmax(logits):
        alpha_0(0) = y_0(blank), alpha_0(1) = y_0(l'_1)
        alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) [+ alpha_{t-1}(s-2)]) y_t(l'_s)
    where the s-2 jump is allowed only onto a label that differs from l'_{s-2} (a repeated
    label needs a blank between). p(l|x) = alpha_{T-1}(|l'|-1) + alpha_{T-1}(|l'|-2) and
    L_n = -log p(l|x). beta runs the same recursion backwards (emissions after t), and
        gamma_t(c) = sum_{s: l'_s = c} alpha_t(s) beta_t(s) / p(l|x)
        dL_n/dlogits_{t,c} = y_t(c) - gamma_t(c)   for t < T_n, 0 beyond.
    All in log space. Reductions as PyTorch's ctc_loss: 'mean' divides each L_n by
    max(S_n, 1), then averages over the batch. An impossible alignment (T_n too short)
    has p = 0: L_n = inf and a NaN gradient, as PyTorch; zero_infinity=True makes
    both 0 instead.
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__()
        self.blank, self.zero_infinity = blank, zero_infinity
        self.reduction = _reduction(self, reduction)

    def forward(self, logits, targets, input_lengths, target_lengths):
        logits = float_array(self, "logits", logits, ndim=3)
        n, t_max, c = logits.shape
        targets = int_array(self, "targets", targets, ndim=2, high=c)
        dim_equals(self, "targets", targets, 0, n, "one label sequence per batch item")
        input_lengths = int_array(self, "input_lengths", input_lengths, ndim=1, low=1, high=t_max + 1)
        target_lengths = int_array(self, "target_lengths", target_lengths, ndim=1,
                                   high=targets.shape[1] + 1)
        same_shape(self, "input_lengths", input_lengths, (n,), "one length per batch item")
        same_shape(self, "target_lengths", target_lengths, (n,), "one length per batch item")
        self.logp = log_softmax(logits)
        self.gamma = np.zeros_like(logits)
        losses = np.zeros(n, dtype=logits.dtype)
        for i in range(n):
            label = targets[i, :target_lengths[i]]
            if (label == self.blank).any():
                raise ValueError(f"CTC: argument 'targets' must not contain the blank "
                                 f"{self.blank} within its target length (row {i})")
            losses[i], self.gamma[i, :input_lengths[i]] = self._sequence(
                self.logp[i, :input_lengths[i]], label)
        self.input_lengths, self.target_lengths = input_lengths, target_lengths
        self.impossible = ~np.isfinite(losses)
        if self.zero_infinity:
            losses[self.impossible] = 0.0
        if self.reduction == "mean":
            return (losses / np.maximum(target_lengths, 1)).mean()
        return _reduce(self.reduction, losses)

    def _sequence(self, logp, label):
        """-log p(l|x) and gamma (T_n, C) for one sequence."""
        ext = np.full(2 * len(label) + 1, self.blank)
        ext[1::2] = label
        # the s-2 jump: onto a label (odd s) that differs from the label two places back
        skip = np.zeros(len(ext), dtype=bool)
        skip[3::2] = label[1:] != label[:-1]
        steps, states = len(logp), len(ext)
        alpha = np.full((steps, states), -np.inf)
        beta = np.full((steps, states), -np.inf)        # beta_t: emissions after t only
        alpha[0, :2] = logp[0, ext[:2]]
        for t in range(1, steps):
            prev = alpha[t - 1]
            alpha[t] = _log_add(prev, _behind(prev, 1), np.where(skip, _behind(prev, 2), -np.inf)) \
                + logp[t, ext]
        beta[-1, -2:] = 0.0
        for t in range(steps - 2, -1, -1):
            nxt = beta[t + 1] + logp[t + 1, ext]
            # state s moves on to s, s + 1, and s + 2 when the jump onto s + 2 is allowed
            jump_allowed = _ahead(skip.astype(float), 2) == 1
            beta[t] = _log_add(nxt, _ahead(nxt, 1), np.where(jump_allowed, _ahead(nxt, 2), -np.inf))
        log_likelihood = _log_add(alpha[-1, -1], alpha[-1, -2]) if states > 1 else alpha[-1, -1]
        gamma = np.zeros_like(logp)
        with np.errstate(invalid="ignore"):
            occupancy = np.exp(alpha + beta - log_likelihood)     # NaN when p(l|x) = 0
        for s, cls in enumerate(ext):
            gamma[:, cls] += occupancy[:, s]
        return -log_likelihood, gamma

    def backward(self, dout=1.0):
        require_forward(self, "gamma")
        n = len(self.input_lengths)
        upstream = _upstream_for(self, dout, self.reduction, (n,))
        if self.reduction == "mean":
            upstream = upstream / (n * np.maximum(self.target_lengths, 1))
        upstream = np.broadcast_to(upstream, (n,)).copy()
        mask = np.arange(self.logp.shape[1])[None, :] < self.input_lengths[:, None]
        # dL_n/dlogits = softmax(logits) - gamma, on the first T_n frames only
        grad = (np.exp(self.logp) - self.gamma) * mask[:, :, None]
        # p(l|x) = 0: the gradient of -log 0 is undefined (NaN on every frame, as PyTorch),
        # or 0 with zero_infinity
        grad[self.impossible[:, None] & mask] = 0.0 if self.zero_infinity else np.nan
        return grad * upstream[:, None, None]
