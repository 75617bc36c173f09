"""Losses: the gradient of the prediction, for every reduction."""
import numpy as np

from ..frameworks import F, jax, jnn, jnp, optax, torch
from ..spec import Case, CaseData, OpSpec
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


def _reduce(losses, reduction, xp_sum, denominator=None):
    if reduction == "none":
        return losses
    total = xp_sum(losses)
    return total / (losses.shape[0] if denominator is None else denominator) \
        if reduction == "mean" else total


def _jax_safe_mean(total, denominator):
    """total / denominator, NaN when the denominator is 0 (nothing counted), with a zero
    gradient there: the inner where keeps the division's own gradient finite."""
    counted = denominator > 0
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
    losses = -(q * jnn.log_softmax(a["x"], axis=-1)).sum(axis=-1)
    reduction = hp.get("reduction", "mean")
    if reduction == "mean":
        return _jax_safe_mean(losses.sum(), denominator)
    return _reduce(losses, reduction, jnp.sum)


def _torch_weight(hp, x):
    w = hp.get("weight")
    return None if w is None else torch.tensor(w, dtype=x.dtype, device=x.device)


def _torch_cross_entropy(a, e, hp):
    x = a["x"]
    return F.cross_entropy(x, e["target"], weight=_torch_weight(hp, x),
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


SPECS = [
    OpSpec(
        name="softmax_cross_entropy", family="loss", impl="SoftmaxCrossEntropy",
        cases=[
            Case("labels_mean", _logits(4, 3)),
            Case("labels_sum", _logits(4, 3), hparams={"reduction": "sum"}),
            Case("labels_none", _logits(4, 3), hparams={"reduction": "none"}),
            Case("onehot_mean", _logits(5, 4, "onehot"), why="one-hot float targets"),
            Case("probs_mean", _logits(3, 4, "probs"), why="probability targets: 'mean' divides by N"),
            Case("batch1", _logits(1, 5)),
            Case("large_logits", _logits(4, 3, scale=50.0), oracles=("torch", "jax"),
                 why="logits of magnitude ~100 must not overflow; a relative finite-difference "
                     "step of 1e-3 is too coarse there, so torch and jax check it"),
            Case("weights_mean", _logits(5, 3), hparams={"weight": CLASS_WEIGHTS},
                 why="class weights: 'mean' divides by the summed weights of the targets, not N"),
            Case("weights_sum", _logits(5, 3), hparams={"weight": CLASS_WEIGHTS, "reduction": "sum"}),
            Case("weights_none", _logits(5, 3), hparams={"weight": CLASS_WEIGHTS, "reduction": "none"}),
            Case("ignore_mean", _logits(5, 3, ignored=(1, 3)),
                 why="rows labelled ignore_index count neither in the sum nor in the denominator"),
            Case("ignore_weights_mean", _logits(5, 3, ignored=(0,)), hparams={"weight": CLASS_WEIGHTS}),
            Case("all_ignored", _logits(5, 3, ignored=range(5)), oracles=("torch", "jax"),
                 why="no counted target: 'mean' is 0/0 = NaN as in PyTorch, with a zero gradient; "
                     "finite differences of a NaN loss are meaningless"),
            Case("smoothing_mean", _logits(5, 3), hparams={"label_smoothing": 0.1}),
            Case("smoothing_weights_ignore", _logits(5, 3, ignored=(2,)),
                 hparams={"label_smoothing": 0.2, "weight": CLASS_WEIGHTS},
                 why="smoothing with weights: both terms share the denominator sum of w_{t_n}"),
            Case("probs_weights_smoothing", _logits(5, 3, "probs"),
                 hparams={"label_smoothing": 0.2, "weight": CLASS_WEIGHTS},
                 why="probability targets: weighted, smoothed, and 'mean' still divides by N"),
            Case("probs_none", _logits(5, 3, "probs"), hparams={"reduction": "none"}),
        ],
        torch=_torch_cross_entropy,
        jax=_jax_cross_entropy,
        formulas={"forward": r"L = -\frac{1}{N}\sum_{n}\sum_{c} t_{nc} \log \frac{e^{x_{nc}}}{\sum_k e^{x_{nk}}}",
                  "backward": r"\frac{\partial L}{\partial x_{nc}} = \frac{1}{N}\,(y_{nc} - t_{nc})"},
        convention="PyTorch's cross_entropy. Targets are class indices or distributions (one-hot or "
                   "probabilities). With class indices, 'mean' divides by the summed class weights of the "
                   "targets that are not ignore_index (N without weights); with distributions it divides "
                   "by N. Label smoothing eps replaces the target by (1 - eps) T + eps / C and shares the "
                   "same denominator. A batch whose every label is ignore_index has no counted target: "
                   "'mean' is NaN (0/0, as PyTorch) and the gradient is 0; 'sum' is 0.",
        hints=batch_hint("x"),
    ),
    OpSpec(
        name="mse", family="loss", impl="MSE",
        cases=[
            Case("mean", _pair(4, 3)),
            Case("sum", _pair(4, 3), hparams={"reduction": "sum"}),
            Case("none", _pair(4, 3), hparams={"reduction": "none"}),
            Case("half_sum", _pair(4, 3), hparams={"reduction": "half_sum"},
                 why="the lecture notes' E = 1/2 sum (y - t)^2"),
            Case("vector", _pair(6), why="a single vector of outputs"),
        ],
        torch=_torch_mse,
        jax=_jax_mse,
        formulas={"forward": r"L = \frac{1}{K}\sum_k (y_k - t_k)^2 \quad\text{or}\quad E = \frac{1}{2}\sum_k (y_k - t_k)^2",
                  "backward": r"\frac{\partial L}{\partial y_k} = \frac{2}{K}(y_k - t_k) \quad\text{or}\quad "
                              r"\frac{\partial E}{\partial y_k} = y_k - t_k"},
        convention="reduction='mean' is PyTorch's mse_loss (mean over all K elements); "
                   "'half_sum' is the seeds' E = 1/2 sum (y - t)^2.",
        hints=lambda d, hp: {"batch_size": d.inputs["y"].shape[0]},
    ),
]
