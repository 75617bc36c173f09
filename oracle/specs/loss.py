"""Losses: the gradient of the prediction, for every reduction."""
import warnings

import numpy as np

from ...impl import losses as Lo
from ...impl.activations import sigmoid
from ..frameworks import F, jax, jnn, jnp, optax, torch
from ..spec import Case, CaseData, Mistake, OpSpec
from ._cases import batch_hint, distribution, labels, normal


IGNORE = -100   # PyTorch's default ignore_index
CLASS_WEIGHTS = (0.5, 2.0, 1.25)


def _logits(n, c, target="labels", scale=1.0, ignored=()):
    """Logits (n, c) and a target; the rows in `ignored` get the label IGNORE."""
    def make(rng):
        x = normal(rng, n, c, scale=scale)
        t = {"labels": lambda: labels(rng, n, c),
             "onehot": lambda: (labels(rng, n, c)[:, None] == range(c)).astype(float),
             "probs": lambda: distribution(rng, n, c)}[target]()
        t[list(ignored)] = IGNORE
        return CaseData(inputs={"x": x}, extra={"target": t})
    return make


def _target_input(fn, name="t"):
    """A reference for a case whose target is a differentiable input (target_grad=True):
    the target is read from the inputs, so the witness differentiates it too."""
    return lambda a, e, hp: fn(a, {**e, name: a[name]} if name in a else e, hp)


def _pair_with_target(*shape):
    """y and t, both differentiable inputs (the option target_grad=True)."""
    return lambda rng: CaseData(inputs={"y": normal(rng, *shape), "t": normal(rng, *shape)})


def _jax_rows(fn, name):
    """A reference over (N, C) rows, applied to PyTorch's other layouts of cross entropy:
    unbatched (C,) with a 0-d target, and (N, C, d1, ...) with targets (N, d1, ...)."""
    def run(a, e, hp):
        x, t = a[name], e["target"]
        labels = jnp.issubdtype(t.dtype, jnp.integer)
        none = hp.get("reduction", "mean") == "none"
        if x.ndim == 2:
            return fn(a, e, hp)
        if x.ndim == 1:
            out = fn({**a, name: x[None]}, {**e, "target": t[None]}, hp)
            return out[0] if none else out
        c = x.shape[1]
        rows = jnp.moveaxis(x, 1, -1).reshape(-1, c)
        t = t.reshape(-1) if labels else jnp.moveaxis(t, 1, -1).reshape(-1, c)
        out = fn({**a, name: rows}, {**e, "target": t}, hp)
        return out.reshape((x.shape[0],) + x.shape[2:]) if none else out
    return run


def _spatial_logits(shape, log=False):
    """x (N, C, d1, ...) and class indices (N, d1, ...), as PyTorch's K-dimensional loss."""
    def make(rng):
        x = normal(rng, *shape)
        if log:
            x = x - np.log(np.exp(x).sum(axis=1 if len(shape) > 1 else 0, keepdims=True))
        t = rng.integers(0, shape[1] if len(shape) > 1 else shape[0],
                         size=(shape[:1] + shape[2:]) if len(shape) > 1 else ())
        return CaseData(inputs={"logp" if log else "x": x}, extra={"target": t})
    return make


def _neg_inf_logits(rng):
    """A logit of -inf outside row 0's target (torch: finite loss, 0 * -inf counts as 0)."""
    x, t = normal(rng, 4, 3), labels(rng, 4, 3)
    x[0, (t[0] + 1) % 3] = -np.inf
    return CaseData(inputs={"x": x}, extra={"target": t})


NEGATIVE_WEIGHTS = (-1.0, 0.5, -2.0)


def _reduce(losses, reduction, xp_sum, denominator=None):
    if reduction == "none":
        return losses
    total = xp_sum(losses)
    return total / (losses.shape[0] if denominator is None else denominator) \
        if reduction == "mean" else total


def _jax_safe_mean(total, denominator):
    """total / denominator whatever its sign (PyTorch's), NaN when it is 0 (nothing counted),
    with a zero gradient there: the inner where keeps the division's own gradient finite."""
    counted = denominator != 0
    return jnp.where(counted, total / jnp.where(counted, denominator, 1), jnp.nan)


def _jax_weighted_target(t, x, hp):
    """The weighted, smoothed target q (N, C) and the denominator of 'mean' (PyTorch's rule)."""
    n, c = x.shape
    w = jnp.asarray(hp.get("weight", np.ones(c)), dtype=x.dtype)
    eps = hp.get("label_smoothing", 0.0)
    if not jnp.issubdtype(t.dtype, jnp.integer):
        return ((1 - eps) * t + eps / c) * w, n
    counted = t != hp.get("ignore_index", IGNORE)
    safe = jnp.where(counted, t, 0)
    target = ((1 - eps) * jnn.one_hot(safe, c, dtype=x.dtype) + eps / c) * counted[:, None]
    return target * w, (w[safe] * counted).sum()


def _jax_cross_entropy(a, e, hp):
    q, denominator = _jax_weighted_target(e["target"], a["x"], hp)
    logp = jnn.log_softmax(a["x"], axis=-1)
    losses = -jnp.where(q != 0, q * logp, 0.0).sum(axis=-1)    # 0 log 0 = 0 at a -inf logit
    reduction = hp.get("reduction", "mean")
    if reduction == "mean":
        return _jax_safe_mean(losses.sum(), denominator)
    return _reduce(losses, reduction, jnp.sum)


def _torch_constant(values, x):
    """Hyperparameter values (class weights, pos_weight) as a tensor beside x, or None."""
    return None if values is None else torch.tensor(values, dtype=x.dtype, device=x.device)


def _torch_cross_entropy(a, e, hp):
    x = a["x"]
    return F.cross_entropy(x, e["target"], weight=_torch_constant(hp.get("weight"), x),
                           ignore_index=hp.get("ignore_index", IGNORE),
                           label_smoothing=hp.get("label_smoothing", 0.0),
                           reduction=hp.get("reduction", "mean"))


def _pair(*shape):
    return lambda rng: CaseData(inputs={"y": normal(rng, *shape)}, extra={"t": normal(rng, *shape)})


def _torch_mse(a, e, hp):
    reduction = hp.get("reduction", "mean")
    if reduction == "half_sum":
        return 0.5 * F.mse_loss(a["y"], e["t"], reduction="sum")
    return F.mse_loss(a["y"], e["t"], reduction=reduction)


def _jax_mse(a, e, hp):
    squared = (a["y"] - e["t"]) ** 2
    return {"mean": jnp.mean, "sum": jnp.sum, "none": lambda s: s,
            "half_sum": lambda s: 0.5 * jnp.sum(s)}[hp.get("reduction", "mean")](squared)


def _reduction(hp):
    return hp.get("reduction", "mean")


def _jax_reduce(losses, hp):
    return {"mean": jnp.mean, "sum": jnp.sum, "none": lambda v: v}[_reduction(hp)](losses)


def _pair_equal_at(*shape, equal=((0, 0), (1, 2), (2, 1))):
    """Prediction and target that coincide at a few elements: y - t = 0 exactly there."""
    def make(rng):
        y, t = normal(rng, *shape), normal(rng, *shape)
        for index in equal:
            t[index] = y[index]
        return CaseData(inputs={"y": y}, extra={"t": t})
    return make


def _probabilities(*shape, soft=True):
    """p in (0.05, 0.95), targets in [0, 1] (soft) or {0, 1}."""
    def make(rng):
        p = 0.05 + 0.9 * rng.random(shape)
        t = rng.random(shape) if soft else (rng.random(shape) < 0.5).astype(float)
        return CaseData(inputs={"p": p}, extra={"t": t})
    return make


def _saturated_probabilities(rng):
    """p exactly 0 or 1 against targets 0 and 1 (both agreeing and contradicting), and a soft pair."""
    p = np.array([[0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.3, 0.8]])
    t = np.array([[0.0, 1.0, 1.0, 0.0], [0.5, 0.25, 1.0, 0.0]])
    return CaseData(inputs={"p": p}, extra={"t": t})


def _jax_bce(a, e, hp):
    p, t = a["p"], e["t"]
    log_p, log_q = jnp.maximum(jnp.log(p), -100.0), jnp.maximum(jnp.log1p(-p), -100.0)
    w = jnp.asarray(hp.get("weight", 1.0), dtype=p.dtype)
    return _jax_reduce(-w * (t * log_p + (1 - t) * log_q), hp)


def _logit_pairs(*shape, scale=1.0, extreme=False, hard=False):
    def make(rng):
        x = normal(rng, *shape, scale=scale)
        if extreme:   # logits of magnitude 100 on both sides, with both targets
            x.flat[:4] = (100.0, -100.0, 100.0, -100.0)
        t = rng.random(shape)
        if hard:      # 0/1 labels, as the books' SigmoidWithLoss takes them
            t = (t < 0.5).astype(np.float64)
        if extreme:
            t.flat[:4] = (1.0, 1.0, 0.0, 0.0)
        return CaseData(inputs={"x": x}, extra={"t": t})
    return make


def _jax_bce_with_logits(a, e, hp):
    x, t = a["x"], e["t"]
    weight = jnp.asarray(hp.get("weight", 1.0), dtype=x.dtype)
    if hp.get("pos_weight") is None:
        return _jax_reduce(weight * optax.sigmoid_binary_cross_entropy(x, t), hp)
    w = jnp.asarray(hp["pos_weight"], dtype=x.dtype)
    return _jax_reduce(weight * (w * t * jnn.softplus(-x) + (1 - t) * jnn.softplus(x)), hp)


def _probabilities_with_target(*shape):
    def make(rng):
        return CaseData(inputs={"p": 0.05 + 0.9 * rng.random(shape), "t": rng.random(shape)})
    return make


