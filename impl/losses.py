"""Losses: forward(prediction, target) returns the loss; backward(dout=1.0)
returns the gradient of the prediction (the target is data, not a parameter).
"""
import numpy as np

from ._checks import (float_array, int_array, same_shape, dim_equals, require_forward,
                      ShapeError)
from .activations import sigmoid
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
    """PyTorch's 'mean' with class weights: total / (summed weights of the counted targets),
    whatever its sign. Weights may be negative or zero, so the denominator may be negative
    (a finite loss) or 0 (inf or NaN, as PyTorch); every label ignored gives 0/0 = NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / denominator


def _mean_scale(dout, denominator, counted):
    """dout / denominator for the counted rows, 0 for the ignored ones (PyTorch: an ignored
    row's gradient is 0 even when the denominator is 0; a counted row then gets inf or NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counted, dout / denominator, 0.0)[:, None]


def _as_rows(layer, x, target, arg="x"):
    """The K-dimensional forms of cross entropy as rows of C classes (PyTorch's layouts):
        x (C,),            target ()  or (C,)              -> 1 row   (unbatched)
        x (N, C),          target (N,) or (N, C)           -> N rows
        x (N, C, d1, ..),  target (N, d1, ..) or x's shape -> N d1 .. rows
    Returns x (R, C), the target as rows, and the shape of the unreduced loss."""
    x = float_array(layer, arg, x, min_ndim=1)
    target = np.asarray(target)
    labels = np.issubdtype(target.dtype, np.integer)
    if x.ndim == 1:
        expected = () if labels else x.shape
        same_shape(layer, "target", target, expected, f"{'a class index' if labels else 'a distribution'} "
                   f"for an unbatched input of shape {x.shape}")
        return x[None], target[None], ()
    if x.ndim == 2:
        return x, target, x.shape[:1]
    n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
    expected = (n,) + spatial if labels else x.shape
    same_shape(layer, "target", target, expected, "(N, d1, ...) class indices or a distribution of "
               f"x's shape for x of shape {x.shape}")
    rows = np.moveaxis(x, 1, -1).reshape(-1, c)
    target = target.reshape(-1) if labels else np.moveaxis(target, 1, -1).reshape(-1, c)
    return rows, target, (n,) + spatial


def _from_rows(dx_rows, x_shape):
    """The inverse of _as_rows for the gradient: rows of C back to x's layout."""
    if len(x_shape) <= 2:
        return dx_rows.reshape(x_shape)
    n, c, spatial = x_shape[0], x_shape[1], x_shape[2:]
    return np.moveaxis(dx_rows.reshape((n,) + spatial + (c,)), -1, 1)


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

    x may also be unbatched (C,) or (N, C, d1, ...) with targets (N, d1, ...), as PyTorch:
    each position is one more row (see _as_rows).
    """

    def __init__(self, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
        super().__init__()
        self.reduction = _reduction(self, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"SoftmaxCrossEntropy: label_smoothing must be in [0, 1], "
                             f"got {label_smoothing}")
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, x, target):
        self.x_shape = np.shape(x)
        x, target, self.loss_shape = _as_rows(self, x, target)
        n, c = x.shape
        w = _class_weights(self, self.weight, c, x.dtype)
        self.q, self.denominator = self._weighted_target(x, target, w)
        logp = log_softmax(x)
        self.prob = np.exp(logp)
        # q_nc log y_nc, with 0 where q_nc = 0 (a logit of -inf has log y = -inf, 0 * -inf = 0)
        losses = -np.where(self.q != 0, self.q * logp, 0.0).sum(axis=1)
        if self.reduction == "none":
            return losses.reshape(self.loss_shape)
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
            self.counted = counted
            return q, (w[t] * counted).sum()
        target = float_array(self, "target", target, ndim=2)
        target = same_shape(self, "target", target, x.shape, "one distribution per row of x")
        self.counted = np.ones(n, dtype=bool)
        return ((1 - eps) * target + eps / c) * w, x.dtype.type(n)

    def backward(self, dout=1.0):
        require_forward(self, "prob")
        dout = _upstream_for(self, dout, self.reduction, self.loss_shape)
        # dL_n/dx_nc = softmax(x_n)_c sum_k q_nk - q_nc  (= y - t for one-hot, unweighted)
        dx = self.prob * self.q.sum(axis=1, keepdims=True) - self.q
        if self.reduction == "none":
            dx = dx * dout.reshape(-1, 1)
        elif self.reduction == "mean":
            dx = dx * _mean_scale(dout, self.denominator, self.counted)
        else:
            dx = dx * dout
        return _from_rows(dx, self.x_shape)


class MSE(Layer):
    """Squared error between prediction y and target t of the same shape.

        mean:     L = (1/K) sum (y - t)^2        (PyTorch's mse_loss; K = number of elements)
        sum:      L = sum (y - t)^2
        half_sum: E = 1/2 sum (y - t)^2          (the lecture notes' E; dE/dy = y - t)
        none:     (y - t)^2 element-wise
    """

    def __init__(self, reduction="mean", target_grad=False):
        super().__init__()
        self.reduction = _reduction(self, reduction, REDUCTIONS + ("half_sum",))
        self.target_grad = _target_option(self, target_grad)

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
        dy = scale * self.diff * dout
        return _and_target(self, dy, -dy)        # L depends on y - t: dL/dt = -dL/dy


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


def _target_option(layer, target_grad):
    if target_grad not in (True, False):
        raise ValueError(f"{type(layer).__name__}: target_grad must be True or False, got {target_grad!r}")
    return target_grad


def _and_target(layer, dy, dt):
    """backward's result: dL/dy alone, or (dL/dy, dL/dt) when the layer was built with
    target_grad=True (the target is then a differentiable input, as PyTorch allows)."""
    return (dy, dt) if layer.target_grad else dy


def _prediction_and_target(layer, y, t, y_name="y", t_name="t"):
    y = float_array(layer, y_name, y)
    t = float_array(layer, t_name, t)
    return y, same_shape(layer, t_name, t, y.shape, f"the shape of {y_name}")


class L1(Layer):
    """Absolute error |y - t| element-wise (PyTorch's l1_loss; 'mean' over all elements).

    Backward: dL/dy = sign(y - t), 0 where y = t (PyTorch's and JAX's choice at the kink).
    target_grad=True: backward also returns dL/dt = -dL/dy.
    """

    def __init__(self, reduction="mean", target_grad=False):
        super().__init__()
        self.reduction = _reduction(self, reduction)
        self.target_grad = _target_option(self, target_grad)

    def forward(self, y, t):
        y, t = _prediction_and_target(self, y, t)
        self.diff = y - t
        return _reduce(self.reduction, np.abs(self.diff))

    def backward(self, dout=1.0):
        require_forward(self, "diff")
        dy = np.sign(self.diff) * _per_item_upstream(self, dout, self.diff.shape)
        return _and_target(self, dy, -dy)


class SmoothL1(Layer):
    """PyTorch's smooth_l1_loss with threshold beta, d = y - t element-wise:
        l = d^2 / (2 beta)   if |d| < beta
        l = |d| - beta / 2   otherwise
    Backward: dl/dd = d / beta inside, sign(d) outside (continuous at |d| = beta).
    beta = 0 is L1 (no inside), as PyTorch. target_grad=True: also dL/dt = -dL/dy.
    """

    def __init__(self, beta=1.0, reduction="mean", target_grad=False):
        super().__init__()
        if not beta >= 0:
            raise ValueError(f"SmoothL1: beta must be >= 0 (beta = 0 is L1), got {beta}")
        self.beta, self.reduction = beta, _reduction(self, reduction)
        self.target_grad = _target_option(self, target_grad)

    def forward(self, y, t):
        y, t = _prediction_and_target(self, y, t)
        self.diff = y - t
        d, b = self.diff, self.beta
        if b == 0:                                   # no inside: L1
            return _reduce(self.reduction, np.abs(d))
        return _reduce(self.reduction, np.where(np.abs(d) < b, 0.5 * d ** 2 / b, np.abs(d) - 0.5 * b))

    def backward(self, dout=1.0):
        require_forward(self, "diff")
        d, b = self.diff, self.beta
        local = np.sign(d) if b == 0 else np.where(np.abs(d) < b, d / b, np.sign(d))
        dy = local * _per_item_upstream(self, dout, d.shape)
        return _and_target(self, dy, -dy)


class Huber(Layer):
    """Huber loss with threshold delta, d = y - t element-wise (PyTorch's huber_loss):
        l = d^2 / 2                  if |d| < delta
        l = delta (|d| - delta / 2)  otherwise
    It equals delta * SmoothL1(beta=delta). Backward: d inside, delta sign(d) outside.
    target_grad=True: also dL/dt = -dL/dy.
    """

    def __init__(self, delta=1.0, reduction="mean", target_grad=False):
        super().__init__()
        if delta <= 0:
            raise ValueError(f"Huber: delta must be positive, got {delta}")
        self.delta, self.reduction = delta, _reduction(self, reduction)
        self.target_grad = _target_option(self, target_grad)

    def forward(self, y, t):
        y, t = _prediction_and_target(self, y, t)
        self.diff = y - t
        d, k = self.diff, self.delta
        return _reduce(self.reduction, np.where(np.abs(d) < k, 0.5 * d ** 2, k * (np.abs(d) - 0.5 * k)))

    def backward(self, dout=1.0):
        require_forward(self, "diff")
        d, k = self.diff, self.delta
        local = np.where(np.abs(d) < k, d, k * np.sign(d))
        dy = local * _per_item_upstream(self, dout, d.shape)
        return _and_target(self, dy, -dy)


LOG_CLAMP = -100.0     # PyTorch clamps log(p) and log(1 - p) at -100 in binary_cross_entropy
BCE_GRAD_EPS = 1e-12   # ... and divides its gradient by max(p (1 - p), 1e-12)


def _element_weight(layer, weight, shape, dtype):
    """PyTorch's `weight` of the binary losses: one factor per element, broadcast to the
    input's shape (a scalar, one per class of the last axis, or the input's own shape)."""
    if weight is None:
        return 1.0
    w = float_array(layer, "weight", np.asarray(weight, dtype=dtype))
    try:
        broadcast = np.broadcast_shapes(w.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != tuple(shape):
        raise ShapeError(f"{type(layer).__name__}: argument 'weight' of shape {w.shape} must "
                         f"broadcast to the input's shape {tuple(shape)}")
    return w


class BCE(Layer):
    """Binary cross-entropy on probabilities p in [0, 1] (PyTorch's binary_cross_entropy):
        l = -(t max(log p, -100) + (1 - t) max(log(1 - p), -100))
    The clamp keeps p = 0 or 1 finite (at most 100). Backward, as PyTorch:
        dl/dp = (p - t) / max(p (1 - p), 1e-12)
    which is the exact derivative inside (0, 1) and +-1e12 (or 0 when p = t) at p = 0 or 1.
    Options as PyTorch: `weight` multiplies each element's loss (broadcast to p's shape);
    target_grad=True also returns dl/dt = log(1 - p) - log p (unclamped, as PyTorch).
    """

    def __init__(self, reduction="mean", weight=None, target_grad=False):
        super().__init__()
        self.reduction = _reduction(self, reduction)
        self.weight, self.target_grad = weight, _target_option(self, target_grad)

    def forward(self, p, t):
        p, t = _prediction_and_target(self, p, t, "p", "t")
        outside = ~((p >= 0) & (p <= 1))          # NaN too, as PyTorch refuses it
        if outside.any():
            raise ValueError(f"BCE: argument 'p' must hold probabilities in [0, 1], got "
                             f"{p[outside].flat[0]} at index {np.argwhere(outside)[0].tolist()} "
                             f"(use BCEWithLogits for logits)")
        self.p, self.t = p, t
        self.w = _element_weight(self, self.weight, p.shape, p.dtype)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), LOG_CLAMP)
            log_q = np.maximum(np.log1p(-p), LOG_CLAMP)
        return _reduce(self.reduction, -self.w * (t * log_p + (1 - t) * log_q))

    def backward(self, dout=1.0):
        require_forward(self, "p")
        p, t = self.p, self.t
        upstream = self.w * _per_item_upstream(self, dout, p.shape)
        dp = (p - t) / np.maximum(p * (1 - p), BCE_GRAD_EPS) * upstream
        if not self.target_grad:
            return dp
        with np.errstate(divide="ignore"):
            return dp, (np.log1p(-p) - np.log(p)) * upstream


def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), stable for any |x|."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class BCEWithLogits(Layer):
    """Sigmoid then binary cross-entropy, on logits x (PyTorch's binary_cross_entropy_with_logits).
    With -log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x):
        l = w t softplus(-x) + (1 - t) softplus(x)      (stable for any |x|)
    where w = pos_weight (one weight per class, the last axis; 1 when not given) weighs
    the positive term. Backward: dl/dx = sigmoid(x) (w t + 1 - t) - w t, which is
    sigmoid(x) - t for w = 1. Options as PyTorch: `weight` multiplies each element's loss
    (broadcast to x's shape); target_grad=True also returns dl/dt = w softplus(-x) - softplus(x).
    """

    def __init__(self, reduction="mean", pos_weight=None, weight=None, target_grad=False):
        super().__init__()
        self.reduction = _reduction(self, reduction)
        self.pos_weight, self.weight = pos_weight, weight
        self.target_grad = _target_option(self, target_grad)

    def forward(self, x, t):
        x, t = _prediction_and_target(self, x, t, "x", "t")
        w = 1.0
        if self.pos_weight is not None:
            w = float_array(self, "pos_weight", np.asarray(self.pos_weight, dtype=x.dtype), ndim=1)
            same_shape(self, "pos_weight", w, x.shape[-1:], "one weight per class (the last axis of x)")
        self.x, self.t, self.w = x, t, w
        self.element_w = _element_weight(self, self.weight, x.shape, x.dtype)
        return _reduce(self.reduction,
                       self.element_w * (w * t * _softplus(-x) + (1 - t) * _softplus(x)))

    def backward(self, dout=1.0):
        require_forward(self, "x")
        wt = self.w * self.t
        upstream = self.element_w * _per_item_upstream(self, dout, self.x.shape)
        # sigmoid(x) = 1 / (1 + e^-x) is stable at any logit: for x < -709 (float64; -88.7 in
        # float32) e^-x overflows to inf and gives 0, the limit, as torch's sigmoid does
        dx = (sigmoid(self.x) * (wt + 1 - self.t) - wt) * upstream
        if not self.target_grad:
            return dx
        return dx, (self.w * _softplus(-self.x) - _softplus(self.x)) * upstream


class NLL(Layer):
    """Negative log-likelihood of log-probabilities logp (N, C) and class indices t (N,)
    (PyTorch's nll_loss): L_n = -w_{t_n} logp_{n, t_n}, 0 where t_n = ignore_index.
    'mean' divides by the summed weights of the counted targets (NaN when none is counted,
    as PyTorch; its gradient is then 0). Backward: dL_n/dlogp_{n,c} = -w_{t_n} [c = t_n].
    logp may also be unbatched (C,) with a 0-d target, or (N, C, d1, ...) with t (N, d1, ...).
    """

    def __init__(self, reduction="mean", weight=None, ignore_index=-100):
        super().__init__()
        self.reduction = _reduction(self, reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, logp, target):
        self.x_shape = np.shape(logp)
        logp, target, self.loss_shape = _as_rows(self, logp, target, "logp")
        n, c = logp.shape
        w = _class_weights(self, self.weight, c, logp.dtype)
        labels = _class_labels(self, target, n, c, self.ignore_index)
        counted = labels != self.ignore_index
        t = np.where(counted, labels, 0)
        # q_nc = w_{t_n} [c = t_n] for counted rows: L_n = -sum_c q_nc logp_nc
        self.q = np.zeros_like(logp)
        self.q[np.arange(n), t] = w[t] * counted
        self.denominator, self.counted = (w[t] * counted).sum(), counted
        # read only each row's target entry (a NaN elsewhere in the row does not matter, as torch)
        losses = np.where(counted, -w[t] * logp[np.arange(n), t], 0.0).astype(logp.dtype)
        if self.reduction == "none":
            return losses.reshape(self.loss_shape)
        return _weighted_mean(losses.sum(), self.denominator) if self.reduction == "mean" \
            else losses.sum()

    def backward(self, dout=1.0):
        require_forward(self, "q")
        dout = _upstream_for(self, dout, self.reduction, self.loss_shape)
        if self.reduction == "none":
            dlogp = -self.q * dout.reshape(-1, 1)
        elif self.reduction == "mean":
            dlogp = -self.q * _mean_scale(dout, self.denominator, self.counted)
        else:
            dlogp = -self.q * dout
        return _from_rows(dlogp, self.x_shape)


class KLDiv(Layer):
    """Kullback-Leibler divergence as PyTorch's kl_div(logq, p): the input is log q, the
    target p (probabilities, or log p with log_target=True):
        l = p (log p - logq) element-wise, with 0 log 0 = 0
        mean: over all elements (PyTorch's default); batchmean: sum / N (the true KL per
        sample; a 0-d input has no batch axis: the sum, as PyTorch)
    Backward: dl/dlogq = -p. target_grad=True also returns the target's gradient, as PyTorch:
        dl/dp = log p + 1 - logq (NaN at p = 0);  log_target: dl/dt = e^t (t - logq + 1).
    """

    def __init__(self, reduction="mean", log_target=False, target_grad=False):
        super().__init__()
        self.reduction = _reduction(self, reduction, REDUCTIONS + ("batchmean",))
        self.log_target = log_target
        self.target_grad = _target_option(self, target_grad)

    def forward(self, logq, target):
        logq, target = _prediction_and_target(self, logq, target, "logq", "target")
        self.logq, self.target = logq, target
        if self.log_target:
            self.p = np.exp(target)
            losses = self.p * (target - logq)
        else:
            negative = target < 0                   # a NaN elsewhere must not hide it
            if negative.any():
                raise ValueError(f"KLDiv: argument 'target' must hold probabilities (>= 0), "
                                 f"got {target[negative].flat[0]} at index "
                                 f"{np.argwhere(negative)[0].tolist()} (use log_target=True for log p)")
            self.p = target
            with np.errstate(divide="ignore", invalid="ignore"):
                plogp = np.where(target > 0, target * np.log(np.where(target > 0, target, 1)), 0)
            losses = plogp - target * logq
        if self.reduction == "batchmean":
            return losses.sum() / self._batch()
        return _reduce(self.reduction, losses)

    def _batch(self):
        return len(self.p) if self.p.ndim else 1

    def backward(self, dout=1.0):
        require_forward(self, "p")
        if self.reduction == "batchmean":
            upstream = _upstream_for(self, dout, "sum", ()) / self._batch()
        else:
            upstream = _per_item_upstream(self, dout, self.p.shape)
        dlogq = -self.p * upstream
        if not self.target_grad:
            return dlogq
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.log_target:
                dt = self.p * (self.target - self.logq + 1)
            else:   # xlogy(p, p)' = log p + p / p: NaN at p = 0, as PyTorch
                dt = np.log(self.target) + self.target / self.target - self.logq
        return dlogq, dt * upstream


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
    Each row is first divided by its largest |component| s (cos does not change), so that
    |x|^2 cannot overflow (a component of 1e300) or underflow: m = s^2 (|x/s|^2 + eps/s^2).
    Unbatched x1, x2 (D,) with a 0-d y are one row.
    """

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__()
        self.margin, self.reduction = margin, _reduction(self, reduction)

    def forward(self, x1, x2, y):
        x1 = float_array(self, "x1", x1)
        if x1.ndim not in (1, 2):
            raise ShapeError(f"CosineEmbedding: argument 'x1' must have shape (N, D) or (D,), "
                             f"got {x1.shape}")
        x2 = same_shape(self, "x2", float_array(self, "x2", x2), x1.shape, "the shape of x1")
        y = np.asarray(y)
        same_shape(self, "y", y, x1.shape[:-1], "one label per row of x1")
        if not np.isin(y, (1, -1)).all():
            raise ValueError(f"CosineEmbedding: argument 'y' must hold 1 or -1, got {np.unique(y)}")
        self.loss_shape = y.shape
        x1, x2, y = x1.reshape(-1, x1.shape[-1]), x2.reshape(-1, x2.shape[-1]), y.reshape(-1)
        self.s1, self.u1, self.m1 = self._scaled(x1)
        self.s2, self.u2, self.m2 = self._scaled(x2)
        self.y, self.dtype = y, x1.dtype
        self.cos = (self.u1 * self.u2).sum(axis=1) / np.sqrt(self.m1 * self.m2)
        losses = np.where(y == 1, 1 - self.cos, np.maximum(0, self.cos - self.margin))
        return _reduce(self.reduction, losses.reshape(self.loss_shape))

    @staticmethod
    def _scaled(x):
        """s = max |x| per row (1 for a zero row), u = x / s, m' = |u|^2 + eps / s^2 (m = s^2 m')."""
        s = np.abs(x).max(axis=1) if x.shape[1] else np.ones(len(x), dtype=x.dtype)
        s = np.where(s > 0, s, 1.0)
        u = x / s[:, None]
        with np.errstate(under="ignore"):
            return s, u, (u ** 2).sum(axis=1) + COSINE_EPS / s / s

    def backward(self, dout=1.0):
        require_forward(self, "cos")
        dcos = np.where(self.y == 1, -1.0, (self.cos > self.margin).astype(float))
        dcos = (dcos * np.reshape(_per_item_upstream(self, dout, self.loss_shape), -1))[:, None]
        cos = self.cos[:, None]
        root = np.sqrt(self.m1 * self.m2)[:, None]
        # dcos/dx1 = x2 / sqrt(m1 m2) - cos x1 / m1, written in u = x / s, m = s^2 m'
        dx1 = dcos * (self.u2 / root - cos * self.u1 / self.m1[:, None]) / self.s1[:, None]
        dx2 = dcos * (self.u1 / root - cos * self.u2 / self.m2[:, None]) / self.s2[:, None]
        shape = self.loss_shape + self.u1.shape[-1:]
        return dx1.reshape(shape).astype(self.dtype), dx2.reshape(shape).astype(self.dtype)


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
    both 0 instead. As PyTorch's ctc_loss, targets may also be 1-D, the N label sequences
    concatenated (sum of target_lengths labels), and the input unbatched: logits (T, C),
    targets (S,), 0-d lengths.
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__()
        self.blank, self.zero_infinity = blank, zero_infinity
        self.reduction = _reduction(self, reduction)

    def forward(self, logits, targets, input_lengths, target_lengths):
        logits, targets, input_lengths, target_lengths = self._batched(
            logits, targets, input_lengths, target_lengths)
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
        return _reduce(self.reduction, losses.reshape(self.loss_shape))

    def _batched(self, logits, targets, input_lengths, target_lengths):
        """The padded batch form (N, T, C), (N, S), (N,), (N,) of PyTorch's other forms."""
        logits = float_array(self, "logits", logits)
        if logits.ndim not in (2, 3):
            raise ShapeError(f"CTC: argument 'logits' must have shape (N, T, C) or (T, C), "
                             f"got {logits.shape}")
        targets, input_lengths, target_lengths = (np.asarray(a) for a in
                                                  (targets, input_lengths, target_lengths))
        self.unbatched = logits.ndim == 2
        if self.unbatched:
            int_array(self, "targets", targets, ndim=1)
            logits, targets = logits[None], targets[None]
            input_lengths, target_lengths = input_lengths.reshape(1), target_lengths.reshape(1)
        elif targets.ndim == 1:            # concatenated: split by target_lengths, then pad
            target_lengths = int_array(self, "target_lengths", target_lengths, ndim=1)
            int_array(self, "targets", targets, ndim=1)
            if target_lengths.sum() != len(targets):
                raise ShapeError(f"CTC: 1-D 'targets' must hold sum(target_lengths) = "
                                 f"{target_lengths.sum()} labels, got {len(targets)}")
            padded = np.zeros((len(target_lengths), max(target_lengths.max(initial=0), 1)),
                              dtype=targets.dtype)
            starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
            for i, (start, length) in enumerate(zip(starts, target_lengths)):
                padded[i, :length] = targets[start:start + length]
            targets = padded
        self.loss_shape = () if self.unbatched else logits.shape[:1]
        return logits, targets, input_lengths, target_lengths

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
        upstream = np.reshape(_upstream_for(self, dout, self.reduction, self.loss_shape),
                              () if self.reduction != "none" else (n,))
        if self.reduction == "mean":
            upstream = upstream / (n * np.maximum(self.target_lengths, 1))
        upstream = np.broadcast_to(upstream, (n,)).copy()
        mask = np.arange(self.logp.shape[1])[None, :] < self.input_lengths[:, None]
        # dL_n/dlogits = softmax(logits) - gamma, on the first T_n frames only
        grad = (np.exp(self.logp) - self.gamma) * mask[:, :, None]
        # p(l|x) = 0: the gradient of -log 0 is undefined (NaN on every frame, as PyTorch),
        # or 0 with zero_infinity
        grad[self.impossible[:, None] & mask] = 0.0 if self.zero_infinity else np.nan
        grad = grad * upstream[:, None, None]
        return grad[0] if self.unbatched else grad