def _logits_with_target(*shape):
    return lambda rng: CaseData(inputs={"x": normal(rng, *shape), "t": rng.random(shape)})


def _log_probabilities(n, c, ignored=()):
    def make(rng):
        x = normal(rng, n, c)
        logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
        t = labels(rng, n, c)
        t[list(ignored)] = IGNORE
        return CaseData(inputs={"logp": logp}, extra={"target": t})
    return make


def _jax_nll(a, e, hp):
    logp, t = a["logp"], e["target"]
    n, c = logp.shape
    w = jnp.asarray(hp.get("weight", np.ones(c)), dtype=logp.dtype)
    counted = t != hp.get("ignore_index", IGNORE)
    safe = jnp.where(counted, t, 0)
    losses = -jnp.take_along_axis(logp, safe[:, None], axis=1)[:, 0] * w[safe] * counted
    if _reduction(hp) == "mean":
        return _jax_safe_mean(losses.sum(), (w[safe] * counted).sum())
    return _jax_reduce(losses, hp)


def _kl_pair(n, c, log_target=False, zeros=()):
    """log q (N, C) and a target distribution p, some entries exactly 0 (0 log 0 = 0)."""
    def make(rng):
        x = normal(rng, n, c)
        logq = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
        p = distribution(rng, n, c)
        for index in zeros:
            p[index] = 0.0
        p /= p.sum(axis=1, keepdims=True)
        return CaseData(inputs={"logq": logq}, extra={"target": np.log(p) if log_target else p})
    return make


def _kl_with_target(n, c, log_target=False):
    """log q and a differentiable target (target_grad=True), every target entry positive."""
    def make(rng):
        data = _kl_pair(n, c, log_target)(rng)
        return CaseData(inputs={"logq": data.inputs["logq"], "target": data.extra["target"]})
    return make


def _torch_kl_div(a, e, hp):
    with warnings.catch_warnings():   # torch warns that 'mean' is per element: the convention says so
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
        return F.kl_div(a["logq"], e["target"], reduction=_reduction(hp),
                        log_target=hp.get("log_target", False))


def _jax_kl_div(a, e, hp):
    logq, target = a["logq"], e["target"]
    if hp.get("log_target", False):
        losses = jnp.exp(target) * (target - logq)
    else:
        losses = jax.scipy.special.xlogy(target, target) - target * logq
    if _reduction(hp) == "batchmean":
        return losses.sum() / (logq.shape[0] if logq.ndim else 1)
    return _jax_reduce(losses, hp)


def _scores(n, c):
    return lambda rng: CaseData(inputs={"x": normal(rng, n, c)}, extra={"target": labels(rng, n, c)})


def _torch_hinge(a, e, hp):
    """torch's multi_margin_loss divides by C: multiplying back gives the CS231n loss."""
    x = a["x"]
    losses = F.multi_margin_loss(x, e["target"], margin=hp.get("margin", 1.0), reduction="none")
    return _reduce(losses * x.shape[1], _reduction(hp), torch.sum)


def _jax_hinge(a, e, hp):
    x, t = a["x"], e["target"]
    correct = jnp.take_along_axis(x, t[:, None], axis=1)
    margins = jnp.maximum(0, x - correct + hp.get("margin", 1.0))
    margins = jnp.where(jnn.one_hot(t, x.shape[1], dtype=bool), 0.0, margins)
    return _jax_reduce(margins.sum(axis=1), hp)


def _cosine_pairs(n, d):
    def make(rng):
        y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
        y[:2] = (1.0, -1.0)
        return CaseData(inputs={"x1": normal(rng, n, d), "x2": normal(rng, n, d)}, extra={"y": y})
    return make


def _jax_cosine_embedding(a, e, hp):
    # optax clips each squared norm at epsilon where PyTorch adds 1e-12: identical
    # to ~1e-12 relative for the cases' O(1) norms.
    cos = optax.cosine_similarity(a["x1"], a["x2"], epsilon=1e-12)
    losses = jnp.where(e["y"] == 1, 1 - cos, jnp.maximum(0, cos - hp.get("margin", 0.0)))
    return _jax_reduce(losses, hp)


def _ctc_batch(logit_shape, targets, input_lengths, target_lengths):
    def make(rng):
        return CaseData(inputs={"logits": normal(rng, *logit_shape)},
                        extra={"targets": np.array(targets), "input_lengths": np.array(input_lengths),
                               "target_lengths": np.array(target_lengths)})
    return make


CTC_TARGETS = dict(targets=[[1, 2, 2], [3, 1, 0], [1, 1, 1]],
                   input_lengths=[6, 5, 6], target_lengths=[3, 2, 1])


def _torch_ctc(a, e, hp):
    log_probs = F.log_softmax(a["logits"], dim=-1)
    if log_probs.ndim == 3:
        log_probs = log_probs.transpose(0, 1)                            # (T, N, C)
    return F.ctc_loss(log_probs, e["targets"], e["input_lengths"], e["target_lengths"],
                      blank=hp.get("blank", 0), reduction=_reduction(hp),
                      zero_infinity=hp.get("zero_infinity", False))


def _jax_ctc(a, e, hp):
    logits, targets = a["logits"], e["targets"]
    if logits.ndim == 2:                                                  # one sequence
        out = _jax_ctc({"logits": logits[None]}, {"targets": targets[None],
                        "input_lengths": jnp.reshape(e["input_lengths"], 1),
                        "target_lengths": jnp.reshape(e["target_lengths"], 1)}, hp)
        return out[0] if _reduction(hp) == "none" else out
    if targets.ndim == 1:      # concatenated: row i reads its labels from starts[i] on, padded
        lengths = e["target_lengths"]
        starts = jnp.cumsum(lengths) - lengths
        j = jnp.arange(targets.shape[0])[None, :]
        picked = targets[jnp.clip(starts[:, None] + j, 0, targets.shape[0] - 1)]
        targets = jnp.where(j < lengths[:, None], picked, 0)
    logit_paddings = (jnp.arange(logits.shape[1])[None, :] >= e["input_lengths"][:, None])
    label_paddings = (jnp.arange(targets.shape[1])[None, :] >= e["target_lengths"][:, None])
    losses = optax.ctc_loss(logits, logit_paddings.astype(logits.dtype), targets,
                            label_paddings.astype(logits.dtype), blank_id=hp.get("blank", 0))
    if _reduction(hp) == "mean":   # PyTorch's: each loss over its target length, then the batch mean
        return (losses / jnp.maximum(e["target_lengths"], 1)).mean()
    return _jax_reduce(losses, hp)


ELEMENTWISE_PAIRS = [
    Case("mean", _pair(4, 3)),
    Case("sum", _pair(4, 3), hparams={"reduction": "sum"}),
    Case("none", _pair(4, 3), hparams={"reduction": "none"}),
]
EQUAL_WHY = ("the target equals the prediction at three elements: |y - t| has a kink there, where "
             "the derivative is a convention (0, as torch and jax); finite differences are "
             "meaningless at a kink")
EQUAL_WHY_JA = ("3 つの要素で目標が予測に等しい: そこで |y - t| は折れ点をもち、微分は規約で決まる"
                "（torch と jax と同じく 0）。折れ点では数値微分は意味をもたない")
IMPOSSIBLE = dict(targets=[[1, 1, 2], [2, 3, 0]], input_lengths=[3, 4], target_lengths=[3, 2])
IMPOSSIBLE_WHY = ("sequence 0 (labels 1 1 2 in 3 frames) needs 4 frames, a blank between the "
                  "repeated 1s: p(l|x) = 0. optax works with log_epsilon = -1e5 instead of -inf "
                  "and returns a finite ~1e5, so torch (inf, NaN gradient; or 0 with "
                  "zero_infinity) is the witness")
IMPOSSIBLE_WHY_JA = ("系列 0（3 フレームにラベル 1 1 2）は、繰り返す 1 の間に blank が要るので 4 フレーム"
                     "必要: p(l|x) = 0。optax は -inf の代わりに log_epsilon = -1e5 で計算して有限の ~1e5 を"
                     "返すので、torch（inf と NaN の勾配、zero_infinity なら 0）を検証器とする")
TARGET_GRAD_JA = "目標を微分可能な入力とする: "

# ---- the mistakes people make writing losses ------------------------------------------------
# Most are one line of backward (or forward) changed; the factories below write the common
# "scaled by the wrong count" and "ignores dout" mistakes once for every loss.

def _backward_scaled(base, factor):
    """base whose backward result is multiplied by factor(layer) (None: unchanged)."""
    class Scaled(base):
        def backward(self, dout=1.0):
            grads = super().backward(dout)
            c = factor(self)
            if c is None:
                return grads
            return tuple(g * c for g in grads) if isinstance(grads, tuple) else grads * c
    return Scaled


def _forward_scaled(base, factor):
    class Scaled(base):
        def forward(self, *args):
            out = super().forward(*args)
            c = factor(self)
            return out if c is None else out * c
    return Scaled


def _ignores_dout(base):
    """backward(dout) computed as if dout were 1 (or ones, for reduction='none')."""
    class IgnoresDout(base):
        def backward(self, dout=1.0):
            return super().backward(np.ones_like(np.asarray(dout, dtype=float)))
    return IgnoresDout


def _mean_count(count):
    return lambda layer: count(layer) if layer.reduction == "mean" and count(layer) else None


def _mean_inverse(count):
    return lambda layer: 1.0 / count(layer) if layer.reduction == "mean" and count(layer) else None


def _reduction_mistakes(base, count, name_n="N", what="the batch size N"):
    """The gradient of a mean not divided by the count, or divided twice; dout ignored."""
    return [
        Mistake("mean_not_divided", f"the gradient of the mean is not divided by {what}: "
                f"the mean's 1/{name_n} belongs in backward too", _backward_scaled(base, _mean_count(count)),
                says_ja=f"平均の勾配を {name_n} で割っていない: 平均の 1/{name_n} は逆伝播にも入る"),
        Mistake("mean_divided_twice", f"the gradient is divided by {what} twice: once is the "
                f"mean's 1/{name_n}", _backward_scaled(base, _mean_inverse(count)),
                says_ja=f"勾配を {name_n} で二度割っている: 平均の 1/{name_n} は一度だけ"),
        Mistake("ignores_dout", "backward ignores the upstream gradient dout: multiply by it "
                "(dout = 1 only when the loss is the last node)", _ignores_dout(base),
                says_ja="逆伝播が上流の勾配 dout を無視している: dout を掛ける（dout = 1 になるのは損失が"
                        "最後のノードのときだけ）"),
    ]


def _negated(base):
    return _backward_scaled(base, lambda layer: -1.0)


def _ce_denominator(layer):
    return float(layer.denominator)


class _CrossEntropyEpsInLog(Lo.SoftmaxCrossEntropy):
    """The book's cross_entropy_error: -sum t log(y + 1e-7) / N; backward (y - t) / N unchanged."""

    def forward(self, x, target):
        exact = super().forward(x, target)
        losses = -(self.q * np.log(self.prob + 1e-7)).sum(axis=1)
        if self.reduction == "none":
            return losses.astype(exact.dtype)
        total = losses.sum()
        with np.errstate(invalid="ignore"):         # an all-ignored batch: 0/0, as the exact loss
            return (total / self.denominator if self.reduction == "mean" else total).astype(exact.dtype)


class _CrossEntropyLossSum(Lo.SoftmaxCrossEntropy):
    def forward(self, x, target):
        out = super().forward(x, target)
        return out * self.denominator if self.reduction == "mean" else out


CE_EPS_SAYS = ("the loss adds 1e-7 inside the log (the book's cross_entropy_error): -log(y + 1e-7) "
               "differs from -log y by about 1e-7 / y where y >> 1e-7 and stops near "
               "-log(1e-7) = 16.1 once y < 1e-7, so finite differences of such a forward are not "
               "its backward (y - t) / N; compute -log y as the log-softmax x - max - log sum exp")
CE_EPS_SAYS_JA = ("損失で log の中に 1e-7 を足している（本の cross_entropy_error）: -log(y + 1e-7) は "
                  "y >> 1e-7 では -log y と約 1e-7 / y だけ違い、y < 1e-7 では -log(1e-7) = 16.1 付近で"
                  "頭打ちになる。そのためこの順伝播の有限差分は逆伝播 (y - t) / N と一致しない。"
                  "-log y は log-softmax（x - max - log Σ exp）で計算する")

SOFTMAX_CE_MISTAKES = _reduction_mistakes(
    Lo.SoftmaxCrossEntropy, _ce_denominator, "N",
    "N (the number of counted targets, or their summed class weights)") + [
    Mistake("eps_in_log", CE_EPS_SAYS, _CrossEntropyEpsInLog, says_ja=CE_EPS_SAYS_JA),
    Mistake("loss_sum_not_mean", "the loss is the sum over the batch where the mean was asked: "
            "divide by N (the gradient already is)", _CrossEntropyLossSum,
            says_ja="平均を求めるところで損失をバッチの和にしている: N で割る（勾配はすでに割っている）"),
    Mistake("gradient_sign", "dx = (t - y) / N has the wrong sign: the gradient of the loss is "
            "(y - t) / N", _negated(Lo.SoftmaxCrossEntropy),
            says_ja="dx = (t - y) / N は符号が逆: 損失の勾配は (y - t) / N"),
]


def _diff_size(layer):
    return float(layer.diff.size)


class _MseWithout2(Lo.MSE):
    def backward(self, dout=1.0):
        grad = super().backward(dout)
        return grad if self.reduction == "half_sum" else grad / 2.0


class _MseHalfConvention(_MseWithout2):
    def forward(self, y, t):
        out = super().forward(y, t)
        return out if self.reduction == "half_sum" else 0.5 * out


class _MseHalfSumWith2(Lo.MSE):
    def backward(self, dout=1.0):
        grad = super().backward(dout)
        return 2.0 * grad if self.reduction == "half_sum" else grad


class _MsePerBatch(Lo.MSE):
    def backward(self, dout=1.0):
        grad = super().backward(dout)          # 2 (y - t) / K  ->  2 (y - t) / N
        n = self.diff.shape[0] if self.diff.ndim > 1 else self.diff.size
        return grad * self.diff.size / n if self.reduction == "mean" else grad


class _MseDeeplearningCourse(Lo.MSE):
    """The E資格 course's d_mean_squared_error: (y - d) / batch_size."""

    def backward(self, dout=1.0):
        grad = super().backward(dout)
        n = self.diff.shape[0] if self.diff.ndim > 1 else self.diff.size
        return grad * self.diff.size / (2.0 * n) if self.reduction == "mean" else grad


MSE_MISTAKES = [
    Mistake("derivative_without_2", "the derivative of (y - t)^2 is 2 (y - t): the 2 is missing "
            "(it cancels only against the 1/2 of E = 1/2 sum (y - t)^2)", _MseWithout2,
            says_ja="(y - t)^2 の微分は 2 (y - t): 2 が抜けている（打ち消し合うのは E = 1/2 Σ (y - t)^2 "
                    "の 1/2 とだけ）"),
    Mistake("half_convention", "the 1/2 convention E = 1/2 (y - t)^2 (with the derivative y - t) "
            "where the loss is without the 1/2: mse_loss is mean((y - t)^2), its gradient "
            "2 (y - t) / K", _MseHalfConvention,
            says_ja="損失に 1/2 がないところで 1/2 の約束 E = 1/2 (y - t)^2（微分 y - t）を使っている: "
                    "mse_loss は mean((y - t)^2)、勾配は 2 (y - t) / K"),
    Mistake("half_sum_with_2", "E = 1/2 sum (y - t)^2: dE/dy = y - t, the 1/2 cancels the 2",
            _MseHalfSumWith2,
            says_ja="E = 1/2 Σ (y - t)^2 では dE/dy = y - t: 1/2 が 2 と打ち消し合う"),
    Mistake("divided_by_batch_size", "the mean is over all K elements (N x outputs), not over the "
            "batch N: the gradient is 2 (y - t) / K", _MsePerBatch,
            says_ja="平均はバッチ N ではなく全 K 要素（N × 出力数）でとる: 勾配は 2 (y - t) / K"),
    Mistake("course_d_mean_squared_error", "(y - t) / N, as the E資格 course's "
            "d_mean_squared_error, is not the derivative of mean((y - t)^2) over all K elements "
            "(2 (y - t) / K); the two agree only for one output", _MseDeeplearningCourse,
            says_ja="E資格の d_mean_squared_error の (y - t) / N は全 K 要素の mean((y - t)^2) の微分 "
                    "2 (y - t) / K ではない。両者が一致するのは出力が 1 つのときだけ"),
    Mistake("gradient_sign", "2 (t - y) has the wrong sign: d/dy (y - t)^2 = 2 (y - t)",
            _negated(Lo.MSE), says_ja="2 (t - y) は符号が逆: d/dy (y - t)^2 = 2 (y - t)"),
    Mistake("ignores_dout", "backward ignores the upstream gradient dout: multiply by it",
            _ignores_dout(Lo.MSE), says_ja="逆伝播が上流の勾配 dout を無視している: dout を掛ける"),
]


class _L1KinkSign(Lo.L1):
    def backward(self, dout=1.0):
        grad = super().backward(dout)
        # where(d >= 0, 1, -1): +1 at d = 0
        at = self.diff == 0
        return np.where(at, Lo._per_item_upstream(self, dout, self.diff.shape) * np.ones_like(grad), grad)


L1_MISTAKES = _reduction_mistakes(Lo.L1, _diff_size, "K", "K, the number of elements") + [
    Mistake("kink_sign_at_zero", "where y = t the derivative is 0 (PyTorch, np.sign): "
            "where(d >= 0, 1, -1) gives 1 there", _L1KinkSign,
            says_ja="y = t のところの微分は 0（PyTorch、np.sign）: where(d >= 0, 1, -1) ではそこが 1 になる"),
]


class _SmoothL1QuadNoBeta(Lo.SmoothL1):
    def backward(self, dout=1.0):
        d, b = self.diff, self.beta
        local = np.where(np.abs(d) < b, d, np.sign(d))      # d for d / beta
        return local * Lo._per_item_upstream(self, dout, d.shape)


class _SmoothL1AsHuber(Lo.SmoothL1):
    def backward(self, dout=1.0):
        return super().backward(dout) * self.beta


SMOOTH_L1_MISTAKES = [
    Mistake("quadratic_without_beta", "inside |d| < beta the derivative of d^2 / (2 beta) is "
            "d / beta: the 1 / beta is missing", _SmoothL1QuadNoBeta,
            says_ja="|d| < beta の内側で d^2 / (2 beta) の微分は d / beta: 1 / beta が抜けている"),
    Mistake("huber_derivative", "the derivative of Huber (d inside, beta sign(d) outside) is "
            "beta times smooth_l1's: divide by beta", _SmoothL1AsHuber,
            says_ja="Huber の微分（内側で d、外側で beta sign(d)）は smooth_l1 の微分の beta 倍: beta で割る"),
] + _reduction_mistakes(Lo.SmoothL1, _diff_size, "K", "K, the number of elements")[:1]


class _HuberLinearNoDelta(Lo.Huber):
    def backward(self, dout=1.0):
        d, k = self.diff, self.delta
        local = np.where(np.abs(d) < k, d, np.sign(d))
        return local * Lo._per_item_upstream(self, dout, d.shape)


class _HuberAsSmoothL1(Lo.Huber):
    def backward(self, dout=1.0):
        return super().backward(dout) / self.delta


HUBER_MISTAKES = [
    Mistake("linear_without_delta", "outside |d| < delta the derivative of delta (|d| - delta/2) "
            "is delta sign(d): the delta is missing", _HuberLinearNoDelta,
            says_ja="|d| >= delta の外側で delta (|d| - delta/2) の微分は delta sign(d): delta が抜けている"),
    Mistake("smooth_l1_derivative", "smooth_l1's derivative (d / delta inside, sign(d) outside) "
            "is Huber's divided by delta: Huber's is d inside, delta sign(d) outside", _HuberAsSmoothL1,
            says_ja="smooth_l1 の微分（内側 d / delta、外側 sign(d)）は Huber の微分を delta で割ったもの: "
                    "Huber の微分は内側 d、外側 delta sign(d)"),
] + _reduction_mistakes(Lo.Huber, _diff_size, "K", "K, the number of elements")[:1]


class _BceNoClamp(Lo.BCE):
    def backward(self, dout=1.0):
        p, t = self.p, self.t
        with np.errstate(divide="ignore", invalid="ignore"):
            local = (p - t) / (p * (1 - p))
        return local * Lo._per_item_upstream(self, dout, p.shape)


class _BceEpsInLog(Lo.BCE):
    """-(t log(p + 1e-7) + (1 - t) log(1 - p + 1e-7)) and its exact derivative."""

    def forward(self, p, t):
        super().forward(p, t)
        p, t = self.p, self.t
        losses = -(t * np.log(p + 1e-7) + (1 - t) * np.log(1 - p + 1e-7))
        return Lo._reduce(self.reduction, losses)

    def backward(self, dout=1.0):
        p, t = self.p, self.t
        local = -(t / (p + 1e-7) - (1 - t) / (1 - p + 1e-7))
        return local * Lo._per_item_upstream(self, dout, p.shape)


class _BceEpsInDenominator(Lo.BCE):
    def backward(self, dout=1.0):
        local = (self.p - self.t) / (self.p * (1 - self.p) + 1e-7)
        return local * Lo._per_item_upstream(self, dout, self.p.shape)


class _BceLogitGradient(Lo.BCE):
    def backward(self, dout=1.0):
        return (self.p - self.t) * Lo._per_item_upstream(self, dout, self.p.shape)


BCE_MISTAKES = [
    Mistake("gradient_not_clamped", "the gradient (p - t) / (p (1 - p)) without the clamp is "
            "0/0 or x/0 where p = 0 or 1: divide by max(p (1 - p), 1e-12), as PyTorch",
            _BceNoClamp,
            says_ja="クランプなしの勾配 (p - t) / (p (1 - p)) は p = 0 や 1 で 0/0 か x/0 になる: "
                    "PyTorch のように max(p (1 - p), 1e-12) で割る"),
    Mistake("eps_in_log", "1e-7 added inside the logs: -(t log(p + 1e-7) + (1 - t) log(1 - p + "
            "1e-7)) shifts the loss and its gradient by about 1e-7 / p relative; PyTorch's "
            "binary_cross_entropy clamps each log at -100 instead", _BceEpsInLog,
            says_ja="log の中に 1e-7 を足している: -(t log(p + 1e-7) + (1 - t) log(1 - p + 1e-7)) は損失と"
                    "勾配を相対的に約 1e-7 / p ずらす。PyTorch の binary_cross_entropy は代わりに各 log を "
                    "-100 でクランプする"),
    Mistake("eps_in_denominator", "1e-7 added to the denominator, (p - t) / (p (1 - p) + 1e-7), "
            "shifts every gradient by about 1e-7 / (p (1 - p)) relative: PyTorch divides by "
            "max(p (1 - p), 1e-12), which changes nothing inside (0, 1)", _BceEpsInDenominator,
            says_ja="分母に 1e-7 を足した (p - t) / (p (1 - p) + 1e-7) はすべての勾配を相対的に約 "
                    "1e-7 / (p (1 - p)) ずらす: PyTorch は max(p (1 - p), 1e-12) で割り、(0, 1) の内側では何も変えない"),
    Mistake("logit_gradient", "p - t is the gradient with respect to the logit (BCEWithLogits): "
            "with respect to the probability it is (p - t) / (p (1 - p))", _BceLogitGradient,
            says_ja="p - t はロジットについての勾配（BCEWithLogits）: 確率についての勾配は (p - t) / (p (1 - p))"),
    Mistake("gradient_sign", "the gradient has the wrong sign: dl/dp = (p - t) / (p (1 - p))",
            _negated(Lo.BCE), says_ja="勾配の符号が逆: dl/dp = (p - t) / (p (1 - p))"),
] + _reduction_mistakes(Lo.BCE, lambda layer: float(layer.p.size), "K", "K, the number of elements")[:1]


class _BceLogitsNoPosWeight(Lo.BCEWithLogits):
    def backward(self, dout=1.0):
        local = sigmoid(self.x) - self.t
        return local * Lo._per_item_upstream(self, dout, self.x.shape)


class _BceLogitsSigmoidFactor(Lo.BCEWithLogits):
    def backward(self, dout=1.0):
        s = sigmoid(self.x)
        return super().backward(dout) * s * (1 - s)


class _BceLogitsNaiveLog(Lo.BCEWithLogits):
    def forward(self, x, t):
        super().forward(x, t)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            s = 1 / (1 + np.exp(-self.x))
            losses = -(self.w * self.t * np.log(s) + (1 - self.t) * np.log(1 - s))
        return Lo._reduce(self.reduction, losses)


BCE_LOGITS_MISTAKES = [
    Mistake("pos_weight_not_in_gradient", "pos_weight is left out of the gradient: "
            "dl/dx = sigmoid(x) (w t + 1 - t) - w t", _BceLogitsNoPosWeight,
            says_ja="勾配に pos_weight が入っていない: dl/dx = sigmoid(x) (w t + 1 - t) - w t"),
    Mistake("sigmoid_derivative_applied", "the gradient multiplied by sigmoid'(x) = s (1 - s): "
            "on logits the chain rule gives sigmoid(x) - t directly (the s (1 - s) cancels)",
            _BceLogitsSigmoidFactor,
            says_ja="勾配に sigmoid'(x) = s (1 - s) を掛けている: ロジットについては連鎖律でそのまま "
                    "sigmoid(x) - t になる（s (1 - s) は打ち消し合う）"),
    Mistake("log_of_sigmoid", "log(sigmoid(x)) and log(1 - sigmoid(x)) overflow to -inf for "
            "large |x|: write them as -softplus(-x) and -softplus(x)", _BceLogitsNaiveLog,
            says_ja="log(sigmoid(x)) と log(1 - sigmoid(x)) は |x| が大きいと -inf になる: "
                    "-softplus(-x) と -softplus(x) で書く"),
] + _reduction_mistakes(Lo.BCEWithLogits, lambda layer: float(layer.x.size), "K",
                        "K, the number of elements")[:1]


class _NllMeanByN(Lo.NLL):
    def backward(self, dout=1.0):
        grad = super().backward(dout)
        if self.reduction == "mean" and self.denominator > 0:
            return grad * self.denominator / self.q.shape[0]
        return grad


NLL_MISTAKES = _reduction_mistakes(Lo.NLL, lambda layer: float(layer.denominator), "N",
                                   "N (the summed weights of the counted targets)")[:2] + [
    Mistake("mean_over_all_rows", "'mean' divides by the summed class weights of the counted "
            "targets, not by the number of rows N", _NllMeanByN,
            says_ja="'mean' は行数 N ではなく、数える目標のクラス重みの和で割る"),
    Mistake("gradient_sign", "the gradient of -log p is -1 at the target: dL/dlogp = -w [c = t]",
            _negated(Lo.NLL), says_ja="-log p の勾配は目標の位置で -1: dL/dlogp = -w [c = t]"),
]


class _KlMeanAsBatchmean(Lo.KLDiv):
    def backward(self, dout=1.0):
        grad = super().backward(dout)
        return grad * self.p.shape[1] if self.reduction == "mean" and self.p.ndim > 1 else grad


class _KlLogTargetAsProbability(Lo.KLDiv):
    def backward(self, dout=1.0):
        grad = super().backward(dout)
        return grad * np.log(self.p) / self.p if self.log_target else grad   # -target, not -p


KL_MISTAKES = [
    Mistake("mean_as_batchmean", "'mean' averages over every element (N x C), as PyTorch's "
            "default; dividing by N alone is 'batchmean'", _KlMeanAsBatchmean,
            says_ja="'mean' は（PyTorch の既定どおり）全要素 N × C で平均する: N だけで割るのは 'batchmean'"),
    Mistake("log_target_as_probability", "with log_target the target is log p: the gradient is "
            "-exp(target) = -p, not -target", _KlLogTargetAsProbability,
            says_ja="log_target では目標は log p: 勾配は -target ではなく -exp(target) = -p"),
    Mistake("gradient_sign", "the gradient of -p log q is -p: the sign is flipped",
            _negated(Lo.KLDiv), says_ja="-p log q の勾配は -p: 符号が逆"),
]


class _HingeCorrectClassCounted(Lo.MulticlassHinge):
    def forward(self, x, target):
        out = super().forward(x, target)
        per_row = np.full(x.shape[0], self.margin)       # max(0, x_t - x_t + margin) = margin
        return out + Lo._reduce(self.reduction, per_row)


class _HingeDividedByC(Lo.MulticlassHinge):
    def forward(self, x, target):
        return super().forward(x, target) / x.shape[1]

    def backward(self, dout=1.0):
        return super().backward(dout) / self.active.shape[1]


HINGE_MISTAKES = [
    Mistake("correct_class_counted", "the correct class is counted as a margin term: each row "
            "adds max(0, x_t - x_t + margin) = margin; set margins[n, t_n] = 0", _HingeCorrectClassCounted,
            says_ja="正解クラスもマージン項として数えている: 各行に max(0, x_t - x_t + margin) = margin が"
                    "加わる。margins[n, t_n] = 0 とする"),
    Mistake("divided_by_classes", "divided by the number of classes C, as torch's "
            "multi_margin_loss: the CS231n SVM loss sums over the wrong classes without 1/C",
            _HingeDividedByC,
            says_ja="torch の multi_margin_loss のようにクラス数 C で割っている: CS231n の SVM 損失は"
                    "不正解クラスの和で 1/C はない"),
] + _reduction_mistakes(Lo.MulticlassHinge, lambda layer: float(layer.active.shape[0]))[:1]


class _CosineNoProjection(Lo.CosineEmbedding):
    def backward(self, dout=1.0):
        dcos = np.where(self.y == 1, -1.0, (self.cos > self.margin).astype(float))
        dcos = (dcos * np.reshape(Lo._per_item_upstream(self, dout, self.loss_shape), -1))[:, None]
        root = np.sqrt(self.m1 * self.m2)[:, None]          # in the rows scaled by s (see the class)
        shape = self.loss_shape + self.u1.shape[-1:]
        return ((dcos * self.u2 / root / self.s1[:, None]).reshape(shape),   # the - cos x / |x|^2
                (dcos * self.u1 / root / self.s2[:, None]).reshape(shape))   # terms missing


COSINE_MISTAKES = [
    Mistake("norm_derivative_missing", "dcos/dx1 = x2 / (|x1||x2|) - cos x1 / |x1|^2: the "
            "derivative of the norms (the second term) is missing", _CosineNoProjection,
            says_ja="dcos/dx1 = x2 / (|x1||x2|) - cos x1 / |x1|^2: ノルムの微分（第 2 項）が抜けている"),
] + _reduction_mistakes(Lo.CosineEmbedding, lambda layer: float(len(layer.cos)))[:1]


class _CtcMeanWithoutLengths(Lo.CTC):
    def backward(self, dout=1.0):
        grad = super().backward(dout)
        if self.reduction == "mean":
            return grad * np.maximum(self.target_lengths, 1)[:, None, None]
        return grad


CTC_MISTAKES = [
    Mistake("mean_without_target_lengths", "PyTorch's 'mean' divides each sequence's loss by "
            "its target length before the batch mean: the gradient misses the 1 / target length",
            _CtcMeanWithoutLengths,
            says_ja="PyTorch の 'mean' はバッチ平均の前に各系列の損失を目標系列の長さで割る: "
                    "勾配に 1 / 目標の長さ が抜けている"),
] + _reduction_mistakes(Lo.CTC, lambda layer: float(len(layer.input_lengths)))[:1]


SPECS = [
    OpSpec(
        name="softmax_cross_entropy", family="loss", impl="SoftmaxCrossEntropy",
        cases=[
            Case("labels_mean", _logits(4, 3)),
            Case("labels_sum", _logits(4, 3), hparams={"reduction": "sum"}),
            Case("labels_none", _logits(4, 3), hparams={"reduction": "none"}),
            Case("onehot_mean", _logits(5, 4, "onehot"), why="one-hot float targets",
                 why_ja="one-hot の浮動小数点数の目標"),
            Case("probs_mean", _logits(3, 4, "probs"), why="probability targets: 'mean' divides by N",
                 why_ja="確率分布の目標: 'mean' は N で割る"),
            Case("batch1", _logits(1, 5)),
            Case("large_logits", _logits(4, 3, scale=50.0), oracles=("torch", "jax"),
                 why="logits of magnitude ~100 must not overflow; a relative finite-difference "
                     "step of 1e-3 is too coarse there, so torch and jax check it",
                 why_ja=("大きさ ~100 のロジットでもオーバーフローしてはならない。"
                         "そこでは相対 1e-3 の数値微分の刻み幅は粗すぎるので、torch と jax で検証する")),
            Case("weights_mean", _logits(5, 3), hparams={"weight": CLASS_WEIGHTS},
                 why="class weights: 'mean' divides by the summed weights of the targets, not N",
                 why_ja="クラス重み: 'mean' は N ではなく目標のクラス重みの和で割る"),
            Case("weights_sum", _logits(5, 3), hparams={"weight": CLASS_WEIGHTS, "reduction": "sum"}),
            Case("weights_none", _logits(5, 3), hparams={"weight": CLASS_WEIGHTS, "reduction": "none"}),
            Case("ignore_mean", _logits(5, 3, ignored=(1, 3)),
                 why="rows labelled ignore_index count neither in the sum nor in the denominator",
                 why_ja="ラベルが ignore_index の行は和にも分母にも数えない"),
            Case("ignore_weights_mean", _logits(5, 3, ignored=(0,)), hparams={"weight": CLASS_WEIGHTS}),
            Case("all_ignored", _logits(5, 3, ignored=range(5)), oracles=("torch", "jax"),
                 why="no counted target: 'mean' is 0/0 = NaN as in PyTorch, with a zero gradient; "
                     "finite differences of a NaN loss are meaningless",
                 why_ja=("数える目標がない: 'mean' は PyTorch と同じく 0/0 = NaN で、勾配は 0。"
                         "NaN の損失の数値微分は意味をもたない")),
            Case("smoothing_mean", _logits(5, 3), hparams={"label_smoothing": 0.1}),
            Case("smoothing_weights_ignore", _logits(5, 3, ignored=(2,)),
                 hparams={"label_smoothing": 0.2, "weight": CLASS_WEIGHTS},
                 why="smoothing with weights: both terms share the denominator sum of w_{t_n}",
                 why_ja="重み付きのラベル平滑化: 両方の項が分母 w_{t_n} の和を共有する"),
            Case("probs_weights_smoothing", _logits(5, 3, "probs"),
                 hparams={"label_smoothing": 0.2, "weight": CLASS_WEIGHTS},
                 why="probability targets: weighted, smoothed, and 'mean' still divides by N",
                 why_ja="確率分布の目標: 重み付きで平滑化しても 'mean' は N で割る"),
            Case("probs_none", _logits(5, 3, "probs"), hparams={"reduction": "none"}),
            Case("spatial", _spatial_logits((2, 3, 2, 2)), hparams={"weight": CLASS_WEIGHTS},
                 why="x (N, C, H, W) with labels (N, H, W): every pixel is a row of C classes",
                 why_ja="x (N, C, H, W) とラベル (N, H, W): 各画素が C クラスの 1 行になる"),
            Case("spatial_none", _spatial_logits((2, 3, 4)), hparams={"reduction": "none"},
                 why="x (N, C, L): the unreduced loss has shape (N, L)",
                 why_ja="x (N, C, L): 集約しない損失の形は (N, L)"),
            Case("unbatched", _spatial_logits((4,)), why="one sample: x (C,) and a 0-d class index",
                 why_ja="1 サンプル: x (C,) と 0 次元のクラス番号"),
            Case("negative_weights", _logits(5, 3), hparams={"weight": NEGATIVE_WEIGHTS},
                 why="weights summing to a negative denominator: PyTorch divides by it all the "
                     "same (a finite loss, not NaN)",
                 why_ja="重みの和が負の分母になる: PyTorch はそれでもその値で割る（NaN ではなく有限の損失）"),
            Case("neg_inf_logit", _neg_inf_logits, oracles=("torch", "jax"),
                 why="a logit of -inf outside the target: its term is 0 log 0 = 0, not NaN "
                     "(finite differences cannot step off -inf)",
                 why_ja=("目標以外のクラスに -inf のロジット: その項は NaN ではなく 0 log 0 = 0（数値微分は -inf か"
                         "ら刻めない）")),
        ],
        torch=_torch_cross_entropy,
        jax=_jax_rows(_jax_cross_entropy, "x"),
        formulas={"forward": r"L = -\frac{1}{D}\sum_{n}\sum_{c} q_{nc} \log y_{nc},\quad "
                             r"y_{nc} = \frac{e^{x_{nc}}}{\sum_k e^{x_{nk}}},\quad "
                             r"q_{nc} = w_c\left((1 - \varepsilon)\, t_{nc} + \frac{\varepsilon}{C}\right),\quad "
                             r"D = \sum_{n \text{ counted}} w_{t_n} \ (N \text{ for distributions})",
                  "backward": r"\frac{\partial L}{\partial x_{nc}} = \frac{1}{D}\left(y_{nc} \sum_k q_{nk} - q_{nc}\right)"
                              r"\quad (= \tfrac{1}{N}(y_{nc} - t_{nc}) \text{ unweighted})"},
        convention="PyTorch's cross_entropy. Targets are class indices or distributions (one-hot or "
                   "probabilities). With class indices, 'mean' divides by the summed class weights of the "
                   "targets that are not ignore_index (N without weights); with distributions it divides "
                   "by N. Label smoothing eps replaces the target by (1 - eps) T + eps / C and shares the "
                   "same denominator. A batch whose every label is ignore_index has no counted target: "
                   "'mean' is NaN (0/0, as PyTorch) and the gradient is 0; 'sum' is 0.",
        convention_ja="PyTorch の cross_entropy。目標はクラス番号か分布（one-hot または確率）。クラス番号のとき、"
                      "'mean' は ignore_index でない目標のクラス重みの和で割る（重みがなければ N）。分布のときは "
                      "N で割る。ラベル平滑化 eps は目標を (1 - eps) T + eps / C に置き換え、分母は同じ。"
                      "すべてのラベルが ignore_index のバッチには数える目標がない: 'mean' は NaN（PyTorch と"
                      "同じく 0/0）で勾配は 0、'sum' は 0。",
        hints=batch_hint("x"),
        mistakes=SOFTMAX_CE_MISTAKES,
    ),
    OpSpec(
        name="mse", family="loss", impl="MSE",
        cases=[
            Case("mean", _pair(4, 3)),
            Case("sum", _pair(4, 3), hparams={"reduction": "sum"}),
            Case("none", _pair(4, 3), hparams={"reduction": "none"}),
            Case("half_sum", _pair(4, 3), hparams={"reduction": "half_sum"},
                 why="the lecture notes' E = 1/2 sum (y - t)^2",
                 why_ja="講義ノートの E = 1/2 sum (y - t)^2"),
            Case("vector", _pair(6), why="a single vector of outputs",
                 why_ja="出力のベクトル 1 本"),
            Case("target_grad", _pair_with_target(4, 3), hparams={"target_grad": True},
                 why="the target as a differentiable input (PyTorch gives its gradient): dL/dt = -dL/dy",
                 why_ja=TARGET_GRAD_JA + "dL/dt = -dL/dy（PyTorch はその勾配を返す）"),
        ],
        torch=_target_input(_torch_mse),
        jax=_target_input(_jax_mse),
        formulas={"forward": r"L = \frac{1}{K}\sum_k (y_k - t_k)^2 \quad\text{or}\quad E = \frac{1}{2}\sum_k (y_k - t_k)^2",
                  "backward": r"\frac{\partial L}{\partial y_k} = \frac{2}{K}(y_k - t_k) \quad\text{or}\quad "
                              r"\frac{\partial E}{\partial y_k} = y_k - t_k"},
        convention="reduction='mean' is PyTorch's mse_loss (mean over all K elements); "
                   "'half_sum' is the seeds' E = 1/2 sum (y - t)^2.",
        convention_ja="reduction='mean' は PyTorch の mse_loss（全 K 要素の平均）。'half_sum' は講義ノート"
                      "（seeds）の E = 1/2 sum (y - t)^2。",
        hints=lambda d, hp: {"batch_size": d.inputs["y"].shape[0]},
        mistakes=MSE_MISTAKES,
    ),
    OpSpec(
        name="l1", family="loss", impl="L1",
        cases=ELEMENTWISE_PAIRS + [
            Case("equal", _pair_equal_at(4, 3), oracles=("torch", "jax"), why=EQUAL_WHY, why_ja=EQUAL_WHY_JA),
            Case("target_grad", _pair_with_target(4, 3), hparams={"target_grad": True},
                 why="the target as a differentiable input: dL/dt = -sign(y - t) / K",
                 why_ja=TARGET_GRAD_JA + "dL/dt = -sign(y - t) / K")],
        torch=_target_input(lambda a, e, hp: F.l1_loss(a["y"], e["t"], reduction=_reduction(hp))),
        # jax.grad(jnp.abs)(0.) is 1, torch's is 0: |d| is written d sign(d), whose autodiff
        # gives 0 at d = 0 (sign' = 0), so that jax checks the convention the answer key follows
        jax=_target_input(lambda a, e, hp: _jax_reduce((a["y"] - e["t"]) * jnp.sign(a["y"] - e["t"]), hp)),
        formulas={"forward": r"L = \frac{1}{K}\sum_k |y_k - t_k|",
                  "backward": r"\frac{\partial L}{\partial y_k} = \frac{1}{K}\,\mathrm{sign}(y_k - t_k)"},
        convention="PyTorch's l1_loss: 'mean' over all K elements; the derivative at y = t is 0, as "
                   "torch (jax's autodiff of jnp.abs gives 1 there; its witness computes |d| as d sign(d)).",
        convention_ja="PyTorch の l1_loss: 'mean' は全 K 要素の平均。y = t での微分は torch と同じく 0"
                      "（jax の jnp.abs の自動微分はそこで 1 を返すので、jax の検証器は |d| を d sign(d) として"
                      "計算する）。",
        hints=batch_hint("y"),
        mistakes=L1_MISTAKES,
    ),
    OpSpec(
        name="smooth_l1", family="loss", impl="SmoothL1",
        cases=ELEMENTWISE_PAIRS + [
            Case("beta_half", _pair(4, 3), hparams={"beta": 0.5}),
            Case("beta_two_sum", _pair(4, 3), hparams={"beta": 2.0, "reduction": "sum"}),
            Case("equal", _pair_equal_at(4, 3), oracles=("torch", "jax"),
                 why="the target equals the prediction at three elements. smooth_l1 is smooth "
                     "there (quadratic for |d| < beta), but the case keeps l1's edge case next to "
                     "it; the kinkless gradient 0 is checked by torch and jax",
                 why_ja=("3 つの要素で目標が予測に等しい。smooth_l1 はそこでは滑らか（|d| < beta で 2 次）だが、"
                         "l1 の境界ケースと並べて残している。折れ点のない勾配 0 は torch と jax で検証する")),
            Case("beta0", _pair(4, 3), hparams={"beta": 0.0}, why="beta = 0 is L1, as PyTorch",
                 why_ja="PyTorch と同じく beta = 0 は L1"),
            Case("target_grad", _pair_with_target(4, 3), hparams={"target_grad": True},
                 why="the target as a differentiable input: dL/dt = -dL/dy",
                 why_ja=TARGET_GRAD_JA + "dL/dt = -dL/dy"),
        ],
        torch=_target_input(lambda a, e, hp: F.smooth_l1_loss(a["y"], e["t"], beta=hp.get("beta", 1.0),
                                                               reduction=_reduction(hp))),
        # smooth_l1 with beta is huber with delta = beta, divided by beta: optax's huber_loss
        # (beta = 0 is l1, written d sign(d) as for l1)
        jax=_target_input(lambda a, e, hp: _jax_reduce(
            (a["y"] - e["t"]) * jnp.sign(a["y"] - e["t"]) if hp.get("beta", 1.0) == 0 else
            optax.huber_loss(a["y"], e["t"], delta=hp.get("beta", 1.0)) / hp.get("beta", 1.0), hp)),
        formulas={"forward": r"\ell(d) = \begin{cases} d^2 / (2\beta) & |d| < \beta \\ "
                             r"|d| - \beta/2 & \text{otherwise}\end{cases},\quad d = y - t",
                  "backward": r"\ell'(d) = \begin{cases} d / \beta & |d| < \beta \\ "
                              r"\mathrm{sign}(d) & \text{otherwise}\end{cases}"},
        convention="PyTorch's smooth_l1_loss (beta = 1 by default); it equals huber(delta = beta) / beta, "
                   "which is how optax's huber_loss serves as the jax witness.",
        convention_ja="PyTorch の smooth_l1_loss（既定は beta = 1）。huber(delta = beta) / beta に等しく、"
                      "そのため optax の huber_loss を jax の検証器に使える。",
        hints=batch_hint("y"),
        mistakes=SMOOTH_L1_MISTAKES,
    ),
    OpSpec(
        name="huber", family="loss", impl="Huber",
        cases=ELEMENTWISE_PAIRS + [
            Case("delta_half", _pair(4, 3), hparams={"delta": 0.5}),
            Case("delta_two_none", _pair(4, 3), hparams={"delta": 2.0, "reduction": "none"}),
            Case("target_grad", _pair_with_target(4, 3), hparams={"target_grad": True},
                 why="the target as a differentiable input: dL/dt = -dL/dy",
                 why_ja=TARGET_GRAD_JA + "dL/dt = -dL/dy"),
        ],
        torch=_target_input(lambda a, e, hp: F.huber_loss(a["y"], e["t"], delta=hp.get("delta", 1.0),
                                                          reduction=_reduction(hp))),
        jax=_target_input(lambda a, e, hp: _jax_reduce(
            optax.huber_loss(a["y"], e["t"], delta=hp.get("delta", 1.0)), hp)),
        formulas={"forward": r"\ell(d) = \begin{cases} d^2 / 2 & |d| < \delta \\ "
                             r"\delta (|d| - \delta/2) & \text{otherwise}\end{cases}",
                  "backward": r"\ell'(d) = \begin{cases} d & |d| < \delta \\ "
                              r"\delta\,\mathrm{sign}(d) & \text{otherwise}\end{cases}"},
        convention="PyTorch's huber_loss and optax.huber_loss (which never reduces; the spec reduces).",
        convention_ja="PyTorch の huber_loss と optax.huber_loss（optax は集約しないので、集約は spec が行う）。",
        hints=batch_hint("y"),
        mistakes=HUBER_MISTAKES,
    ),
    OpSpec(
        name="bce", family="loss", impl="BCE",
        cases=[
            Case("mean", _probabilities(4, 3)),
            Case("sum", _probabilities(4, 3), hparams={"reduction": "sum"}),
            Case("none", _probabilities(4, 3), hparams={"reduction": "none"}),
            Case("hard_targets", _probabilities(6, soft=False)),
            Case("saturated", _saturated_probabilities, hparams={"reduction": "none"},
                 oracles=("torch",),
                 why="p exactly 0 and 1: PyTorch clamps each log at -100 (the loss is at most 100) "
                     "and its gradient is (p - t) / max(p (1 - p), 1e-12), +-1e12 where p contradicts "
                     "t. That is PyTorch's convention, which the answer key follows; jax's autodiff "
                     "of the clamped log gives NaN there and finite differences would leave [0, 1]",
                 why_ja=("p がちょうど 0 と 1: PyTorch は各 log を -100 でクランプし（損失は最大 100）、"
                         "勾配は (p - t) / max(p (1 - p), 1e-12) で、p が t と食い違うところでは +-1e12 になる。"
                         "これは PyTorch の規約で、模範解答もそれに従う。クランプした log の jax の自動微分はそこで "
                         "NaN になり、数値微分は [0, 1] の外に出てしまう")),
            Case("weight", _probabilities(4, 3), hparams={"weight": (0.5, 2.0, 1.0)},
                 why="a weight per element (here one per column, broadcast), as PyTorch's `weight`",
                 why_ja="PyTorch の `weight` と同じく要素ごとの重み（ここでは列ごとに 1 つをブロードキャスト）"),
            Case("target_grad", _probabilities_with_target(4, 3), hparams={"target_grad": True},
                 why="the target as a differentiable input: dl/dt = log(1 - p) - log p",
                 why_ja=TARGET_GRAD_JA + "dl/dt = log(1 - p) - log p"),
        ],
        torch=_target_input(lambda a, e, hp: F.binary_cross_entropy(
            a["p"], e["t"], weight=_torch_constant(hp.get("weight"), a["p"]), reduction=_reduction(hp))),
        jax=_target_input(_jax_bce),
        formulas={"forward": r"\ell = -\left(t \max(\log p, -100) + (1 - t)\max(\log(1 - p), -100)\right)",
                  "backward": r"\frac{\partial \ell}{\partial p} = \frac{p - t}{\max(p(1 - p), 10^{-12})}"},
        convention="PyTorch's binary_cross_entropy on probabilities: logs clamped at -100, the gradient's "
                   "denominator at 1e-12; 'mean' over all elements.",
        convention_ja="確率に対する PyTorch の binary_cross_entropy: log は -100 で、勾配の分母は 1e-12 で"
                      "クランプする。'mean' は全要素の平均。",
        hints=batch_hint("p"),
        mistakes=BCE_MISTAKES,
    ),
    OpSpec(
        name="bce_with_logits", family="loss", impl="BCEWithLogits",
        cases=[
            Case("mean", _logit_pairs(4, 3)),
            Case("sum", _logit_pairs(4, 3), hparams={"reduction": "sum"}),
            Case("none", _logit_pairs(4, 3), hparams={"reduction": "none"}),
            Case("logits_100", _logit_pairs(3, 4, scale=20.0, extreme=True), hparams={"reduction": "none"},
                 why="logits of magnitude 100 with both targets: no overflow, no log(0)",
                 why_ja="大きさ 100 のロジットと両方の目標: オーバーフローも log(0) も起きない"),
            Case("hard_targets", _logit_pairs(4, 3, hard=True), why="0/1 targets (the books' SigmoidWithLoss)",
                 why_ja="0/1 の目標（本の SigmoidWithLoss）"),
            Case("hard_targets_sum", _logit_pairs(4, 3, hard=True), hparams={"reduction": "sum"},
                 why="0/1 targets, reduction='sum'",
                 why_ja="0/1 の目標、reduction='sum'"),
            Case("pos_weight", _logit_pairs(4, 3), hparams={"pos_weight": (3.0, 0.5, 1.0)},
                 why="pos_weight weighs the positive term per class (the last axis)",
                 why_ja="pos_weight はクラス（最後の軸）ごとに正例の項に重みを掛ける"),
            Case("pos_weight_logits_100", _logit_pairs(3, 4, scale=20.0, extreme=True),
                 hparams={"pos_weight": (2.0, 0.25, 1.0, 4.0), "reduction": "sum"}),
            Case("weight", _logit_pairs(4, 3), hparams={"weight": (0.5, 2.0, 1.0), "pos_weight": (3.0, 0.5, 1.0)},
                 why="a weight per element (one per column, broadcast) on top of pos_weight",
                 why_ja="pos_weight に加えて要素ごとの重み（列ごとに 1 つをブロードキャスト）"),
            Case("target_grad", _logits_with_target(4, 3), hparams={"target_grad": True},
                 why="the target as a differentiable input: dl/dt = softplus(-x) - softplus(x) = -x",
                 why_ja=TARGET_GRAD_JA + "dl/dt = softplus(-x) - softplus(x) = -x"),
            Case("target_grad_pos_weight", _logits_with_target(4, 3),
                 hparams={"target_grad": True, "pos_weight": (3.0, 0.5, 1.0)},
                 why="the target differentiable with pos_weight w: dl/dt = w softplus(-x) - softplus(x)",
                 why_ja=TARGET_GRAD_JA + "pos_weight w つき: dl/dt = w softplus(-x) - softplus(x)"),
        ],
        torch=_target_input(lambda a, e, hp: F.binary_cross_entropy_with_logits(
            a["x"], e["t"], weight=_torch_constant(hp.get("weight"), a["x"]),
            pos_weight=_torch_constant(hp.get("pos_weight"), a["x"]), reduction=_reduction(hp))),
        jax=_target_input(_jax_bce_with_logits),
        formulas={"forward": r"\ell = w\, t\, \mathrm{softplus}(-x) + (1 - t)\, \mathrm{softplus}(x)",
                  "backward": r"\frac{\partial \ell}{\partial x} = \sigma(x)\,(w t + 1 - t) - w t "
                              r"\quad (= \sigma(x) - t \text{ for } w = 1)"},
        convention="PyTorch's binary_cross_entropy_with_logits, pos_weight w per class (the last axis). "
                   "The jax witness is optax.sigmoid_binary_cross_entropy (unreduced) without pos_weight, "
                   "which optax lacks, and jax.nn.softplus with it.",
        convention_ja="PyTorch の binary_cross_entropy_with_logits、pos_weight w はクラス（最後の軸）ごと。"
                      "jax の検証器は、pos_weight なしでは optax.sigmoid_binary_cross_entropy（集約なし）、"
                      "pos_weight ありでは（optax にはないので）jax.nn.softplus を使う。",
        hints=batch_hint("x"),
        mistakes=BCE_LOGITS_MISTAKES,
    ),
    OpSpec(
        name="nll", family="loss", impl="NLL",
        cases=[
            Case("mean", _log_probabilities(5, 3)),
            Case("sum", _log_probabilities(5, 3), hparams={"reduction": "sum"}),
            Case("none", _log_probabilities(5, 3), hparams={"reduction": "none"}),
            Case("weights_ignore_mean", _log_probabilities(5, 3, ignored=(1,)),
                 hparams={"weight": CLASS_WEIGHTS},
                 why="'mean' divides by the summed weights of the counted targets",
                 why_ja="'mean' は数える目標の重みの和で割る"),
            Case("all_ignored", _log_probabilities(5, 3, ignored=range(5)), oracles=("torch", "jax"),
                 why="no counted target: 'mean' is NaN (0/0, as PyTorch) with a zero gradient; "
                     "finite differences of a NaN loss are meaningless",
                 why_ja=("数える目標がない: 'mean' は NaN（PyTorch と同じく 0/0）で、勾配は 0。"
                         "NaN の損失の数値微分は意味をもたない")),
            Case("spatial", _spatial_logits((2, 3, 2, 2), log=True), hparams={"weight": CLASS_WEIGHTS},
                 why="logp (N, C, H, W) with labels (N, H, W)",
                 why_ja="logp (N, C, H, W) とラベル (N, H, W)"),
            Case("unbatched_none", _spatial_logits((4,), log=True), hparams={"reduction": "none"},
                 why="one sample: logp (C,) and a 0-d class index; the loss is 0-d",
                 why_ja="1 サンプル: logp (C,) と 0 次元のクラス番号。損失は 0 次元"),
            Case("negative_weights", _log_probabilities(5, 3), hparams={"weight": NEGATIVE_WEIGHTS},
                 why="a negative denominator: PyTorch divides by it all the same",
                 why_ja="負の分母: PyTorch はそれでもその値で割る"),
        ],
        torch=lambda a, e, hp: F.nll_loss(a["logp"], e["target"], weight=_torch_constant(hp.get("weight"), a["logp"]),
                                          ignore_index=hp.get("ignore_index", IGNORE),
                                          reduction=_reduction(hp)),
        jax=_jax_rows(_jax_nll, "logp"),
        formulas={"forward": r"L = -\frac{\sum_n w_{t_n} \log p_{n,t_n}}{\sum_n w_{t_n}}",
                  "backward": r"\frac{\partial L}{\partial \log p_{nc}} = -\frac{w_{t_n} [c = t_n]}{\sum_m w_{t_m}}"},
        convention="PyTorch's nll_loss on log-probabilities: 'mean' divides by the summed class weights of "
                   "the targets that are not ignore_index; none counted gives NaN and a zero gradient.",
        convention_ja="対数確率に対する PyTorch の nll_loss: 'mean' は ignore_index でない目標のクラス重みの和で"
                      "割る。数える目標がなければ NaN で、勾配は 0。",
        hints=batch_hint("logp"),
        mistakes=NLL_MISTAKES,
    ),
    OpSpec(
        name="kl_div", family="loss", impl="KLDiv",
        cases=[
            Case("mean", _kl_pair(4, 3)),
            Case("batchmean", _kl_pair(4, 3), hparams={"reduction": "batchmean"},
                 why="the true KL divergence per sample (PyTorch recommends it)",
                 why_ja="サンプルあたりの本来の KL ダイバージェンス（PyTorch が推奨する）"),
            Case("sum", _kl_pair(4, 3), hparams={"reduction": "sum"}),
            Case("none_zero_targets", _kl_pair(4, 3, zeros=((0, 1), (2, 0))), hparams={"reduction": "none"},
                 why="target entries exactly 0: 0 log 0 = 0",
                 why_ja="目標の要素がちょうど 0: 0 log 0 = 0"),
            Case("log_target", _kl_pair(4, 3, log_target=True),
                 hparams={"reduction": "batchmean", "log_target": True}),
            Case("target_grad", _kl_with_target(4, 3), hparams={"target_grad": True, "reduction": "sum"},
                 why="the target as a differentiable input: dl/dp = log p + 1 - log q",
                 why_ja=TARGET_GRAD_JA + "dl/dp = log p + 1 - log q"),
            Case("target_grad_log", _kl_with_target(4, 3, log_target=True),
                 hparams={"target_grad": True, "log_target": True},
                 why="log_target: dl/dt = e^t (t - log q + 1)",
                 why_ja="log_target のとき: dl/dt = e^t (t - log q + 1)"),
            Case("batchmean_0d", lambda rng: CaseData(inputs={"logq": np.array(-0.7)},
                                                      extra={"target": np.array(0.4)}),
                 hparams={"reduction": "batchmean"},
                 why="a 0-d input has no batch axis: batchmean is the sum, as PyTorch",
                 why_ja="0 次元の入力にはバッチ軸がない: PyTorch と同じく batchmean は和になる"),
        ],
        torch=_target_input(_torch_kl_div, "target"),
        jax=_target_input(_jax_kl_div, "target"),
        formulas={"forward": r"\ell_{nc} = p_{nc}\left(\log p_{nc} - \log q_{nc}\right)",
                  "backward": r"\frac{\partial \ell_{nc}}{\partial \log q_{nc}} = -p_{nc}"},
        convention="PyTorch's kl_div(input = log q, target = p): 'mean' averages over all elements "
                   "(PyTorch's default, which it warns about), 'batchmean' divides the sum by N.",
        convention_ja="PyTorch の kl_div(input = log q, target = p): 'mean' は全要素で平均し（PyTorch の既定で、"
                      "PyTorch 自身が警告を出す）、'batchmean' は和を N で割る。",
        hints=batch_hint("logq"),
        mistakes=KL_MISTAKES,
    ),
    OpSpec(
        name="hinge", family="loss", impl="MulticlassHinge",
        cases=[
            Case("mean", _scores(5, 4)),
            Case("sum", _scores(5, 4), hparams={"reduction": "sum"}),
            Case("none", _scores(5, 4), hparams={"reduction": "none"}),
            Case("margin_half", _scores(5, 4), hparams={"margin": 0.5}),
        ],
        torch=_torch_hinge,
        jax=_jax_hinge,
        formulas={"forward": r"L_n = \sum_{c \ne t_n} \max(0,\, x_{nc} - x_{n t_n} + \Delta)",
                  "backward": r"\frac{\partial L_n}{\partial x_{nc}} = [x_{nc} - x_{n t_n} + \Delta > 0],\quad "
                              r"\frac{\partial L_n}{\partial x_{n t_n}} = -\sum_{c \ne t_n} [x_{nc} - x_{n t_n} + \Delta > 0]"},
        convention="The multi-class SVM loss of CS231n (sum over the wrong classes, 'mean' over the batch). "
                   "torch's multi_margin_loss divides each L_n by the number of classes C; the torch "
                   "witness multiplies it back by C.",
        convention_ja="CS231n の多クラス SVM 損失（不正解クラスについて和をとり、バッチについて 'mean'）。torch の "
                      "multi_margin_loss は各 L_n をクラス数 C で割るので、torch の検証器は C を掛けて戻す。",
        hints=batch_hint("x"),
        mistakes=HINGE_MISTAKES,
    ),
    OpSpec(
        name="cosine_embedding", family="loss", impl="CosineEmbedding",
        cases=[
            Case("mean", _cosine_pairs(5, 4)),
            Case("sum", _cosine_pairs(5, 4), hparams={"reduction": "sum"}),
            Case("none", _cosine_pairs(5, 4), hparams={"reduction": "none"}),
            Case("margin", _cosine_pairs(5, 4), hparams={"margin": -0.2},
                 why="a negative margin makes more dissimilar pairs count",
                 why_ja="負のマージンでは、より似ていないペアまで損失に数える"),
            Case("unbatched", lambda rng: CaseData(inputs={"x1": normal(rng, 4), "x2": normal(rng, 4)},
                                                   extra={"y": np.array(-1.0)}),
                 hparams={"margin": -0.5, "reduction": "none"},
                 why="one pair of vectors (D,) and a 0-d label: a 0-d loss",
                 why_ja="ベクトル (D,) のペア 1 組と 0 次元のラベル: 損失は 0 次元"),
        ],
        torch=lambda a, e, hp: F.cosine_embedding_loss(a["x1"], a["x2"], e["y"], margin=hp.get("margin", 0.0),
                                                       reduction=_reduction(hp)),
        jax=_jax_cosine_embedding,
        formulas={"forward": r"L_n = \begin{cases} 1 - \cos(x_{1n}, x_{2n}) & y_n = 1 \\ "
                             r"\max(0, \cos(x_{1n}, x_{2n}) - m) & y_n = -1 \end{cases}",
                  "backward": r"\frac{\partial \cos}{\partial x_1} = \frac{x_2}{|x_1||x_2|} - "
                              r"\cos \frac{x_1}{|x_1|^2}"},
        convention="PyTorch's cosine_embedding_loss, which adds 1e-12 to each squared norm; labels are 1 or -1.",
        convention_ja="PyTorch の cosine_embedding_loss（各ノルムの二乗に 1e-12 を足す）。ラベルは 1 か -1。",
        hints=batch_hint("x1"),
        mistakes=COSINE_MISTAKES,
    ),
    OpSpec(
        name="ctc", family="loss", impl="CTC",
        cases=[
            Case("mean", _ctc_batch((3, 6, 4), **CTC_TARGETS),
                 why="a repeated label (2 2), a shorter input and target, a single-label target",
                 why_ja="繰り返すラベル (2 2)、より短い入力と目標、ラベル 1 つだけの目標"),
            Case("sum", _ctc_batch((3, 6, 4), **CTC_TARGETS), hparams={"reduction": "sum"}),
            Case("none", _ctc_batch((3, 6, 4), **CTC_TARGETS), hparams={"reduction": "none"}),
            Case("tight_repeats", _ctc_batch((2, 5, 3), [[1, 1, 1], [2, 1, 2]], [5, 5], [3, 3]),
                 hparams={"reduction": "none"},
                 why="1 1 1 in 5 frames: the only alignment puts a blank between each repeat",
                 why_ja="5 フレームに 1 1 1: ありうるアラインメントは繰り返しの間ごとに blank を置くものだけ"),
            Case("blank_last", _ctc_batch((3, 6, 4), [[0, 1, 1], [2, 0, 0], [1, 2, 0]], [6, 6, 4], [3, 1, 2]),
                 hparams={"blank": 3}, why="the blank is the last class, not 0",
                 why_ja="blank は 0 ではなく最後のクラス"),
            Case("impossible", _ctc_batch((2, 4, 4), **IMPOSSIBLE), hparams={"reduction": "none"},
                 oracles=("torch",), why=IMPOSSIBLE_WHY,
                 why_ja=IMPOSSIBLE_WHY_JA),
            Case("impossible_zero_infinity", _ctc_batch((2, 4, 4), **IMPOSSIBLE),
                 hparams={"reduction": "mean", "zero_infinity": True}, oracles=("torch",), why=IMPOSSIBLE_WHY,
                 why_ja=IMPOSSIBLE_WHY_JA),
            Case("concatenated_targets", _ctc_batch((3, 6, 4), [1, 2, 2, 3, 1, 1], [6, 5, 6], [3, 2, 1]),
                 why="1-D targets: the label sequences one after another (sum of target_lengths)",
                 why_ja="1 次元の目標: ラベル系列を順につなげたもの（長さは target_lengths の和）"),
            Case("unbatched", _ctc_batch((6, 4), [1, 2, 2], 6, 3), hparams={"reduction": "sum"},
                 why="one sequence: logits (T, C), targets (S,), 0-d lengths",
                 why_ja="系列 1 本: logits (T, C)、targets (S,)、0 次元の長さ"),
        ],
        torch=_torch_ctc,
        jax=_jax_ctc,
        formulas={"forward": r"\alpha_t(s) = \left(\alpha_{t-1}(s) + \alpha_{t-1}(s-1) + "
                             r"[l'_s \ne l'_{s-2}]\,\alpha_{t-1}(s-2)\right) y_t(l'_s),\quad "
                             r"L = -\log\left(\alpha_{T-1}(|l'|-1) + \alpha_{T-1}(|l'|-2)\right)",
                  "backward": r"\frac{\partial L}{\partial a_{tc}} = y_t(c) - \frac{1}{p(l|x)}"
                              r"\sum_{s: l'_s = c} \alpha_t(s)\beta_t(s)"},
        convention="Graves' CTC on logits (N, T, C); the answer key applies log_softmax itself, as "
                   "optax.ctc_loss does, and the torch witness feeds log_softmax(logits) transposed to "
                   "(T, N, C). 'mean' as PyTorch: each loss divided by its target length, then the batch "
                   "mean (optax never reduces; the spec reduces). An impossible alignment gives inf and a "
                   "NaN gradient, or 0 and 0 with zero_infinity=True (PyTorch).",
        convention_ja="ロジット (N, T, C) に対する Graves の CTC。模範解答は optax.ctc_loss と同じく自分で "
                      "log_softmax を適用し、torch の検証器は log_softmax(logits) を (T, N, C) に転置して渡す。"
                      "'mean' は PyTorch と同じ: 各損失を目標の長さで割ってからバッチで平均する（optax は集約"
                      "しないので、集約は spec が行う）。不可能なアラインメントは inf と NaN の勾配になり、"
                      "zero_infinity=True なら 0 と 0（PyTorch）。",
        hints=batch_hint("logits"),
        mistakes=CTC_MISTAKES,
    ),
]